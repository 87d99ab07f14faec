"""Container logs in the CRI format, written and read with kubelet's semantics.

File format (one record per line, as containerd writes it):
    <RFC3339Nano timestamp> <stdout|stderr> <F|P> <content>
`P` marks a fragment of a line longer than `MAX_RECORD` bytes, `F` the end of a line.
One file per container instance: `<pod logs>/<container>/<restart count>.log`; the
previous instance's file is kept so `previous=True` works.

Reading (`read_log`, `follow_log`) mirrors the kubelet's `pods/log` options: tailLines
counts records from the end, sinceSeconds/sinceTime filter by record time, timestamps
prefix each record with its time (fixed nine fractional digits, as kubelet prints),
limitBytes truncates the output. Following ends once the instance has exited and its
file is drained.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from localkube.runtime.errors import LogNotFoundError

MAX_RECORD = 16 * 1024
_RECORD = re.compile(rb"^(\S+) (stdout|stderr) ([FP]) ?(.*)$", re.DOTALL)


def rfc3339nano(ns: int | None = None) -> str:
    """Go's time.RFC3339Nano in UTC: trailing zeros of the fraction are dropped."""
    ns = time.time_ns() if ns is None else ns
    seconds, frac = divmod(ns, 1_000_000_000)
    base = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    fraction = f"{frac:09d}".rstrip("0")
    return f"{base}.{fraction}Z" if fraction else f"{base}Z"


def _fixed_nano(ns: int) -> str:
    seconds, frac = divmod(ns, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{frac:09d}Z"


def parse_rfc3339(text: str) -> int:
    """Nanoseconds since the epoch of an RFC3339(Nano) timestamp."""
    match = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)", text)
    if not match:
        raise ValueError(f"not an RFC3339 timestamp: {text!r}")
    base, frac, zone = match.groups()
    zone = "+00:00" if zone == "Z" else zone
    dt = datetime.fromisoformat(base + zone)
    return int(dt.timestamp()) * 1_000_000_000 + int((frac or "0").ljust(9, "0"))


class CriLogWriter:
    """Appends a container's stdout/stderr to its log file, one record per line."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: BinaryIO | None = open(path, "ab")  # noqa: SIM115 - closed by close()
        self._pending: dict[str, bytes] = {"stdout": b"", "stderr": b""}

    def write(self, stream: str, data: bytes) -> None:
        """Record a chunk of output; complete lines are written immediately."""
        if self._file is None:
            return
        buf = self._pending[stream] + data
        records = []
        stamp = rfc3339nano().encode()
        while True:
            nl = buf.find(b"\n")
            if nl < 0 or nl > MAX_RECORD:
                if len(buf) < MAX_RECORD:
                    break
                records.append(b"%s %s P %s\n" % (stamp, stream.encode(), buf[:MAX_RECORD]))
                buf = buf[MAX_RECORD:]
                continue
            records.append(b"%s %s F %s\n" % (stamp, stream.encode(), buf[:nl]))
            buf = buf[nl + 1 :]
        self._pending[stream] = buf
        if records:
            self._file.write(b"".join(records))
            self._file.flush()

    def close(self) -> None:
        """Flush unterminated output as final records and close the file."""
        if self._file is None:
            return
        stamp = rfc3339nano().encode()
        for stream, rest in self._pending.items():
            if rest:
                self._file.write(b"%s %s F %s\n" % (stamp, stream.encode(), rest))
        self._pending = {"stdout": b"", "stderr": b""}
        self._file.close()
        self._file = None


@dataclass(frozen=True)
class LogOptions:
    """The `pods/log` query options the runtime implements."""

    tail_lines: int | None = None
    timestamps: bool = False
    since_seconds: float | None = None
    since_time: str | None = None  # RFC3339
    limit_bytes: int | None = None

    def since_ns(self, now_ns: int | None = None) -> int | None:
        """The earliest record time to show; sinceSeconds wins when both are given."""
        if self.since_seconds is not None:
            now_ns = time.time_ns() if now_ns is None else now_ns
            return now_ns - int(self.since_seconds * 1_000_000_000)
        if self.since_time is not None:
            return parse_rfc3339(self.since_time)
        return None


@dataclass(frozen=True)
class LogRecord:
    time_ns: int
    stream: str
    partial: bool
    content: bytes

    def render(self, timestamps: bool) -> bytes:
        prefix = (_fixed_nano(self.time_ns) + " ").encode() if timestamps else b""
        return prefix + self.content + (b"" if self.partial else b"\n")


def parse_record(line: bytes) -> LogRecord | None:
    """One CRI record without its newline; None for a malformed line."""
    match = _RECORD.match(line)
    if not match:
        return None
    stamp, stream, tag, content = match.groups()
    try:
        when = parse_rfc3339(stamp.decode())
    except ValueError:
        return None
    return LogRecord(when, stream.decode(), tag == b"P", content)


def _records(data: bytes) -> list[LogRecord]:
    out = []
    for line in data.split(b"\n"):
        if line:
            record = parse_record(line)
            if record is not None:
                out.append(record)
    return out


class _Limiter:
    def __init__(self, limit: int | None) -> None:
        self.left = limit

    def take(self, chunk: bytes) -> bytes:
        if self.left is None:
            return chunk
        chunk = chunk[: self.left]
        self.left -= len(chunk)
        return chunk

    @property
    def exhausted(self) -> bool:
        return self.left is not None and self.left <= 0


def _select(records: list[LogRecord], options: LogOptions) -> list[LogRecord]:
    since = options.since_ns()
    if since is not None:
        records = [r for r in records if r.time_ns >= since]
    if options.tail_lines is not None:
        records = records[-options.tail_lines :] if options.tail_lines > 0 else []
    return records


def read_log(path: Path, options: LogOptions = LogOptions()) -> bytes:
    """The log's content as `kubectl logs` prints it (without following)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise LogNotFoundError(f"log file {path} not found") from exc
    complete = data[: data.rfind(b"\n") + 1]
    limiter = _Limiter(options.limit_bytes)
    out = bytearray()
    for record in _select(_records(complete), options):
        out += limiter.take(record.render(options.timestamps))
        if limiter.exhausted:
            break
    return bytes(out)


