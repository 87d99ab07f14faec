"""CRI log files: writing, and reading with the pods/log options (no processes needed)."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import pytest

from localkube.runtime import LogNotFoundError, LogOptions, find_log, follow_log, read_log
from localkube.runtime.logs import MAX_RECORD, CriLogWriter, parse_record, rfc3339nano

RECORD = re.compile(rb"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z (stdout|stderr) [FP] ")


def write(path: Path, *chunks: tuple[str, bytes]) -> None:
    writer = CriLogWriter(path)
    for stream, data in chunks:
        writer.write(stream, data)
    writer.close()


def test_records_are_in_cri_format(tmp_path: Path) -> None:
    log = tmp_path / "0.log"
    write(log, ("stdout", b"one\ntw"), ("stderr", b"oops\n"), ("stdout", b"o\nthree"))
    lines = log.read_bytes().splitlines()
    assert all(RECORD.match(line) for line in lines)
    assert [line.split(b" ", 3)[1:] for line in lines] == [
        [b"stdout", b"F", b"one"],
        [b"stderr", b"F", b"oops"],
        [b"stdout", b"F", b"two"],
        [b"stdout", b"F", b"three"],
    ]


def test_long_lines_are_split_into_partial_records(tmp_path: Path) -> None:
    log = tmp_path / "0.log"
    write(log, ("stdout", b"x" * (MAX_RECORD + 10) + b"\n"))
    tags = [line.split(b" ")[2] for line in log.read_bytes().splitlines()]
    assert tags == [b"P", b"F"]
    assert read_log(log) == b"x" * (MAX_RECORD + 10) + b"\n"


def test_timestamps_drop_trailing_zeros_like_go() -> None:
    assert rfc3339nano(1_700_000_000_120_000_000) == "2023-11-14T22:13:20.12Z"
    assert rfc3339nano(1_700_000_000_000_000_000) == "2023-11-14T22:13:20Z"
    record = parse_record(b"2023-11-14T22:13:20.12Z stdout F hi")
    assert record is not None and record.time_ns == 1_700_000_000_120_000_000


def test_tail_timestamps_and_limit_bytes(tmp_path: Path) -> None:
    log = tmp_path / "0.log"
    write(log, ("stdout", b"".join(b"line %d\n" % i for i in range(10))))
    assert read_log(log, LogOptions(tail_lines=2)) == b"line 8\nline 9\n"
    assert read_log(log, LogOptions(tail_lines=0)) == b""
    stamped = read_log(log, LogOptions(tail_lines=1, timestamps=True))
    assert re.fullmatch(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line 9\n", stamped)
    assert read_log(log, LogOptions(limit_bytes=10)) == b"line 0\nlin"


def test_since_filters_by_record_time(tmp_path: Path) -> None:
    log = tmp_path / "0.log"
    old = rfc3339nano(time.time_ns() - 3600 * 10**9)
    log.write_bytes(f"{old} stdout F old\n".encode())
    write(log, ("stdout", b"new\n"))
    assert read_log(log, LogOptions(since_seconds=60)) == b"new\n"
    assert read_log(log, LogOptions(since_time="1970-01-01T00:00:00Z")) == b"old\nnew\n"


def test_previous_instance_and_missing_logs(tmp_path: Path) -> None:
    logs = tmp_path / "zk"
    write(logs / "0.log", ("stdout", b"first\n"))
    write(logs / "1.log", ("stdout", b"second\n"))
    assert read_log(find_log(logs)) == b"second\n"
    assert read_log(find_log(logs, previous=True)) == b"first\n"
    with pytest.raises(LogNotFoundError):
        find_log(tmp_path / "none")
    with pytest.raises(LogNotFoundError):
        find_log(logs / "..", previous=True)


def test_follow_yields_new_records_and_ends_with_the_instance(tmp_path: Path) -> None:
    log = tmp_path / "0.log"
    writer = CriLogWriter(log)
    writer.write("stdout", b"a\nb\n")
    finished = False

    async def produce() -> None:
        nonlocal finished
        for line in (b"c\n", b"d\n"):
            await asyncio.sleep(0.05)
            writer.write("stdout", line)
        writer.close()
        finished = True

    async def consume() -> bytes:
        out = b""
        async for chunk in follow_log(
            log, LogOptions(tail_lines=1), lambda: finished, poll_interval=0.01
        ):
            out += chunk
        return out

    async def main() -> bytes:
        task = asyncio.create_task(produce())
        out = await asyncio.wait_for(consume(), 10)
        await task
        return out

    assert asyncio.run(main()) == b"b\nc\nd\n"
