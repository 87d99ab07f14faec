"""Linearizability of a history against a sequential model (pure, no I/O).

The search is Wing & Gong's: walk the history's call/return events in time order, try to
take effect ("linearize") any op whose call precedes the first pending return, backtrack when
a return is reached with its op not linearized. Lowe's memoisation prunes it: a
(set of linearized ops, model state) pair already explored is never explored again. This is
what Knossos and Porcupine do; the code here is ours.

Indeterminate ops ("info", "pending") return at +infinity and need not take effect at all, so
the search succeeds once every determinate op is linearized, and an indeterminate op is only
ever linearized by a step that changes the state (a no-op placement is the same as leaving
it out). Models may be nondeterministic: ``step`` returns every possible next state.

ZooKeeper reads may be stale (sequential consistency, even after ``sync``), so a history of
ZooKeeper reads can fail this check without a bug: check the CAS ops (``register_ops``
leaves reads out unless asked).
"""

from __future__ import annotations

import math
import time
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol, TypeVar

from harness.model.ledger import FAIL, OK, Op

DEFAULT_MAX_STATES = 200_000
S = TypeVar("S", bound=Hashable)

LINEARIZABLE, NOT_LINEARIZABLE, UNDECIDED = "linearizable", "not linearizable", "undecided"


class Model(Protocol[S]):
    """A sequential specification: an initial state and the states an op may lead to."""

    def init(self) -> S: ...

    def step(self, state: S, op: Op) -> list[S]:
        """Possible next states; empty when ``op`` (with its outcome) cannot happen here."""
        ...


@dataclass(frozen=True)
class Verdict:
    """The checker's answer.

    ``ok`` is True only when a linearization was found (``longest_prefix`` is then one, the
    ops in the order they took effect, indeterminate ops that took no effect left out).
    ``decided`` is False when the budget (``max_states`` / ``max_seconds``) ran out: then
    ``ok`` is False too, ``status`` is "undecided", and the history is neither cleared nor
    convicted; callers should report it, not pass or fail on it silently.
    On a violation, ``unplaced`` holds the op whose return came before it could take effect
    (first) and the other candidates that could not be placed after ``longest_prefix``.
    """

    ok: bool
    decided: bool
    detail: str
    longest_prefix: tuple[Op, ...] = ()
    unplaced: tuple[Op, ...] = ()
    explored: int = 0

    @property
    def status(self) -> str:
        if not self.decided:
            return UNDECIDED
        return LINEARIZABLE if self.ok else NOT_LINEARIZABLE


class Register(NamedTuple):
    """The CAS register's state: the znode's version and value."""

    version: int
    value: str


class CasRegister:
    """A znode used as a compare-and-set register (``set(path, value, version=v)``).

    cas ok: the version was ``expect_version`` and becomes +1 (``result``, when given, must
    be that new version); cas fail (BadVersion): the version was not ``expect_version``;
    cas info: either. read ok: ``result == f"{version}:{value}"``.
    """

    def __init__(self, version: int = 0, value: str = "") -> None:
        self._initial = Register(version, value)

    def init(self) -> Register:
        return self._initial

    def step(self, state: Register, op: Op) -> list[Register]:
        if op.kind == "cas":
            if op.expect_version is None:
                raise ValueError(f"cas without an expected version: {op.describe()}")
            matches = state.version == op.expect_version
            applied = Register(state.version + 1, op.value)
            if op.outcome == OK:
                if not matches or (op.result is not None and op.result != str(applied.version)):
                    return []
                return [applied]
            if op.outcome == FAIL:
                return [] if matches else [state]
            return [applied, state] if matches else [state]
        if op.kind == "read":
            if op.outcome != OK:
                return [state]
            return [state] if op.result == f"{state.version}:{state.value}" else []
        raise ValueError(f"a CAS register has no {op.kind!r} op: {op.describe()}")


def register_ops(ops: Iterable[Op], key: str | None = None, *, reads: bool = False) -> list[Op]:
    """The ops on one register: its cas ops (and reads when ``reads``), by ``key``."""
    kinds = ("cas", "read") if reads else ("cas",)
    chosen = [op for op in ops if op.kind in kinds and (key is None or op.key == key)]
    keys = {op.key for op in chosen}
    if key is None and len(keys) > 1:
        raise ValueError(f"ops on several registers {sorted(keys)}: name the key")
    return chosen


def _describe_all(ops: Sequence[Op], t0: float, limit: int = 3) -> str:
    shown = "; ".join(op.describe(t0) for op in ops[:limit])
    return shown + (f"; and {len(ops) - limit} more" if len(ops) > limit else "")