async def follow_log(
    path: Path,
    options: LogOptions,
    finished: Callable[[], bool],
    poll_interval: float = 0.1,
) -> AsyncIterator[bytes]:
    """Yield the selected log content, then new records as they arrive.

    Ends when `finished()` is true (the container instance has exited and its log is
    closed) and everything written has been yielded, or when limit_bytes is reached.
    """
    limiter = _Limiter(options.limit_bytes)
    try:
        handle = open(path, "rb")  # noqa: SIM115 - closed in finally
    except FileNotFoundError as exc:
        raise LogNotFoundError(f"log file {path} not found") from exc
    try:
        data = handle.read()
        cut = data.rfind(b"\n") + 1
        carry = data[cut:]
        since = options.since_ns()
        initial = b"".join(
            r.render(options.timestamps) for r in _select(_records(data[:cut]), options)
        )
        if initial:
            chunk = limiter.take(initial)
            yield chunk
            if limiter.exhausted:
                return
        while True:
            done = finished()
            more = handle.read()
            if more:
                data = carry + more
                cut = data.rfind(b"\n") + 1
                carry = data[cut:]
                records = _records(data[:cut])
                if since is not None:
                    records = [r for r in records if r.time_ns >= since]
                chunk = limiter.take(b"".join(r.render(options.timestamps) for r in records))
                if chunk:
                    yield chunk
                if limiter.exhausted:
                    return
                continue
            if done:
                return
            await asyncio.sleep(poll_interval)
    finally:
        handle.close()


def instance_logs(container_log_dir: Path) -> list[Path]:
    """The instance log files of one container, oldest first."""
    if not container_log_dir.is_dir():
        return []
    found = []
    for entry in container_log_dir.iterdir():
        if entry.suffix == ".log" and entry.stem.isdigit():
            found.append((int(entry.stem), entry))
    return [p for _, p in sorted(found)]


def find_log(container_log_dir: Path, previous: bool = False) -> Path:
    """The current (newest) or previous instance's log file."""
    logs = instance_logs(container_log_dir)
    if previous:
        if len(logs) < 2:
            raise LogNotFoundError(f"no previous instance log in {container_log_dir}")
        return logs[-2]
    if not logs:
        raise LogNotFoundError(f"no log in {container_log_dir}")
    return logs[-1]


def prune_logs(container_log_dir: Path, keep: int = 2) -> None:
    """Delete all but the newest `keep` instance logs (kubelet keeps current + previous)."""
    for path in instance_logs(container_log_dir)[:-keep]:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
