"""One self-contained HTML page per run, drawn from the run's JSON document.

No external assets: inline CSS, inline SVG. For the deployment and each drill it shows the
outcome, the steps (duration, pods when the step ended, ZooKeeper checks, commands) and the
pod timeline as a picture: one lane per pod, a coloured segment per kubectl state
(READY/STATUS/RESTARTS), dashed lines where steps begin. The raw ``kubectl get pods -w``
style rows are there too, folded.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from typing import Any

from harness.timeline import PodEvent, Segment, lanes

LABEL_W = 70
DRAW_W = 1000
LANE_H = 24
LANE_GAP = 8
TOP = 30  # pod lanes start here; the steps strip sits above them
STRIP_Y = 4
STRIP_H = 18
STEP_COLORS = {"passed": "#cfe8d5", "failed": "#f4c7c7", "skipped": "#e3e3e3"}
COLORS = {
    "ready": "#2e9d4e",
    "running": "#e0a526",
    "starting": "#8fa3bf",
    "terminating": "#8e63b5",
    "failed": "#d64545",
    "done": "#9e9e9e",
}
ROLE_COLORS = {"leader": "#1f4e9e", "follower": "#7fa7e0", "standalone": "#1f4e9e"}
ROLE_OTHER = "#f0d060"  # looking, not serving
ROLE_DOWN = "#c9c9c9"  # down, unreachable
WRITE_COLORS = {"ok": "#2e9d4e", "fail": "#d64545", "info": "#e0a526", "pending": "#e0a526"}
LEGEND = (
    ("ready", "Running, Ready"),
    ("running", "Running, not Ready"),
    ("starting", "Pending / ContainerCreating"),
    ("terminating", "Terminating"),
    ("failed", "Error / CrashLoopBackOff / other"),
)
_CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 6px}
.meta{color:#555}.badge{display:inline-block;padding:1px 8px;border-radius:10px;color:#fff;
font-size:12px;margin-right:6px}.passed{background:#2e9d4e}.failed,.error{background:#d64545}
.skipped{background:#9e9e9e}.running{background:#e0a526}
table{border-collapse:collapse;width:100%;margin:6px 0}td,th{border:1px solid #ddd;
padding:3px 6px;vertical-align:top;text-align:left;font-size:12.5px}th{background:#f3f3f3}
.pods{white-space:nowrap}
pre{background:#f7f7f7;padding:6px;white-space:pre-wrap;font-size:12px;margin:4px 0}
.msg{background:#fdecec;border-left:4px solid #d64545;white-space:pre-wrap}
.ok{color:#1d7a3a}.bad{color:#c62828;font-weight:600}
svg text{font:11px system-ui,sans-serif}
"""


