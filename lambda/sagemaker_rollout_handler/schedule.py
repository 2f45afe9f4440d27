"""When to look at the endpoint next: a pure function of what DescribeEndpoint said.

A baking period has a known length (the deployment config's WaitIntervalInSeconds or
TerminationWaitInSeconds) and a StartTime in PendingDeploymentSummary, so nothing can change
before the shortest of them has passed: sleeping until then costs no DescribeEndpoint calls and
loses no time. Anything else (provisioning, traffic shifting, rolling back, deleting) has no
documented length, so it is checked every `STEADY_INTERVAL` seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .decisions import Observation

#: Seconds between checks while nothing predicts the next transition.
STEADY_INTERVAL = 10.0
#: Never check more often than this (DescribeEndpoint counts against the account's throttle).
MIN_INTERVAL = 5.0


def bake_lengths(deployment_config: Mapping[str, Any] | None) -> tuple[int, ...]:
    """The lengths (s) of the baking periods the deployment can be in, shortest first."""
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


def seconds_until_next_check(
    observed: Observation | None, bakes: tuple[int, ...], now: float
) -> float:
    """How long to wait before the next DescribeEndpoint."""
    if observed is None or not bakes:
        return STEADY_INTERVAL
    baking = [phase for phase in observed.phases if phase.status == "Baking"]
    if not baking or len(baking) != len(observed.phases):
        return STEADY_INTERVAL
    # Every variant is baking: the earliest any of them can move on is the latest start plus the
    # shortest bake the deployment config declares.
    earliest_change = max(phase.start_time for phase in baking) + bakes[0]
    return max(MIN_INTERVAL, earliest_change - now)
