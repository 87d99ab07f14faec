"""The pod timeline: ordered-creation evidence and the per-pod segments the report draws."""

from __future__ import annotations

from datetime import timedelta

from harness.timeline import LISTED, PodEvent, creation_order, lanes
from tests.harness.timelines import T0, Script, ordered_creation

NAMES = ["zk-0", "zk-1", "zk-2"]


def test_ordered_creation_is_accepted_with_evidence() -> None:
    order = creation_order(ordered_creation(NAMES), NAMES)
    assert order.ok
    assert order.observed
    assert len(order.evidence) == 3
    assert "zk-1" in order.evidence[1] and "created #5" in order.evidence[1]


def test_a_pod_created_before_its_predecessor_is_ready_is_a_problem() -> None:
    script = Script()
    script.add(0, "ADDED", "zk-0", "pending").add(1, "MODIFIED", "zk-0", "running")
    script.add(2, "ADDED", "zk-1", "pending")  # zk-0 is Running but not Ready yet
    script.add(3, "MODIFIED", "zk-0", "ready").add(4, "MODIFIED", "zk-1", "ready")
    order = creation_order(script.events, ["zk-0", "zk-1"])
    assert not order.ok
    assert order.problems == (
        "zk-1 was created at #3 (10:00:02.000), before zk-0 was Running and Ready at "
        "#4 (10:00:03.000)",
    )


def test_a_predecessor_that_never_got_ready_is_a_problem() -> None:
    script = Script()
    script.add(0, "ADDED", "zk-0", "pending").add(1, "MODIFIED", "zk-0", "error")
    script.add(2, "ADDED", "zk-1", "pending")
    order = creation_order(script.events, ["zk-0", "zk-1"])
    assert order.problems == ("zk-1 was created while zk-0 had not been Running and Ready",)


def test_created_before_ready_event_names_both_times() -> None:
    script = Script()
    script.add(0, "ADDED", "zk-0", "pending")
    script.add(1, "MODIFIED", "zk-0", "ready", uid="old")  # an earlier incarnation was ready
    script.add(2, "ADDED", "zk-0", "pending", uid="new")
    script.add(3, "ADDED", "zk-1", "pending")
    script.add(4, "MODIFIED", "zk-0", "ready", uid="new")
    order = creation_order(script.events, ["zk-0", "zk-1"])
    assert len(order.problems) == 1
    assert "before zk-0 was Running and Ready at #5" in order.problems[0]


def test_pods_that_existed_before_the_watch_are_not_observed() -> None:
    script = Script()
    for name in NAMES:
        script.add(0, LISTED, name, "ready")
    order = creation_order(script.events, NAMES)
    assert not order.observed
    assert not order.ok


def test_lanes_cut_states_into_segments_and_gaps() -> None:
    script = Script()
    script.add(0, LISTED, "zk-0", "ready").add(0, LISTED, "zk-10", "ready")
    script.add(5, "MODIFIED", "zk-0", "terminating").add(6, "DELETED", "zk-0", "terminating")
    script.add(8, "ADDED", "zk-0", "pending").add(9, "MODIFIED", "zk-0", "ready")
    result = lanes(script.events, T0, T0 + timedelta(seconds=20))
    assert list(result) == ["zk-0", "zk-10"]  # natural order, not "zk-0", "zk-10" by luck
    zk0 = result["zk-0"]
    assert [(s.start, s.end, s.status) for s in zk0] == [
        (0.0, 5.0, "Running"),
        (5.0, 6.0, "Terminating"),
        (8.0, 9.0, "Pending"),
        (9.0, 20.0, "Running"),
    ]
    assert zk0[0].ready == "1/1"
    assert result["zk-10"][0].end == 20.0


def test_events_after_the_window_are_left_out() -> None:
    events = ordered_creation(NAMES)
    result = lanes(events, T0, T0 + timedelta(seconds=15))
    assert "zk-2" not in result
    assert result["zk-1"][-1].end == 15.0


def test_event_survives_a_round_trip_through_json() -> None:
    event = ordered_creation(["zk-0"])[-1]
    again = PodEvent.from_dict(event.as_dict())
    assert again.pod == event.pod
    assert again.row() == event.row()
