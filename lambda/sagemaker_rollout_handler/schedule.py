"""When to look at the endpoint next: a pure function of what DescribeEndpoint said.

What a user feels is how late `cdk deploy` notices the end; what the account pays is
DescribeEndpoint calls (they count against SageMaker's throttling) and Lambda time. So:

- Phases after which the endpoint can be InService (or gone) next: the old fleet being terminated
  (`Deleting`), `RollingBack`, an endpoint `Deleting` — are watched closely, every
  `DENSE_INTERVAL` seconds.
- A baking period has a known length (the deployment config's WaitIntervalInSeconds or
  TerminationWaitInSeconds) and a StartTime in PendingDeploymentSummary: nothing changes before
  the shortest of them has passed, except an alarm, which starts a rollback that itself takes
  minutes. So a bake is looked at once per polling round until its earliest end.
- Provisioning and traffic shifting are never the last phase of a successful deployment: once per
  polling round (`SPARSE_INTERVAL`) is enough to see them end.
- An endpoint being created has no phases to go by: every `CREATING_INTERVAL` seconds.

The invocation decides whether a delay is slept in-process or left to the next poll (`rollout`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .decisions import Observation

#: Seconds between looks while the end may be near.
DENSE_INTERVAL = 8.0
#: Seconds between looks while the end cannot be near: one look per polling round.
SPARSE_INTERVAL = 60.0
#: Seconds between looks at an endpoint being created (no phases to go by).
CREATING_INTERVAL = 15.0
#: Never look more often than this.
MIN_INTERVAL = 5.0

_NEAR_THE_END = frozenset({"RollingBack", "Deleting"})


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
    if observed is None:
        return DENSE_INTERVAL
    if observed.status in _NEAR_THE_END:
        return DENSE_INTERVAL
    if observed.status == "Creating":
        return CREATING_INTERVAL
    if observed.status != "Updating":
        return SPARSE_INTERVAL
    phases = observed.phases
    if not phases:
        # No PendingDeploymentSummary to go by.
        return CREATING_INTERVAL
    if any(phase.status == "Deleting" for phase in phases):
        return DENSE_INTERVAL
    if bakes and all(phase.status == "Baking" for phase in phases):
        # The bake ends at its start plus one of the declared lengths: look at the next of those
        # moments still ahead (a bake is never the last phase, so no close watch after it).
        started = max(phase.start_time for phase in phases)
        ahead = [started + length for length in bakes if started + length > now]
        if ahead:
            return max(MIN_INTERVAL, min(ahead) - now)
    return SPARSE_INTERVAL