def render(data: dict[str, Any]) -> str:
    """The whole page for one run's JSON document (``RunRecord.as_dict()``)."""
    run = data["run"]
    outcomes = ", ".join(f"{n} {k}" for k, n in sorted(run.get("outcomes", {}).items()))
    parts = [
        "<!DOCTYPE html><html><head><meta charset='utf-8'>",
        f"<title>zkdrill {escape(run['id'])}</title><style>{_CSS}</style></head><body>",
        f"<h1>zkdrill run {escape(run['id'])}</h1>",
        f"<div class='meta'>{escape(run['started'])} &middot; {run['duration']:.1f}s &middot; "
        f"{escape(outcomes or 'no drills')} &middot; exit status {run.get('exit_status')}</div>",
        f"<div class='meta'>cluster: {escape(_cluster_line(data['cluster']))}</div>",
        _settings_table(data["settings"]),
    ]
    if data.get("setup"):
        parts.append(_drill(data["setup"], "session setup"))
    parts.extend(_drill(d) for d in data["drills"])
    if data.get("teardown"):
        parts.append("<h2>teardown</h2><pre>" + escape("\n".join(data["teardown"])) + "</pre>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _cluster_line(cluster: dict[str, Any]) -> str:
    parts = [cluster.get("api") or "-", cluster.get("localkube") or ""]
    return " · ".join(p for p in parts if p)


def _settings_table(settings: dict[str, Any]) -> str:
    origins = settings.get("origins", {})
    rows = "".join(
        f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td>"
        f"<td>{escape(origins.get(k, origins.get('timeout_' + k, '')))}</td></tr>"
        for k, v in settings.items()
        if k != "origins"
    )
    return f"<details><summary>settings</summary><table>{rows}</table></details>"


def _drill(drill: dict[str, Any], title: str | None = None) -> str:
    outcome = drill["outcome"]
    head = (
        f"<h2><span class='badge {escape(outcome)}'>{escape(outcome)}</span>"
        f"{escape(title or drill['name'])}</h2>"
        f"<div class='meta'>{escape(drill['nodeid'])} &middot; {drill['duration']:.1f}s</div>"
    )
    message = f"<pre class='msg'>{escape(drill['message'])}</pre>" if drill.get("message") else ""
    events = [PodEvent.from_dict(e) for e in drill.get("timeline", [])]
    start = datetime.fromisoformat(drill["started"])
    end = datetime.fromisoformat(drill["ended"])
    picture = timeline_svg(events, start, end, drill["steps"], drill.get("lanes") or {})
    notes = "".join(f"<div class='meta'>{escape(n)}</div>" for n in drill.get("notes", []))
    rows = "\n".join(e.row() for e in events)
    folded = (
        f"<details><summary>pod timeline ({len(events)} events, kubectl get pods -w)</summary>"
        f"<pre>{escape(rows)}</pre></details>"
    )
    return head + message + picture + _steps_table(drill["steps"]) + notes + folded


def _steps_table(steps: list[dict[str, Any]]) -> str:
    if not steps:
        return ""
    rows = []
    for s in steps:
        pods = "<br>".join(escape(p["row"]) for p in s.get("pods", []))
        checks = "<br>".join(
            f"<span class='{'ok' if c['ok'] else 'bad'}'>{'&#10003;' if c['ok'] else '&#10007;'}"
            f"</span> {escape(c['name'])}: {escape(_short(c['detail']))}"
            for c in s.get("zookeeper_checks", [])
        )
        commands = "<br>".join(escape(_short(c, 160)) for c in s.get("commands", []))
        message = f"<div class='bad'>{escape(s['message'])}</div>" if s.get("message") else ""
        rows.append(
            f"<tr><td>{s['index']}</td><td>{escape(s['name'])}{message}</td>"
            f"<td><span class='badge {escape(s['outcome'])}'>{escape(s['outcome'])}</span></td>"
            f"<td>{s['duration']:.2f}s</td><td class='pods'>{pods}</td>"
            f"<td>{checks}</td><td>{commands}</td></tr>"
        )
    return (
        "<table><tr><th>#</th><th>step</th><th>outcome</th><th>time</th><th>pods at end</th>"
        "<th>ZooKeeper checks</th><th>commands</th></tr>" + "".join(rows) + "</table>"
    )


def timeline_svg(
    events: list[PodEvent], start: datetime, end: datetime, steps: list[dict[str, Any]],
    extra: dict[str, list[Any]] | None = None,
) -> str:
    """The pod-state picture: one lane per pod, step boundaries dashed; with the workload,
    a lane of its writes (acknowledged, failed, indeterminate) and one of each server's
    role (leader, follower, looking, down) below."""
    by_pod = lanes(events, start, end)
    extra = extra or {}
    writes, roles = extra.get("writes") or [], extra.get("roles") or []
    role_pods = sorted({pod for _, pod, _ in roles})
    extra_lanes = (1 if writes else 0) + len(role_pods)
    span = max((end - start).total_seconds(), 0.001)
    bottom = TOP + (max(len(by_pod), 1) + extra_lanes) * (LANE_H + LANE_GAP)
    height = bottom + 38 + (16 if extra_lanes else 0)
    width = LABEL_W + DRAW_W + 10

    def x(offset: float) -> float:
        return LABEL_W + DRAW_W * min(max(offset, 0.0), span) / span

    out = [
        f"<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{height}' "
        f"viewBox='0 0 {width} {height}' role='img' aria-label='pod timeline'>",
        f"<rect x='0' y='0' width='{width}' height='{height}' fill='#fff'/>",
    ]
    out += _axis(span, x, bottom)
    out.append(f"<text x='4' y='{STRIP_Y + 13}' fill='#555'>steps</text>")
    for step in steps:
        out.append(_step_mark(step, start, end, x, bottom))
    for lane, (pod, segments) in enumerate(by_pod.items()):
        y = TOP + lane * (LANE_H + LANE_GAP)
        out.append(
            f"<g class='lane' data-pod='{escape(pod)}'>"
            f"<text x='4' y='{y + LANE_H * 0.68:.1f}' font-weight='600'>{escape(pod)}</text>"
            f"<line x1='{LABEL_W}' y1='{y + LANE_H / 2}' x2='{LABEL_W + DRAW_W}' "
            f"y2='{y + LANE_H / 2}' stroke='#e5e5e5'/>"
        )
        out += [_segment(seg, x, y) for seg in segments]
        out.append("</g>")
    lane = max(len(by_pod), 1)
    if writes:
        out.append(_writes_lane(writes, x, TOP + lane * (LANE_H + LANE_GAP)))
        lane += 1
    for pod in role_pods:
        changes = [(at, mode) for at, who, mode in roles if who == pod]
        out.append(_role_lane(pod, changes, span, x, TOP + lane * (LANE_H + LANE_GAP)))
        lane += 1
    rows = [[(COLORS[key], text) for key, text in LEGEND]]
    if extra_lanes:
        rows.append([(WRITE_COLORS["ok"], "write acknowledged"), (WRITE_COLORS["fail"], "failed"),
                     (WRITE_COLORS["info"], "indeterminate"), (ROLE_COLORS["leader"], "leader"),
                     (ROLE_COLORS["follower"], "follower"), (ROLE_OTHER, "looking / not serving"),
                     (ROLE_DOWN, "down")])
    for row, keys in enumerate(rows):
        legend_y, lx = height - 6 - 16 * (len(rows) - 1 - row), LABEL_W
        for fill, text in keys:
            out.append(
                f"<rect x='{lx}' y='{legend_y - 9}' width='12' height='10' fill='{fill}'/>"
                f"<text x='{lx + 16}' y='{legend_y}'>{escape(text)}</text>"
            )
            lx += 26 + 7 * len(text)
    out.append("</svg>")
    return "".join(out)


def _writes_lane(writes: list[Any], x: Any, y: float) -> str:
    """One tick per finished write: green acknowledged, red failed, amber indeterminate."""
    ticks = "".join(
        f"<line class='write {escape(str(outcome))}' x1='{x(at):.1f}' x2='{x(at):.1f}' "
        f"y1='{y + (2 if outcome == 'ok' else LANE_H / 2)}' "
        f"y2='{y + (LANE_H / 2 if outcome == 'ok' else LANE_H - 2)}' "
        f"stroke='{WRITE_COLORS.get(str(outcome), '#888')}' stroke-width='1'/>"
        for at, outcome in writes)
    ok = sum(1 for _, outcome in writes if outcome == "ok")
    return (f"<g class='lane writes'><text x='4' y='{y + LANE_H * 0.68:.1f}' "
            f"font-weight='600'>writes</text>"
            f"<title>{ok} acknowledged, {len(writes) - ok} failed or indeterminate</title>"
            f"{ticks}</g>")


def _role_lane(pod: str, changes: list[tuple[float, str]], span: float, x: Any, y: float
               ) -> str:
    """A segment per role the server held: leader dark, follower light, looking amber."""
    out = [f"<g class='lane roles' data-pod='{escape(pod)}'>"
           f"<text x='4' y='{y + LANE_H * 0.68:.1f}'>{escape(pod)} role</text>"]
    for i, (at, mode) in enumerate(changes):
        until = changes[i + 1][0] if i + 1 < len(changes) else span
        x0, x1 = x(at), x(until)
        down = mode in ("down", "unreachable", "unknown")
        fill = ROLE_COLORS.get(mode, ROLE_DOWN if down else ROLE_OTHER)
        label = f"{mode} from +{at:.1f}s to +{until:.1f}s"
        text = (f"<text x='{x0 + 4:.1f}' y='{y + LANE_H * 0.68:.1f}' fill='#fff'>"
                f"{escape(mode)}</text>") if x1 - x0 > 7 * len(mode) + 8 else ""
        out.append(f"<rect class='role {escape(mode)}' x='{x0:.1f}' y='{y + 4}' "
                   f"width='{max(x1 - x0, 1.0):.1f}' height='{LANE_H - 8}' fill='{fill}'>"
                   f"<title>{escape(label)}</title></rect>{text}")
    out.append("</g>")
    return "".join(out)


def _step_mark(step: dict[str, Any], start: datetime, end: datetime, x: Any, bottom: int) -> str:
    """A dashed line where the step began, and its box (number, outcome colour) in the strip."""
    began = (datetime.fromisoformat(step["started"]) - start).total_seconds()
    ended_at = datetime.fromisoformat(step["ended"]) if step.get("ended") else end
    x0, x1 = x(began), x((ended_at - start).total_seconds())
    w = max(x1 - x0, 1.5)
    fill = STEP_COLORS.get(step["outcome"], "#f3e2b3")
    label = f"{step['index']}. {step['name']}: {step['outcome']} in {step['duration']:.2f}s"
    number = ""
    if w >= 14:
        number = (
            f"<text x='{x0 + w / 2:.1f}' y='{STRIP_Y + 13}' text-anchor='middle' fill='#333'>"
            f"{step['index']}</text>"
        )
    return (
        f"<line x1='{x0:.1f}' y1='{STRIP_Y}' x2='{x0:.1f}' y2='{bottom}' stroke='#888' "
        "stroke-dasharray='3,3' class='step-boundary'/>"
        f"<rect class='step {escape(step['outcome'])}' x='{x0:.1f}' y='{STRIP_Y}' "
        f"width='{w:.1f}' height='{STRIP_H}' fill='{fill}' stroke='#fff'>"
        f"<title>{escape(label)}</title></rect>{number}"
    )


def state_class(segment: Segment) -> str:
    status = segment.status
    if status == "Terminating":
        return "terminating"
    if status == "Running":
        ready, _, total = segment.ready.partition("/")
        return "ready" if ready == total and total != "0" else "running"
    if status in ("Pending", "ContainerCreating", "PodInitializing") or status.startswith("Init:"):
        return "starting"
    if status == "Completed":
        return "done"
    return "failed"


def _segment(seg: Segment, x: Any, y: float) -> str:
    x0, x1 = x(seg.start), x(seg.end)
    w = max(x1 - x0, 1.0)
    kind = state_class(seg)
    label = f"{seg.ready} {seg.status}" + (f" ({seg.restarts})" if seg.restarts else "")
    text = ""
    if w > 7 * len(label):
        text = (
            f"<text x='{x0 + 4:.1f}' y='{y + LANE_H * 0.68:.1f}' fill='#fff'>{escape(label)}</text>"
        )
    return (
        f"<rect class='seg {kind}' x='{x0:.1f}' y='{y}' width='{w:.1f}' height='{LANE_H}' "
        f"fill='{COLORS[kind]}' stroke='#fff' stroke-width='0.5'>"
        f"<title>{escape(label)} from +{seg.start:.1f}s to +{seg.end:.1f}s</title></rect>{text}"
    )


def _axis(span: float, x: Any, bottom: int) -> list[str]:
    tick = next((t for t in (0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600) if span / t <= 12), 1200)
    out = []
    t = 0.0
    while t <= span + 1e-9:
        tx = x(t)
        out.append(
            f"<line x1='{tx:.1f}' y1='{TOP - 4}' x2='{tx:.1f}' y2='{bottom}' stroke='#eee'/>"
            f"<text x='{tx:.1f}' y='{bottom + 10}' fill='#777' text-anchor='middle'>{t:g}s</text>"
        )
        t += tick
    return out


def _short(text: str, limit: int = 120) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
