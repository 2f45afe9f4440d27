"""The timeline of a rendered DeploymentConfig, with the construct's own time budget.

`sagemaker-rollout plan` reads a DeploymentConfig as the construct rendered it into the custom
resource's properties; `sagemaker-rollout watch` reads one from DescribeEndpoint. Both need the
phases, the worst case and the budget. Neither computes them: `rollout_timeline` rebuilds the
`DeploymentStrategy` from the rendered config with the public factories and asks it for its
`time_budget` (time_budget.py), then lays that budget's terms out as phases in the order SageMaker
runs them (fact sheet, "What happens during each kind of deployment"). The phases always add up
to the budget's worst case.

Traffic shifting and the termination of the old fleet have no allowance of their own in the
budget (SageMaker publishes no times for them): they are phases of 0 s, `budgeted=False`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration

from .capacity import CapacitySize
from .deployment import DeploymentStrategy, TrafficRouting, VariantFacts
from .time_budget import MAX_SERVICE_TIMEOUT_SECONDS, PROVISIONING_ALLOWANCE_SECONDS, TimeBudget
from .wait_mode import WaitMode

__all__ = ["RolloutTimeline", "TimelinePhase", "rollout_timeline", "strategy_from_rendered"]

_BLUE_GREEN = "BlueGreenUpdatePolicy"
_ROLLING = "RollingUpdatePolicy"


@dataclass(frozen=True)
class TimelinePhase:
    """One phase of the worst case, in the order SageMaker runs them."""

    name: str
    seconds: int
    #: What the phase is, for a reader matching it to DescribeEndpoint: provision | shift | bake
    #: | final-bake | terminate.
    kind: str
    #: False: the budget has no allowance for it (traffic shifting, terminating the old fleet).
    budgeted: bool = True


@dataclass(frozen=True)
class RolloutTimeline:
    """The worst case of one deployment: its phases, the budget, the fleets it overlaps."""

    #: `ALL_AT_ONCE`, `CANARY`, `LINEAR` or `ROLLING` (`DeploymentStrategy.kind`).
    kind: str
    #: The strategy in words.
    description: str
    phases: tuple[TimelinePhase, ...]
    budget: TimeBudget
    #: MaximumExecutionTimeoutInSeconds as rendered (None: absent).
    maximum_execution_timeout: int | None
    #: Instance-hours of the second fleet while both run, in the worst case (see
    #: `_overlap_instance_hours`); 0 for serverless variants, which are not billed by instance.
    overlap_instance_hours: float

    @property
    def worst_case(self) -> int:
        return self.budget.worst_case

    def bake_schedule(self) -> tuple[int, ...]:
        """The lengths of the bakes of more than 0 s, in order (what `watch` counts down)."""
        return tuple(p.seconds for p in self.phases
                     if p.kind in ("bake", "final-bake") and p.seconds > 0)


def _int(policy: Mapping[str, Any], key: str, default: int | None = None) -> int:
    value = policy.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{key} is {value!r}, not a number of seconds")
    try:
        return int(value)  # CloudFormation hands properties to a custom resource as strings
    except ValueError:
        raise ValueError(f"{key} is {value!r}, not a number of seconds") from None


def _size(value: Any, what: str) -> CapacitySize:
    if not isinstance(value, Mapping) or value.get("Type") not in ("INSTANCE_COUNT",
                                                                   "CAPACITY_PERCENT"):
        raise ValueError(f"{what} is {value!r}, not a CapacitySize")
    count = _int(value, "Value")
    if value["Type"] == "CAPACITY_PERCENT":
        return CapacitySize.percent(count)
    return CapacitySize.count(count)


def _timeout(policy: Mapping[str, Any]) -> Duration | None:
    if policy.get("MaximumExecutionTimeoutInSeconds") is None:
        return None
    return Duration.seconds(_int(policy, "MaximumExecutionTimeoutInSeconds"))


def _no_timeout(policy: Mapping[str, Any]) -> Duration | None:
    return None


def _routing(routing: Mapping[str, Any]) -> TrafficRouting:
    kind = routing.get("Type")
    wait = Duration.seconds(_int(routing, "WaitIntervalInSeconds", 0))
    if kind == "CANARY":
        size = routing.get("CanarySize", {"Type": "INSTANCE_COUNT", "Value": 1})
        return TrafficRouting.canary(size=_size(size, "CanarySize"), bake_time=wait)
    if kind == "LINEAR":
        size = routing.get("LinearStepSize", {"Type": "CAPACITY_PERCENT", "Value": 10})
        return TrafficRouting.linear(step_size=_size(size, "LinearStepSize"), interval=wait)
    if kind == "ALL_AT_ONCE":
        return TrafficRouting.all_at_once()
    raise ValueError(f"TrafficRoutingConfiguration.Type is {kind!r}, not ALL_AT_ONCE, CANARY "
                     "or LINEAR")


def strategy_from_rendered(
    config: Mapping[str, Any] | None,
    *,
    provisioning_allowance: int = PROVISIONING_ALLOWANCE_SECONDS,
    with_timeout: bool = True,
) -> DeploymentStrategy:
    """The `DeploymentStrategy` that renders `config` (a DeploymentConfig of the API or of the
    custom resource's properties; None or no policy: SageMaker's default, blue/green all at once).

    The provisioning allowance is not part of the rendered config: pass the one the strategy was
    built with (default: the construct's default). `with_timeout=False` leaves the rendered
    MaximumExecutionTimeoutInSeconds out (the largest that fits is then assumed). Raises
    ValueError for a config that is not a DeploymentConfig or that the strategy factories refuse.
    """
    config = config or {}
    timeout = _timeout if with_timeout else _no_timeout
    allowance = Duration.seconds(provisioning_allowance)
    rolling = config.get(_ROLLING)
    if isinstance(rolling, Mapping):
        rollback = rolling.get("RollbackMaximumBatchSize")
        return DeploymentStrategy.rolling(
            batch_size=_size(rolling.get("MaximumBatchSize"), "MaximumBatchSize"),
            bake_time=Duration.seconds(_int(rolling, "WaitIntervalInSeconds", 0)),
            rollback_batch_size=None if rollback is None else _size(
                rollback, "RollbackMaximumBatchSize"),
            maximum_execution_timeout=timeout(rolling),
            provisioning_allowance=allowance,
        )
    policy = config.get(_BLUE_GREEN) or {}
    if not isinstance(policy, Mapping):
        raise ValueError(f"{_BLUE_GREEN} is {policy!r}, not an object")
    routing = policy.get("TrafficRoutingConfiguration") or {"Type": "ALL_AT_ONCE"}
    return DeploymentStrategy.blue_green(
        traffic_routing=_routing(routing),
        termination_wait=Duration.seconds(_int(policy, "TerminationWaitInSeconds", 0)),
        maximum_execution_timeout=timeout(policy),
        provisioning_allowance=allowance,
    )


def rollout_timeline(
    config: Mapping[str, Any] | None,
    variants: Sequence[VariantFacts],
    *,
    service_timeout: int = MAX_SERVICE_TIMEOUT_SECONDS,
    provisioning_allowance: int = PROVISIONING_ALLOWANCE_SECONDS,
    check_timeout: bool = True,
    wait_mode: WaitMode | None = WaitMode.CUSTOM_RESOURCE,
) -> RolloutTimeline:
    """The worst-case timeline of deploying `config` to `variants` (concrete instance counts)
    inside a custom resource of `service_timeout` seconds, or (`wait_mode`) a WaitCondition;
    None: the mode the construct would choose.

    `check_timeout=False` does not hold the worst case against the rendered
    MaximumExecutionTimeoutInSeconds (a deployment that is running already, made by any tool);
    it must still fit the custom resource. Raises ValueError when the construct would refuse the
    deployment (the message names the rule) or the config is malformed.
    """
    strategy = strategy_from_rendered(config, provisioning_allowance=provisioning_allowance,
                                      with_timeout=check_timeout)
    budget = strategy.time_budget(variants=variants,
                                  service_timeout=Duration.seconds(service_timeout),
                                  wait_mode=wait_mode)
    policy = _policy(config)
    step = _step(policy, strategy.kind)
    counts = [int(v.initial_instance_count) for v in variants
              if not v.serverless and v.initial_instance_count is not None]
    phases = _phases(strategy.kind, budget, step, counts)
    timeout = policy.get("MaximumExecutionTimeoutInSeconds")
    return RolloutTimeline(
        kind=strategy.kind,
        description=_describe(strategy.kind, policy, budget, step, counts),
        phases=phases,
        budget=budget,
        maximum_execution_timeout=None if timeout is None else int(timeout),
        overlap_instance_hours=_overlap_instance_hours(strategy.kind, budget, step, counts),
    )


def _policy(config: Mapping[str, Any] | None) -> Mapping[str, Any]:
    config = config or {}
    policy = config.get(_ROLLING) or config.get(_BLUE_GREEN) or {}
    return policy if isinstance(policy, Mapping) else {}


def _step(policy: Mapping[str, Any], kind: str) -> CapacitySize | None:
    routing = policy.get("TrafficRoutingConfiguration") or {}
    raw = {"CANARY": routing.get("CanarySize", {"Type": "INSTANCE_COUNT", "Value": 1}),
           "LINEAR": routing.get("LinearStepSize", {"Type": "CAPACITY_PERCENT", "Value": 10}),
           "ROLLING": policy.get("MaximumBatchSize")}.get(kind)
    return None if raw is None else _size(raw, "the step size")


def _phases(kind: str, budget: TimeBudget, step: CapacitySize | None,
            counts: Sequence[int]) -> tuple[TimelinePhase, ...]:
    terms = budget.worst_case_terms
    provisioning = terms[0].seconds
    if kind == "ROLLING":
        return _rolling_phases(provisioning, terms[1].seconds, terms[0].times, step, counts)
    bake, termination = terms[1], terms[2]
    phases = [TimelinePhase("provision the green fleet", provisioning, "provision")]
    if kind == "CANARY":
        phases += [TimelinePhase(f"shift the canary ({_share(step, counts)}) to green, bake",
                                 bake.seconds, "bake"),
                   TimelinePhase("shift the rest to green", 0, "shift", budgeted=False)]
    elif kind == "LINEAR":
        phases += [TimelinePhase(f"step {i}/{bake.times}: shift {_share(step, counts)} to green, "
                                 "bake", bake.seconds, "bake")
                   for i in range(1, bake.times + 1)]
    else:
        phases.append(TimelinePhase("shift 100% to green", 0, "shift", budgeted=False))
    phases += [TimelinePhase("final bake (termination wait)", termination.seconds, "final-bake"),
               TimelinePhase("terminate the blue fleet", 0, "terminate", budgeted=False)]
    return tuple(phases)


def _rolling_phases(provisioning: int, bake: int, batches: int, step: CapacitySize | None,
                    counts: Sequence[int]) -> tuple[TimelinePhase, ...]:
    sizes = _batch_sizes(step, counts, batches)
    phases: list[TimelinePhase] = []
    for i, size in enumerate(sizes, start=1):
        phases += [
            TimelinePhase(f"batch {i}/{batches}: provision {_instances(size)}", provisioning,
                          "provision"),
            TimelinePhase(f"batch {i}/{batches}: shift, bake", bake, "bake"),
            TimelinePhase(f"batch {i}/{batches}: terminate {size} old", 0,
                          "terminate", budgeted=False),
        ]
    return tuple(phases)


def _batch_sizes(step: CapacitySize | None, counts: Sequence[int], batches: int) -> list[int]:
    """Instances in each batch: full batches of the planned size, the last one what is left."""
    count = counts[0] if counts else 1
    per_batch = step.planned_instances(count) if step is not None else count
    return [min(per_batch, count - i * per_batch) for i in range(batches)]


def _instances(count: int) -> str:
    return f"{count} instance" + ("" if count == 1 else "s")


def _share(step: CapacitySize | None, counts: Sequence[int]) -> str:
    """`25% = 1 of 4 instances`, `1 of 4 instances` (against the smallest variant)."""
    if step is None:
        return "the fleet"
    if not counts:
        return step.describe()
    fleet = min(counts)
    moved = f"{step.planned_instances(fleet)} of {_instances(fleet)}"
    return f"{step.value}% = {moved}" if step.is_percent else moved


def _minutes(seconds: int) -> str:
    minutes, secs = divmod(seconds, 60)
    if not minutes:
        return f"{secs} s"
    return f"{minutes} min" + (f" {secs} s" if secs else "")


def _describe(kind: str, policy: Mapping[str, Any], budget: TimeBudget,
              step: CapacitySize | None, counts: Sequence[int]) -> str:
    terms = budget.worst_case_terms
    if kind == "ROLLING":
        rollback = policy.get("RollbackMaximumBatchSize")
        back = ("all at once (blue/green style)" if rollback is None
                else f"in batches of {_size(rollback, 'RollbackMaximumBatchSize').describe()}")
        return (f"rolling: {_share(step, counts)} per batch ({terms[0].times} batches), bake "
                f"{_minutes(terms[1].seconds)} each; rollback {back}")
    final = terms[2].seconds
    tail = f", final bake {_minutes(final)}" if final else ", no final bake"
    if kind == "CANARY":
        return (f"blue/green canary: {_share(step, counts)}, bake {_minutes(terms[1].seconds)}"
                f"{tail}")
    if kind == "LINEAR":
        return (f"blue/green linear: {terms[1].times} steps of {_share(step, counts)}, bake "
                f"{_minutes(terms[1].seconds)} each{tail}")
    return f"blue/green all at once{tail}"


def _overlap_instance_hours(kind: str, budget: TimeBudget, step: CapacitySize | None,
                            counts: Sequence[int]) -> float:
    """Instance-hours of the second fleet while both run, in the worst case: what the deployment
    costs on top of the serving fleet.

    Blue/green: the whole green fleet is provisioned first and the blue fleet is terminated last
    (fact sheet, "What happens"; "Both fleets are billed during multi-step modes and baking
    periods"), so the green fleet's instances overlap for the whole worst case (provisioning
    counted in full: the conservative reading). Rolling: each batch's new instances overlap the
    old ones from its provisioning to its bake's end.
    """
    if kind != "ROLLING":
        return sum(counts) * budget.worst_case / 3600
    terms = budget.worst_case_terms
    per_batch = terms[0].seconds + terms[1].seconds
    return sum(_batch_sizes(step, counts, terms[0].times)) * per_batch / 3600