def check(
    ops: Sequence[Op],
    model: Model[S],
    *,
    initial: S | None = None,
    max_states: int = DEFAULT_MAX_STATES,
    max_seconds: float | None = None,
) -> Verdict:
    """Whether ``ops`` are linearizable with respect to ``model`` (from ``initial`` when
    given, else ``model.init()``). ``max_states`` bounds the memo table (memory and time,
    deterministic); ``max_seconds`` additionally bounds wall time. Either running out gives an
    undecided verdict."""
    history = list(ops)
    n = len(history)
    if n == 0:
        return Verdict(True, True, "linearizable: empty history")
    t0 = min(op.invoked for op in history)
    events: list[tuple[float, int, int]] = []
    for i, op in enumerate(history):
        if op.determinate:
            if op.completed is None or op.completed < op.invoked:
                raise ValueError(f"a determinate op needs a completion after its call: {op}")
            ret = op.completed
        else:
            ret = math.inf
        events.append((op.invoked, 0, i))  # calls sort before returns at the same time:
        events.append((ret, 1, i))  # ops touching at an instant count as concurrent
    events.sort()

    # A doubly linked list over nodes: call of op i = 2i, its return = 2i + 1, head = 2n.
    head, end = 2 * n, -1
    nxt = [end] * (2 * n + 1)
    prv = [end] * (2 * n + 1)
    last = head
    for _, is_return, i in events:
        node = 2 * i + is_return
        nxt[last], prv[node] = node, last
        last = node

    def lift(call: int) -> None:
        for node in (call, call + 1):
            before, after = prv[node], nxt[node]
            nxt[before] = after
            if after != end:
                prv[after] = before

    def unlift(call: int) -> None:
        for node in (call + 1, call):
            nxt[prv[node]] = node
            if nxt[node] != end:
                prv[nxt[node]] = node

    state: S = model.init() if initial is None else initial
    determinate = [op.determinate for op in history]
    required = sum(determinate)
    linearized = 0  # bitset of op indices
    seen: set[tuple[int, Hashable]] = set()
    # (call node, state before it, its possible next states, index of the next one to try)
    stack: list[tuple[int, S, list[S], int]] = []
    best_prefix: list[int] = []
    best_state: S = state
    best_unplaced: list[int] = []
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    ticks = 0

    def place(call: int, before: S, nexts: list[S], start: int) -> bool:
        """Take effect with the first unexplored next state; False if none is left."""
        nonlocal state, linearized, required
        i = call >> 1
        with_op = linearized | (1 << i)
        for k in range(start, len(nexts)):
            if (with_op, nexts[k]) not in seen:
                seen.add((with_op, nexts[k]))
                stack.append((call, before, nexts, k + 1))
                state, linearized = nexts[k], with_op
                required -= determinate[i]
                lift(call)
                return True
        return False

    entry = nxt[head]
    while required:
        ticks += 1
        if len(seen) > max_states or (
            deadline is not None and ticks % 1024 == 0 and time.monotonic() > deadline
        ):
            return _undecided(history, best_prefix, best_unplaced, len(seen), max_states, t0)
        if entry & 1 == 0:  # a call: try to linearize it here
            op = history[entry >> 1]
            nexts = model.step(state, op)
            if not determinate[entry >> 1]:
                nexts = [s for s in nexts if s != state]
            entry = nxt[head] if place(entry, state, nexts, 0) else nxt[entry]
            continue
        # A return whose op is not linearized: this prefix is a dead end.
        if len(stack) > len(best_prefix) or not best_unplaced:
            best_prefix = [call >> 1 for call, _, _, _ in stack]
            best_state = state
            blocked = entry >> 1
            candidates = []
            node = nxt[head]
            while node != entry:
                if node & 1 == 0 and node >> 1 != blocked and determinate[node >> 1]:
                    candidates.append(node >> 1)
                node = nxt[node]
            best_unplaced = [blocked, *candidates]
        if not stack:
            break
        call, before, nexts, k = stack.pop()
        i = call >> 1
        state, linearized = before, linearized & ~(1 << i)
        required += determinate[i]
        unlift(call)
        entry = nxt[head] if place(call, before, nexts, k) else nxt[call]
    else:
        order = tuple(history[call >> 1] for call, _, _, _ in stack)
        return Verdict(
            True, True, f"linearizable: {len(order)} of {n} ops took effect", order, (), len(seen)
        )
    prefix = tuple(history[i] for i in best_prefix)
    unplaced = tuple(history[i] for i in best_unplaced)
    detail = (
        f"not linearizable: {unplaced[0].describe(t0)} cannot take effect after the longest "
        f"linearizable prefix ({len(prefix)} of {n} ops, state {best_state!r})"
    )
    if len(unplaced) > 1:
        detail += f"\n  nor can the ops concurrent with it: {_describe_all(unplaced[1:], t0)}"
    return Verdict(False, True, detail, prefix, unplaced, len(seen))


def _undecided(
    history: list[Op],
    best_prefix: list[int],
    best_unplaced: list[int],
    explored: int,
    max_states: int,
    t0: float,
) -> Verdict:
    prefix = tuple(history[i] for i in best_prefix)
    unplaced = tuple(history[i] for i in best_unplaced)
    detail = (
        f"undecided: gave up after {explored} states (max_states={max_states} or the time "
        f"budget); longest linearizable prefix so far {len(prefix)} of {len(history)} ops"
    )
    if unplaced:
        detail += f"\n  hardest op to place so far: {unplaced[0].describe(t0)}"
    return Verdict(False, False, detail, prefix, unplaced, explored)
