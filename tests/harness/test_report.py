"""The run record and its files: step recording, JUnit properties, JSON content, HTML picture."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest

from harness.report import SCHEMA, RunRecord, write_reports
from harness.report_html import render
from harness.settings import Settings
from harness.steps import DrillRecord, DrillRecorder
from harness.timeline import PodEvent
from tests.harness.timelines import T0, ordered_creation, snapshot

NAMES = ["zk-0", "zk-1", "zk-2"]


class FakePods:
    """A ``PodView``: the recorder reads pods and the last event number from it."""

    def __init__(self, events: list[PodEvent]) -> None:
        self._events = events

    def current(self) -> dict:
        return {e.pod.name: e.pod for e in self._events}

    def events(self, since: int = 0) -> list[PodEvent]:
        return [e for e in self._events if e.seq > since]

    @property
    def last_seq(self) -> int:
        return self._events[-1].seq if self._events else 0


def recorded_drill() -> tuple[DrillRecord, list[tuple[str, object]]]:
    """A drill with a passed step (one ZooKeeper check) and a failed one."""
    properties: list[tuple[str, object]] = []
    record = DrillRecord("scenarios/test_x.py::test_y", "test_y", ["durability"], started=T0)
    recorder = DrillRecorder(record, add_property=lambda k, v: properties.append((k, v)))
    events = ordered_creation(NAMES)
    recorder.pods = FakePods(events)
    with recorder("write /hello = world through zk-0"):
        recorder.note("write /hello through zk-0", True, "b'world'")
        recorder.command("zk-0$ hostname -> exit 0: zk-0")
    with pytest.raises(AssertionError), recorder("read /hello through zk-2"):
        recorder.note("read /hello on zk-2", False, "None")
        raise AssertionError("zk-2 serves /hello = no such znode\nmore detail")
    record.events = events
    record.ended = T0 + timedelta(seconds=40)
    record.steps[0].started = T0 + timedelta(seconds=2)
    record.steps[1].started = T0 + timedelta(seconds=25)
    record.outcome, record.message = "failed", "zk-2 serves /hello = no such znode"
    return record, properties


def test_steps_record_outcome_pods_checks_and_commands() -> None:
    record, _ = recorded_drill()
    first, second = record.steps
    assert (first.index, first.outcome, first.message) == (1, "passed", "")
    assert [c.name for c in first.checks] == ["write /hello through zk-0"]
    assert first.commands == ["zk-0$ hostname -> exit 0: zk-0"]
    assert [p.row() for p in first.pods] == [
        "zk-0 1/1 Running 0",
        "zk-1 1/1 Running 0",
        "zk-2 1/1 Running 0",
    ]
    assert second.outcome == "failed"
    assert second.message == "AssertionError: zk-2 serves /hello = no such znode"
    assert first.last_seq == 12 and first.ended is not None


def test_each_step_becomes_junit_properties() -> None:
    _, properties = recorded_drill()
    keys = [k for k, _ in properties]
    assert keys == [
        "step.01",
        "step.01.pods",
        "step.01.zookeeper",
        "step.02",
        "step.02.pods",
        "step.02.zookeeper",
    ]
    values = dict(properties)
    assert str(values["step.01"]).startswith("write /hello = world through zk-0: passed in ")
    assert "failed" in str(values["step.02"]) and "no such znode" in str(values["step.02"])
    assert values["step.02.zookeeper"] == "FAILED read /hello on zk-2: None"


def test_a_step_inside_a_step_is_refused() -> None:
    recorder = DrillRecorder(DrillRecord("n", "n", []))
    with (
        recorder("outer"),
        pytest.raises(RuntimeError, match="inside step 'outer'"),
        recorder("inner"),
    ):
        pass


def test_a_skip_inside_a_step_is_recorded_as_skipped() -> None:
    record = DrillRecord("n", "n", [])
    recorder = DrillRecorder(record)
    with pytest.raises(pytest.skip.Exception), recorder("look"):
        pytest.skip("not observed")
    assert record.steps[0].outcome == "skipped"
    assert record.steps[0].message == "not observed"


def written_run(tmp_path: Path) -> tuple[dict, str]:
    record, _ = recorded_drill()
    run = RunRecord(Settings(namespace="drills"), started=T0)
    run.cluster = "localkube https://127.0.0.1:1234"
    run.drills.append(record)
    run.ended, run.exit_status = T0 + timedelta(seconds=41), 1
    json_path, html_path = write_reports(run, tmp_path)
    assert json_path.name == "zkdrill-20240501-100000.json"
    assert html_path.name == "zkdrill-20240501-100000.html"
    return json.loads(json_path.read_text()), html_path.read_text()


def test_json_holds_settings_drills_steps_and_timeline(tmp_path: Path) -> None:
    data, _ = written_run(tmp_path)
    assert data["schema"] == SCHEMA
    assert data["run"]["outcomes"] == {"failed": 1}
    assert data["run"]["exit_status"] == 1
    assert data["settings"]["namespace"] == "drills"
    assert data["settings"]["timeouts"]["rollout"] == 900.0
    assert data["settings"]["manifest"].endswith("zookeeper.yaml")
    drill = data["drills"][0]
    assert (drill["name"], drill["outcome"], drill["markers"]) == (
        "test_y",
        "failed",
        ["durability"],
    )
    step = drill["steps"][1]
    assert set(step) >= {
        "name",
        "started",
        "ended",
        "duration",
        "outcome",
        "pods",
        "zookeeper_checks",
        "commands",
    }
    assert step["zookeeper_checks"][0] == {
        "name": "read /hello on zk-2",
        "ok": False,
        "detail": "None",
        "at": step["zookeeper_checks"][0]["at"],
    }
    assert step["pods"][0]["row"] == "zk-0 1/1 Running 0"
    assert len(drill["timeline"]) == 12
    assert drill["timeline"][0]["row"] == "zk-0 0/1 Pending 0"
    assert drill["timeline"][-1]["type"] == "MODIFIED"


def test_html_is_self_contained_with_one_lane_per_pod(tmp_path: Path) -> None:
    _, html = written_run(tmp_path)
    assert html.count("<svg") == 1
    lanes = re.findall(r"<g class='lane' data-pod='([^']+)'>", html)
    assert lanes == NAMES
    assert html.count("class='step-boundary'") == 2
    assert "fill='#2e9d4e'" in html  # a Running+Ready segment
    assert not re.search(r"<script|<link|src=|url\(", html)
    assert "zk-2 serves /hello = no such znode" in html


def test_html_colours_every_state_of_a_lane() -> None:
    events = [
        PodEvent(1, T0, 0.0, "ADDED", snapshot("zk-0", "creating")),
        PodEvent(2, T0 + timedelta(seconds=1), 1.0, "MODIFIED", snapshot("zk-0", "running")),
        PodEvent(3, T0 + timedelta(seconds=2), 2.0, "MODIFIED", snapshot("zk-0", "ready")),
        PodEvent(4, T0 + timedelta(seconds=3), 3.0, "MODIFIED", snapshot("zk-0", "terminating")),
        PodEvent(5, T0 + timedelta(seconds=4), 4.0, "MODIFIED", snapshot("zk-0", "error")),
    ]
    record = DrillRecord("n", "n", [], started=T0)
    record.events, record.ended = events, T0 + timedelta(seconds=5)
    run = RunRecord(Settings(), started=T0)
    run.drills.append(record)
    html = render(run.as_dict())
    kinds = re.findall(r"<rect class='seg (\w+)'", html)
    assert kinds == ["starting", "running", "ready", "terminating", "failed"]


def test_html_draws_the_write_and_role_lanes() -> None:
    record, _ = recorded_drill()
    record.lanes = {
        "writes": [[1.0, "ok"], [1.2, "ok"], [3.0, "info"], [3.1, "fail"]],
        "roles": [[0.5, "zk-0", "leader"], [0.5, "zk-1", "follower"], [3.0, "zk-0", "down"],
                  [3.4, "zk-1", "leader"]],
    }
    run = RunRecord(Settings(), drills=[record])
    html = render(run.as_dict())
    assert "class='lane writes'" in html and "2 acknowledged, 2 failed or indeterminate" in html
    assert len(re.findall(r"class='write ok'", html)) == 2
    assert "class='write info'" in html and "class='write fail'" in html
    assert re.findall(r"data-pod='(zk-\d)'>[^<]*<text[^>]*>zk-\d role", html) == ["zk-0", "zk-1"]
    assert "class='role leader'" in html and "class='role down'" in html
    assert "leader from +3.4s" in html


def test_summary_table_has_a_row_per_drill_with_the_workload() -> None:
    from harness.report import summary_table

    record, _ = recorded_drill()
    record.workload = {"acknowledged": 120, "failed": 3, "indeterminate": 1, "lost": 0,
                       "longest_gap": 0.42}
    lines = summary_table([record])
    assert lines[0].split()[:3] == ["drill", "outcome", "steps"]
    assert lines[1].split() == ["test_y", "failed", "2", "40.0s", "120/3/1", "0", "0.42s"]
