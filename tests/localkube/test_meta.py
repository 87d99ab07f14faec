"""Metadata helpers: timestamps, kubectl's human durations, owner references, JSON values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from localkube.apimachinery.meta import (
    controller_of,
    deep_copy,
    format_micro_time,
    format_rfc3339,
    format_time,
    get_in,
    human_age,
    human_duration,
    is_controlled_by,
    json_equal,
    new_controller_ref,
    new_uid,
    now_rfc3339,
    now_rfc3339_micro,
    owner_references,
    parse_rfc3339,
    short_human_duration,
    split_api_version,
    to_datetime,
    translate_timestamp_since,
)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "<invalid>"),
        (-2, "<invalid>"),
        (-1.9, "0s"),
        (-0.5, "0s"),
        (0, "0s"),
        (45, "45s"),
        (119, "119s"),
        (120, "2m"),
        (303, "5m3s"),
        (599, "9m59s"),
        (600, "10m"),
        (601, "10m"),
        (179 * 60 + 59, "179m"),
        (3 * 3600, "3h"),
        (2 * 3600 + 10 * 60, "130m"),  # under 3h kubectl still counts minutes
        (3 * 3600 + 10 * 60, "3h10m"),
        (7 * 3600 + 59 * 60, "7h59m"),
        (8 * 3600, "8h"),
        (47 * 3600 + 3599, "47h"),
        (48 * 3600, "2d"),
        (3 * 86400 + 4 * 3600, "3d4h"),
        (7 * 86400 + 23 * 3600, "7d23h"),
        (8 * 86400, "8d"),
        (400 * 86400, "400d"),
        (729 * 86400, "729d"),
        (730 * 86400, "2y"),
        (765 * 86400, "2y35d"),
        (8 * 365 * 86400, "8y"),
        (20 * 365 * 86400 + 5 * 86400, "20y"),
    ],
)
def test_human_duration_matches_kubectl(seconds: float, text: str) -> None:
    assert human_duration(seconds) == text
    assert human_age(timedelta(seconds=seconds)) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-3, "<invalid>"),
        (-1, "0s"),
        (59, "59s"),
        (60, "1m"),
        (3599, "59m"),
        (3600, "1h"),
        (86400, "1d"),
        (400 * 86400, "1y"),
    ],
)
def test_short_human_duration(seconds: int, text: str) -> None:
    assert short_human_duration(seconds) == text


@given(st.integers(min_value=0, max_value=100 * 365 * 86400))
def test_human_duration_is_short_and_well_formed(seconds: int) -> None:
    text = human_duration(seconds)
    assert 2 <= len(text) <= 8
    assert text[-1] in "smhdy"
    assert text[0].isdigit()


def test_rfc3339_formatting_and_parsing() -> None:
    dt = datetime(2024, 5, 1, 10, 0, 3, 123456, tzinfo=UTC)
    assert format_rfc3339(dt) == "2024-05-01T10:00:03Z"
    assert format_rfc3339(dt, micro=True) == "2024-05-01T10:00:03.123456Z"
    assert parse_rfc3339("2024-05-01T10:00:03Z") == dt.replace(microsecond=0)
    assert parse_rfc3339("2024-05-01T12:00:03.123456789+02:00") == dt
    assert parse_rfc3339("2024-05-01t10:00:03.5z").microsecond == 500000
    local = datetime(2024, 5, 1, 12, 0, 3, tzinfo=timezone(timedelta(hours=2)))
    assert format_rfc3339(local) == "2024-05-01T10:00:03Z"
    assert format_time(0) == "1970-01-01T00:00:00Z"
    assert format_micro_time(1.5) == "1970-01-01T00:00:01.500000Z"
    for bad in ("2024-05-01", "yesterday", "2024-05-01 10:00:00Z"):
        with pytest.raises(ValueError):
            parse_rfc3339(bad)


def test_now_helpers() -> None:
    fixed = datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC)
    assert now_rfc3339(fixed) == "2024-01-02T03:04:05Z"
    assert now_rfc3339_micro(fixed) == "2024-01-02T03:04:05.000006Z"
    stamp = now_rfc3339()
    assert stamp.endswith("Z") and len(stamp) == 20
    assert abs((datetime.now(UTC) - parse_rfc3339(stamp)).total_seconds()) < 5


def test_to_datetime_variants() -> None:
    assert to_datetime(0) == datetime(1970, 1, 1, tzinfo=UTC)
    assert to_datetime("1970-01-01T00:00:10Z") == datetime(1970, 1, 1, 0, 0, 10, tzinfo=UTC)
    naive = datetime(2020, 1, 1)
    assert to_datetime(naive).tzinfo is UTC


def test_translate_timestamp_since() -> None:
    now = "2024-01-01T01:00:00Z"
    assert translate_timestamp_since("2024-01-01T00:54:57Z", now) == "5m3s"
    assert translate_timestamp_since(None, now) == "<unknown>"
    assert translate_timestamp_since("", now) == "<unknown>"
    assert translate_timestamp_since("garbage", now) == "<unknown>"
    assert translate_timestamp_since("2024-01-01T01:00:01Z", now) == "0s"  # small skew


STS = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "zk", "uid": "u-1"}}


def test_owner_references() -> None:
    ref = new_controller_ref(STS)
    assert ref == {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "name": "zk",
        "uid": "u-1",
        "controller": True,
        "blockOwnerDeletion": True,
    }
    pod = {"metadata": {"ownerReferences": [{"uid": "x", "name": "other"}, ref]}}
    assert controller_of(pod) == ref
    assert is_controlled_by(pod, STS)
    assert not is_controlled_by(pod, {"metadata": {"uid": "u-2"}})
    assert controller_of({"metadata": {}}) is None
    assert owner_references({}) == []
    assert not is_controlled_by({"metadata": {"ownerReferences": [{"uid": "u-1"}]}}, STS)
    assert new_controller_ref({}, "v1", "Pod")["kind"] == "Pod"


def test_split_api_version_and_uid() -> None:
    assert split_api_version("apps/v1") == ("apps", "v1")
    assert split_api_version("v1") == ("", "v1")
    uid = new_uid()
    assert len(uid) == 36 and uid != new_uid()


def test_deep_copy_shares_nothing() -> None:
    src = {"a": [1, {"b": [2]}], "c": (3, 4)}
    dup = deep_copy(src)
    dup["a"][1]["b"].append(5)
    assert src["a"][1]["b"] == [2]
    assert dup["c"] == [3, 4]


def test_json_equal() -> None:
    assert json_equal({"a": [1, 2.0]}, {"a": [1.0, 2]})
    assert not json_equal(True, 1)
    assert not json_equal(1, True)
    assert json_equal(False, False)
    assert not json_equal({"a": 1}, {"a": 1, "b": None})
    assert not json_equal([1], [1, 2])
    assert not json_equal("1", 1)
    assert json_equal(None, None)


def test_get_in() -> None:
    obj = {"spec": {"containers": [{"name": "zk"}], "empty": None}}
    assert get_in(obj, "spec", "containers", 0, "name") == "zk"
    assert get_in(obj, "spec", "containers", 3, "name", default="-") == "-"
    assert get_in(obj, "spec", "empty", "x", default=1) == 1
    assert get_in(obj, "status", "phase") is None


_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5)),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=10,
)


@given(_json)
def test_deep_copy_is_json_equal(value: object) -> None:
    assert json_equal(deep_copy(value), value)
