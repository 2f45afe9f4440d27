"""When to look at the endpoint next, and when to wake: pure functions of the wait state.

SageMaker's events wake a waiting request within seconds of each change (``waiting``); the
schedule below is the safety net for events that never come (they are best effort):

- **Trusting events** (events arrive): one look per wake, and a safety wake
  ``SAFETY_INTERVAL`` after each invocation (the first one ``FIRST_CHECK`` after the start: it
  checks that events flow at all). A request deleting an endpoint wakes every minute: SageMaker
  announces no event when an endpoint is finally gone.
- **Degraded** (no event came by the first check, or a change a scheduled look saw before any
  event announced it is still unannounced one Scheduler minute later): the request watches like
  a plain 30 s poller, in process. Each invocation watches ``WATCH_SECONDS`` and arms its
  successor for the minute before its own end (Scheduler fires within the minute after the time
  given): the successor starts looking exactly where its predecessor stopped, so the endpoint is
  never unwatched for more than ``POLL_INTERVAL``.
- Nothing ever wakes later than the request's deadline.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .state import WaitState

#: Seconds between looks while degraded: a 30 s poller's cadence (at most 1.0x its calls).
POLL_INTERVAL = 30.0
#: How long one degraded invocation watches in process (5 looks).
WATCH_SECONDS = 150.0
#: Scheduler's precision: a one-time schedule fires within this many seconds after its time.
SCHEDULER_PRECISION = 60.0
#: The first safety wake after the start: by then SageMaker has announced the change we made.
FIRST_CHECK = 60.0
#: The safety wake while events arrive.
SAFETY_INTERVAL = 300.0
#: A request waiting for an endpoint to be gone (no event says so).
DELETE_INTERVAL = 60.0
#: How long a change that a scheduled look saw before any event announced it waits for its event
#: (EventBridge delivers SageMaker's events "in near real time", not at once) before events count
#: as lost: the next scheduled look, one Scheduler minute later.
UNANNOUNCED_GRACE = SCHEDULER_PRECISION


@dataclass(frozen=True)
class Plan:
    """What one invocation does: look from ``first_look`` every POLL_INTERVAL until ``watch_until``
    (a single look when equal), with the next wake armed at ``wake_at``."""

    first_look: float
    watch_until: float
    wake_at: float


def plan_wake(state: WaitState, now: float, *, deleting: bool, budget_end: float) -> Plan:
    """The plan of an invocation woken by its schedule; ``budget_end``: the end of the Lambda
    time it may use."""
    if state.degraded:
        first = min(max(now, state.watch_until), budget_end)
        until = max(first, min(first + WATCH_SECONDS, state.deadline, budget_end))
        return Plan(first, until, _successor(until))
    return Plan(now, now, next_safety_wake(state, now, deleting=deleting))


def next_safety_wake(state: WaitState, now: float, *, deleting: bool) -> float:
    if deleting:
        interval = DELETE_INTERVAL
    elif state.events_seen == 0 and now < state.started + FIRST_CHECK:
        interval = state.started + FIRST_CHECK - now
    else:
        interval = SAFETY_INTERVAL
    return min(now + max(interval, 1.0), state.deadline)


def _successor(until: float) -> float:
    """Arm the successor for the minute before ``until``: it fires before ``until`` whatever
    Scheduler's delay, and waits for it in process."""
    return math.floor(until / SCHEDULER_PRECISION) * SCHEDULER_PRECISION - SCHEDULER_PRECISION


def events_lost(state: WaitState, now: float, *, by_event: bool) -> bool:
    """Whether a look tells that events are not arriving: none came by the first check after a
    call of ours (SageMaker announces the change it starts), or a change that an earlier
    scheduled look saw unannounced (``WaitState.unannounced_at``) is still unannounced: no event
    has woken the request since."""
    if by_event:
        return False
    issued_at = state.progress.issued_at
    if state.events_seen == 0 and issued_at is not None and now >= issued_at + FIRST_CHECK:
        return True
    return state.unannounced_at is not None


def bake_lengths(deployment_config: Mapping[str, Any] | None) -> tuple[int, ...]:
    """The lengths (s) of the baking periods the deployment can be in, shortest first (for the
    messages that name the phase)."""
    if not deployment_config:
        return ()
    lengths: set[int] = set()
    blue_green = deployment_config.get("BlueGreenUpdatePolicy")
    if blue_green:
        routing = blue_green.get("TrafficRoutingConfiguration", {})
        lengths.add(int(routing.get("WaitIntervalInSeconds", 0)))
        lengths.add(int(blue_green.get("TerminationWaitInSeconds", 0)))
    rolling = deployment_config.get("RollingUpdatePolicy")
    if rolling:
        lengths.add(int(rolling.get("WaitIntervalInSeconds", 0)))
    return tuple(sorted(length for length in lengths if length > 0))
