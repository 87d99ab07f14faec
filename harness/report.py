"""The run's record and its files: one JSON document and one HTML page per run.

``RunRecord`` collects the session's deployment and every drill (``DrillRecord``: steps with
pod snapshots and ZooKeeper checks, and the pod timeline). At session end the plugin writes
``<report-dir>/zkdrill-<timestamp>.json`` (schema ``zkdrill-report/1``) and the
self-contained ``.html`` beside it; pytest's JUnit XML goes to the same stem with ``.xml``,
carrying the per-step properties ``steps.DrillRecorder`` attached.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.settings import Settings
from harness.steps import DrillRecord, now

SCHEMA = "zkdrill-report/1"


def report_stem(started: datetime) -> str:
    """``zkdrill-20250101-120000``: the shared name of one run's XML, JSON and HTML files."""
    return f"zkdrill-{started:%Y%m%d-%H%M%S}"


@dataclass
class RunRecord:
    settings: Settings
    started: datetime = field(default_factory=now)
    ended: datetime | None = None
    cluster: str = ""
    localkube: str = ""
    exit_status: int | None = None
    setup: DrillRecord | None = None  # the session's deployment of the ensemble
    drills: list[DrillRecord] = field(default_factory=list)
    teardown: list[str] = field(default_factory=list)

    @property
    def stem(self) -> str:
        return report_stem(self.started)

    @property
    def has_content(self) -> bool:
        return self.setup is not None or bool(self.drills)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for drill in self.drills:
            out[drill.outcome] = out.get(drill.outcome, 0) + 1
        return out

    def as_dict(self) -> dict[str, Any]:
        end = self.ended or now()
        return {
            "schema": SCHEMA,
            "run": {
                "id": self.stem,
                "started": self.started.isoformat(),
                "ended": end.isoformat(),
                "duration": round((end - self.started).total_seconds(), 3),
                "exit_status": self.exit_status,
                "outcomes": self.counts(),
            },
            "cluster": {"api": self.cluster, "localkube": self.localkube},
            "settings": settings_dict(self.settings),
            "setup": self.setup.as_dict() if self.setup else None,
            "drills": [d.as_dict() for d in self.drills],
            "teardown": self.teardown,
        }


def settings_dict(settings: Settings) -> dict[str, Any]:
    """Every setting (paths as text) plus where each came from."""
    values: dict[str, Any] = {}
    for f in dataclasses.fields(settings):
        if f.name == "origins":
            continue
        value = getattr(settings, f.name)
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            value = dataclasses.asdict(value)
        values[f.name] = str(value) if isinstance(value, Path) else value
    values["origins"] = dict(settings.origins)
    return values


def write_reports(run: RunRecord, directory: Path) -> list[Path]:
    """Write the JSON and HTML files of ``run``; return their paths."""
    from harness.report_html import render

    directory.mkdir(parents=True, exist_ok=True)
    data = run.as_dict()
    json_path = directory / f"{run.stem}.json"
    json_path.write_text(json.dumps(data, indent=1, default=str) + "\n")
    html_path = directory / f"{run.stem}.html"
    html_path.write_text(render(data))
    return [json_path, html_path]


def summary_table(drills: list[DrillRecord]) -> list[str]:
    """The end-of-run table: one row per drill (outcome, steps, time, writes, lost, gap)."""
    head = ("drill", "outcome", "steps", "time", "writes ok/failed/unknown", "lost", "max gap")
    rows = [head]
    for d in drills:
        end = d.ended or now()
        w = d.workload
        writes = (f"{w['acknowledged']}/{w['failed']}/{w['indeterminate']}"
                  if "acknowledged" in w else "-")
        rows.append((d.name, d.outcome, str(len(d.steps)),
                     f"{(end - d.started).total_seconds():.1f}s", writes,
                     str(w.get("lost", "-")),
                     f"{w['longest_gap']:.2f}s" if "longest_gap" in w else "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip() for r in rows]
