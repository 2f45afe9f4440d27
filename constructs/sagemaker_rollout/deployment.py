"""Deployment strategies: how SageMaker moves traffic from the old EndpointConfig to the new one.

Typed, validated at `cdk synth` (issue 3, "Typed deployment strategies with synth-time
validation"). The shape follows aws-cdk's CodeDeploy traffic routing::

    DeploymentStrategy.blue_green(
        traffic_routing=TrafficRouting.canary(
            size=CapacitySize.percent(25), bake_time=Duration.minutes(10)),
        termination_wait=Duration.minutes(5),
    )
    DeploymentStrategy.blue_green(
        traffic_routing=TrafficRouting.linear(
            step_size=CapacitySize.percent(25), interval=Duration.minutes(5)))
    DeploymentStrategy.rolling(batch_size=CapacitySize.count(2), bake_time=Duration.minutes(5))
    DeploymentStrategy.all_at_once()        # == DeploymentStrategy.default()

What the construct (`endpoint.py`) calls:

- `VariantFacts`: what the construct knows about each production variant at synth time.
- `DeploymentStrategy.bind(scope, variants=..., service_timeout=..., alarms=...)` -> the
  CloudFormation/API-shaped `DeploymentConfig` *without* `AutoRollbackConfiguration`. Eager
  checks raise `ValueError`; checks that need a value that is still a token are deferred with
  `scope.node.add_validation` (or skipped, with a warning saying so); legal-but-suspicious
  settings warn with `Annotations.of(scope).add_warning_v2("sagemaker-rollout:<id>", ...)`.
- `render_auto_rollback(alarms)` -> `{"Alarms": [{"AlarmName": ...}, ...]}` or None (1..10).

Every refusal starts with `[sagemaker-rollout:<rule id>]` (rules.py; README.md, "Rules")
and names the field, the value, the limit and the fix. "Fact sheet" below is
/work/shared/reference/sagemaker-endpoint-deployments.md.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import jsii
from aws_cdk import Annotations, Duration, IStableNumberProducer, Lazy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch

from constructs import Construct, IValidation

from .capacity import CapacitySize
from .rules import Rule, WarningId, refusal
from .time_budget import (
    MAX_MAXIMUM_EXECUTION_TIMEOUT_SECONDS,
    MAX_SERVICE_TIMEOUT_SECONDS,
    MIN_MAXIMUM_EXECUTION_TIMEOUT_SECONDS,
    PROVISIONING_ALLOWANCE_SECONDS,
    ROLLBACK_ALLOWANCE_SECONDS,
    Term,
    TimeBudget,
    human,
)
from .tokens import is_unresolved

__all__ = [
    "CapacitySize",
    "DeploymentStrategy",
    "TrafficRouting",
    "VariantFacts",
    "render_auto_rollback",
]

#: WaitIntervalInSeconds 0..3600 (botocore model; fact sheet, "UpdateEndpoint request").
MAX_WAIT_SECONDS = 3600
#: TerminationWaitInSeconds 0..3600 (botocore model; fact sheet, "UpdateEndpoint request").
MAX_TERMINATION_WAIT_SECONDS = 3600
#: AutoRollbackConfiguration.Alarms 1..10 items (botocore model AlarmList; fact sheet).
MAX_ALARMS = 10
#: Provisioning allowances above this are refused: one fleet in more than an hour cannot fit a
#: one-hour custom resource anyway.
MAX_PROVISIONING_ALLOWANCE_SECONDS = 3600

_ALL_AT_ONCE = "ALL_AT_ONCE"
_CANARY = "CANARY"
_LINEAR = "LINEAR"
_ROLLING = "ROLLING"


@dataclass(frozen=True)
class VariantFacts:
    """What the construct knows about one production variant when it renders the deployment."""

    variant_name: str
    #: None for a serverless variant; may be a token.
    instance_type: str | None
    #: None for a serverless variant; may be a token (a float that encodes it).
    initial_instance_count: int | float | None
    serverless: bool


# --- helpers ----------------------------------------------------------------------------------


def _seconds(
    errors: list[str],
    what: str,
    value: Duration,
    *,
    low: int,
    high: int,
    rule: Rule,
    fix: str,
) -> int:
    """`value` in whole seconds, range-checked; appends a refusal to `errors` when it is not.

    Converted here, once, when the strategy is built: each conversion is a round trip to jsii's
    Node process, and the rest of the module works on the whole seconds."""
    if not isinstance(value, Duration):
        raise TypeError(
            f"{what} {value!r} is not allowed: allowed is an aws_cdk.Duration, such as "
            "Duration.minutes(5)"
        )
    exact = _exact_seconds(value)
    if exact is None:
        errors.append(
            refusal(
                Rule.CONCRETE_VALUES,
                f"{what} is an unresolved token ({value.to_string()}); the limit is a concrete "
                "Duration, because the time budget is checked at synth time. Fix: pass a "
                "concrete Duration.",
            )
        )
        return low
    if not float(exact).is_integer():
        # The API takes integers of seconds (botocore model: *InSeconds are integers).
        errors.append(
            refusal(
                Rule.WHOLE_SECONDS,
                f"{what} = {value.to_human_string()} ({exact:g} s) is not a whole number of "
                f"seconds; SageMaker takes whole seconds. Fix: use "
                f"Duration.seconds({math.floor(exact)}) or Duration.seconds({math.ceil(exact)}).",
            )
        )
        return low
    seconds = int(exact)
    if not low <= seconds <= high:
        errors.append(
            refusal(
                rule,
                f"{what} = {human(seconds)} is outside {low}..{high} s ({rule.summary}). "
                f"Fix: {fix}",
            )
        )
    return seconds


#: Durations converted already (a Duration never changes), such as the service timeout that every
#: endpoint passes to `bind`.
_CONVERTED: weakref.WeakKeyDictionary[Duration, float | None] = weakref.WeakKeyDictionary()


def _exact_seconds(value: Duration) -> float | None:
    """`value` in seconds (maybe fractional), or None when it is a token: one round trip to jsii's
    Node process per Duration, instead of `is_unresolved()` and `to_seconds()` on every use."""
    if value in _CONVERTED:
        return _CONVERTED[value]
    exact = _convert(value)
    _CONVERTED[value] = exact
    return exact


def _convert(value: Duration) -> float | None:
    try:
        exact = value.to_seconds(integral=False)
    except RuntimeError:
        # aws-cdk-lib refuses to convert a token given in another unit than seconds.
        if value.is_unresolved():
            return None
        raise
    # A token given in seconds converts to itself: a token-encoded number.
    return None if is_unresolved(exact) else exact


def _raise_if(errors: list[str], what: str) -> None:
    if errors:
        raise ValueError(f"sagemaker-rollout: {what} is refused:\n  " + "\n  ".join(errors))


def _wait(errors: list[str], what: str, value: Duration) -> int:
    # Fact sheet: WaitIntervalInSeconds 0..3600 (botocore model TrafficRoutingConfig,
    # RollingUpdatePolicy).
    return _seconds(errors, what, value, low=0, high=MAX_WAIT_SECONDS, rule=Rule.WAIT_RANGE,
                    fix="use a wait from Duration.seconds(0) to Duration.hours(1).")


# --- traffic routing --------------------------------------------------------------------------


class TrafficRouting:
    """How a blue/green deployment shifts traffic to the new (green) fleet.

    Use `TrafficRouting.all_at_once()`, `.canary(...)` or `.linear(...)`.
    """

    def __init__(self, kind: str, size: CapacitySize | None, wait_seconds: int) -> None:
        """Private: use the static factories (they validate)."""
        self.kind = kind
        self.size = size
        #: The bake after each step (WaitIntervalInSeconds), in whole seconds.
        self.wait_seconds = wait_seconds

    @property
    def wait(self) -> Duration:
        """The bake after each step (WaitIntervalInSeconds)."""
        return Duration.seconds(self.wait_seconds)

    @staticmethod
    def all_at_once() -> TrafficRouting:
        """Shift 100% of the traffic to the green fleet in one step, then the final bake
        (`termination_wait`), then terminate blue (fact sheet, "What happens during each kind of
        deployment")."""
        return TrafficRouting(_ALL_AT_ONCE, None, 0)

    @staticmethod
    def canary(*, size: CapacitySize, bake_time: Duration) -> TrafficRouting:
        """Shift `size` of the fleet to green, bake `bake_time` (alarms watched), then the rest.

        `size` must be at most 50% of the variant's total instance count (botocore model,
        TrafficRoutingConfig.CanarySize: "must be less than or equal to 50% of the variant's
        total instance count"). A percentage is checked here; an instance count in `bind`.
        """
        errors: list[str] = []
        wait = _wait(errors, "canary bake_time", bake_time)
        if size.is_percent and size.value > 50:
            errors.append(_share_refusal(Rule.CANARY_AT_MOST_HALF, "canary size", size, 0, 50))
        _raise_if(errors, "TrafficRouting.canary")
        return TrafficRouting(_CANARY, size, wait)

    @staticmethod
    def linear(*, step_size: CapacitySize, interval: Duration) -> TrafficRouting:
        """Shift `step_size` of the fleet at a time, baking `interval` after each step.

        `step_size` must be 10..50% of the variant's total instance count (botocore model,
        TrafficRoutingConfig.LinearStepSize: "must be 10-50% of the variant's total instance
        count").
        """
        errors: list[str] = []
        wait = _wait(errors, "linear interval", interval)
        if step_size.is_percent and not 10 <= step_size.value <= 50:
            errors.append(
                _share_refusal(Rule.LINEAR_STEP_10_TO_50, "linear step_size", step_size, 10, 50)
            )
        _raise_if(errors, "TrafficRouting.linear")
        return TrafficRouting(_LINEAR, step_size, wait)

    def render(self) -> dict[str, Any]:
        """The API's `TrafficRoutingConfiguration`."""
        # WaitIntervalInSeconds is required by the API even for ALL_AT_ONCE (fact sheet: "The
        # developer guide's own ALL_AT_ONCE example omits WaitIntervalInSeconds, which the API
        # requires: boto3 rejects it").
        out: dict[str, Any] = {"Type": self.kind, "WaitIntervalInSeconds": self.wait_seconds}
        if self.kind == _CANARY and self.size is not None:
            out["CanarySize"] = self.size.render()
        if self.kind == _LINEAR and self.size is not None:
            out["LinearStepSize"] = self.size.render()
        return out


def _share_refusal(rule: Rule, what: str, size: CapacitySize, low: int, high: int) -> str:
    limit = f"at most {high}%" if low == 0 else f"{low}..{high}%"
    return refusal(
        rule,
        f"{what} = {size.describe()} is outside the limit of {limit} of the variant's total "
        f"instance count ({rule.summary}). Fix: use CapacitySize.percent(p) with p "
        f"{'<= ' + str(high) if low == 0 else f'from {low} to {high}'}.",
    )


# --- strategies -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spec:
    """A validated strategy; its durations in whole seconds."""

    policy: str  # "blue_green" | "rolling"
    routing: TrafficRouting | None
    termination_wait_seconds: int
    batch_size: CapacitySize | None
    bake_seconds: int
    rollback_batch_size: CapacitySize | None
    maximum_execution_timeout_seconds: int | None
    provisioning_allowance_seconds: int

    @property
    def kind(self) -> str:
        return _ROLLING if self.routing is None else self.routing.kind

    @property
    def step_size(self) -> CapacitySize | None:
        return self.batch_size if self.routing is None else self.routing.size


def _common_checks(
    errors: list[str],
    maximum_execution_timeout: Duration | None,
    provisioning_allowance: Duration | None,
) -> tuple[int | None, int]:
    """The maximum execution timeout (None: not given) and the provisioning allowance, in
    seconds, range-checked."""
    timeout: int | None = None
    if maximum_execution_timeout is not None:
        # Fact sheet: MaximumExecutionTimeoutInSeconds 600..28800 (botocore model).
        timeout = _seconds(
            errors, "maximum_execution_timeout", maximum_execution_timeout,
            low=MIN_MAXIMUM_EXECUTION_TIMEOUT_SECONDS, high=MAX_MAXIMUM_EXECUTION_TIMEOUT_SECONDS,
            rule=Rule.TIMEOUT_RANGE,
            fix="use 10 minutes or more (and, for a one-hour custom resource, less than an hour), "
            "or leave it out to get the largest that fits.",
        )
    if provisioning_allowance is None:
        return timeout, PROVISIONING_ALLOWANCE_SECONDS
    provisioning = _seconds(
        errors, "provisioning_allowance", provisioning_allowance,
        low=0, high=MAX_PROVISIONING_ALLOWANCE_SECONDS, rule=Rule.PROVISIONING_ALLOWANCE_RANGE,
        fix="use a realistic time to start one fleet or batch, at most Duration.hours(1).",
    )
    return timeout, provisioning


class DeploymentStrategy:
    """How SageMaker deploys a new EndpointConfig to the endpoint.

    Build one with `blue_green(...)`, `rolling(...)`, `all_at_once(...)` or `default()`.
    """

    def __init__(self, spec: _Spec) -> None:
        """Private: use the static factories (they validate)."""
        self._spec = spec

    # -- factories --

    @staticmethod
    def default() -> DeploymentStrategy:
        """Blue/green, all at once, no termination wait, the largest MaximumExecutionTimeout that
        fits the custom resource.

        Why: it is what SageMaker itself does when no policy is given (fact sheet, "No policy
        given: blue/green with ALL_AT_ONCE traffic shifting"), so choosing it changes nothing a
        user of CloudFormation would expect; it is the only strategy every endpoint supports
        (serverless, several variants, Inf1/Marketplace/Elastic Inference, which fall back to it
        anyway); and it is the fastest. Canary and linear only protect you when auto-rollback
        alarms watch the bake (fact sheet: alarms "are a prerequisite for baking periods"), which
        a default cannot provide: with alarms, prefer a canary.
        """
        return DeploymentStrategy.all_at_once()

    @staticmethod
    def all_at_once(
        *,
        termination_wait: Duration | None = None,
        maximum_execution_timeout: Duration | None = None,
        provisioning_allowance: Duration | None = None,
    ) -> DeploymentStrategy:
        """Shortcut for `blue_green(traffic_routing=TrafficRouting.all_at_once(), ...)`."""
        return DeploymentStrategy.blue_green(
            traffic_routing=TrafficRouting.all_at_once(),
            termination_wait=termination_wait,
            maximum_execution_timeout=maximum_execution_timeout,
            provisioning_allowance=provisioning_allowance,
        )

    @staticmethod
    def blue_green(
        *,
        traffic_routing: TrafficRouting | None = None,
        termination_wait: Duration | None = None,
        maximum_execution_timeout: Duration | None = None,
        provisioning_allowance: Duration | None = None,
    ) -> DeploymentStrategy:
        """A blue/green deployment (BlueGreenUpdatePolicy).

        :param traffic_routing: default `TrafficRouting.all_at_once()`.
        :param termination_wait: the final bake before the old fleet is terminated, 0..1 h
            (TerminationWaitInSeconds). Default 0.
        :param maximum_execution_timeout: 600 s..8 h by the API, and small enough for the custom
            resource to wait it out and a rollback (time_budget.py). Default: the largest that
            fits (always sent explicitly).
        :param provisioning_allowance: time assumed to provision the green fleet, for the time
            budget. Default `PROVISIONING_ALLOWANCE_SECONDS` (10 min).
        """
        errors: list[str] = []
        termination = 0
        if termination_wait is not None:
            # Fact sheet: TerminationWaitInSeconds 0..3600 (botocore model BlueGreenUpdatePolicy).
            termination = _seconds(
                errors, "termination_wait", termination_wait, low=0,
                high=MAX_TERMINATION_WAIT_SECONDS, rule=Rule.TERMINATION_WAIT_RANGE,
                fix="use a termination wait from Duration.seconds(0) to Duration.hours(1).",
            )
        timeout, provisioning = _common_checks(
            errors, maximum_execution_timeout, provisioning_allowance
        )
        _raise_if(errors, "DeploymentStrategy.blue_green")
        return DeploymentStrategy(
            _Spec(
                policy="blue_green",
                routing=traffic_routing or TrafficRouting.all_at_once(),
                termination_wait_seconds=termination,
                batch_size=None,
                bake_seconds=0,
                rollback_batch_size=None,
                maximum_execution_timeout_seconds=timeout,
                provisioning_allowance_seconds=provisioning,
            )
        )

    @staticmethod
    def rolling(
        *,
        batch_size: CapacitySize,
        bake_time: Duration,
        rollback_batch_size: CapacitySize | None = None,
        maximum_execution_timeout: Duration | None = None,
        provisioning_allowance: Duration | None = None,
    ) -> DeploymentStrategy:
        """A rolling deployment (RollingUpdatePolicy): per batch, provision, shift, bake
        `bake_time`, terminate that much old capacity.

        :param batch_size: 5..50% of the variant's instances (botocore model,
            RollingUpdatePolicy.MaximumBatchSize: "between 5% to 50% of the variant's total
            instance count").
        :param bake_time: 0..1 h per batch (WaitIntervalInSeconds).
        :param rollback_batch_size: default absent = 100%, "SageMaker uses a blue/green rollback
            strategy and rolls all traffic back to the blue fleet" (API reference, CapacitySize).
        :param maximum_execution_timeout: as for `blue_green`.
        :param provisioning_allowance: time assumed per batch (and per rollback batch).
        Refused for serverless endpoints and endpoints with more than one variant (fact sheet,
        "Exclusions").
        """
        errors: list[str] = []
        bake = _wait(errors, "rolling bake_time", bake_time)
        if batch_size.is_percent and not 5 <= batch_size.value <= 50:
            errors.append(
                _share_refusal(Rule.ROLLING_BATCH_5_TO_50, "rolling batch_size", batch_size, 5, 50)
            )
        timeout, provisioning = _common_checks(
            errors, maximum_execution_timeout, provisioning_allowance
        )
        _raise_if(errors, "DeploymentStrategy.rolling")
        return DeploymentStrategy(
            _Spec(
                policy="rolling",
                routing=None,
                termination_wait_seconds=0,
                batch_size=batch_size,
                bake_seconds=bake,
                rollback_batch_size=rollback_batch_size,
                maximum_execution_timeout_seconds=timeout,
                provisioning_allowance_seconds=provisioning,
            )
        )

    # -- introspection --

    @property
    def kind(self) -> str:
        """`ALL_AT_ONCE`, `CANARY`, `LINEAR` (blue/green) or `ROLLING`."""
        return self._spec.kind

    def time_budget(
        self, *, variants: Sequence[VariantFacts], service_timeout: Duration
    ) -> TimeBudget:
        """The worst-case timeline against `service_timeout`, for concrete `variants`.

        Raises ValueError when the budget cannot be computed (refused configuration or unknown
        instance counts).
        """
        errors: list[str] = []
        st = _service_timeout(errors, service_timeout)
        _raise_if(errors, "the service timeout")
        outcome = _plan(self._spec, [_Variant.concrete(v) for v in variants], st, None)
        _raise_if(outcome.errors, "this deployment strategy")
        if outcome.budget is None:
            raise ValueError(
                refusal(Rule.CONCRETE_INSTANCE_COUNT, "the instance counts are not known.")
            )
        return outcome.budget

    # -- rendering --

    def bind(
        self,
        scope: Construct,
        *,
        variants: Sequence[VariantFacts],
        service_timeout: Duration,
        alarms: Sequence[cloudwatch.IAlarm] | None = None,
    ) -> dict[str, Any]:
        """Validate against the endpoint's variants and render the `DeploymentConfig` (without
        `AutoRollbackConfiguration`; see `render_auto_rollback`).

        :param service_timeout: the custom resource's ServiceTimeout (the time budget).
        :param alarms: the auto-rollback alarms, when the caller wants the "bakes without
            alarms" warning; None skips that warning.
        :raises ValueError: a refusal for each broken rule, with the arithmetic.
        """
        errors: list[str] = []
        st = _service_timeout(errors, service_timeout)
        if errors:  # (the path is a round trip to jsii's Node process: only for the message)
            _raise_if(errors, f"the deployment of {scope.node.path}")
        resolved = [_Variant.resolve(scope, v) for v in variants]
        outcome = _plan(self._spec, resolved, st, alarms)
        if outcome.errors:
            _raise_if(outcome.errors, f"the deployment strategy of {scope.node.path}")
        for warning, message in outcome.warnings:
            Annotations.of(scope).add_warning_v2(warning.full_id, message)
        if not any(v.unknown for v in resolved):
            return outcome.config
        # Some facts are tokens: check again at synth, when a Lazy value may have resolved.
        deferred = _DeferredChecks(scope, self._spec, variants, st, alarms)
        scope.node.add_validation(deferred)
        policy = next(iter(outcome.config.values()))
        if policy.get("MaximumExecutionTimeoutInSeconds") is None:
            policy["MaximumExecutionTimeoutInSeconds"] = Lazy.number(_TimeoutProducer(deferred))
        return outcome.config


def _service_timeout(errors: list[str], service_timeout: Duration) -> int:
    # AWS::CloudFormation::CustomResource ServiceTimeout: 1..3600 s (custom-resources fact sheet).
    return _seconds(
        errors, "service_timeout", service_timeout, low=1, high=MAX_SERVICE_TIMEOUT_SECONDS,
        rule=Rule.SERVICE_TIMEOUT_RANGE, fix="use at most Duration.hours(1).",
    )


# --- planning: every cross-field rule and the time budget --------------------------------------


@dataclass(frozen=True)
class _Variant:
    name: str
    serverless: bool
    #: None: serverless, or a token not resolved yet.
    instance_count: int | None
    #: None: serverless, or a token not resolved yet.
    instance_type: str | None
    count_unknown: bool = False
    type_unknown: bool = False
    #: The count as given, when it is not a whole number.
    given_count: float | None = None

    @property
    def unknown(self) -> bool:
        return self.count_unknown or self.type_unknown

    @staticmethod
    def concrete(facts: VariantFacts) -> _Variant:
        return _Variant.resolve(None, facts)

    @staticmethod
    def resolve(scope: Construct | None, facts: VariantFacts) -> _Variant:
        if facts.serverless:
            return _Variant(facts.variant_name, True, None, None)
        count = _resolved(scope, facts.initial_instance_count)
        kind = _resolved(scope, facts.instance_type)
        if isinstance(count, int | float) and not float(count).is_integer():
            # Not a whole number of instances: planned as 0, refused in _plan with the value.
            return _Variant(facts.variant_name, False, 0, kind if isinstance(kind, str) else None,
                            given_count=count)
        return _Variant(
            facts.variant_name,
            False,
            int(count) if isinstance(count, int | float) else None,
            kind if isinstance(kind, str) else None,
            count_unknown=not isinstance(count, int | float),
            type_unknown=facts.instance_type is not None and not isinstance(kind, str),
        )


def _resolved(scope: Construct | None, value: Any) -> Any:
    """`value`, resolved now if it is a token that can be (a `Lazy` already produced); None if
    it cannot be resolved yet."""
    if value is None or not is_unresolved(value):
        return value
    if scope is None:
        return None
    result = Stack.of(scope).resolve(value)
    if isinstance(result, bool) or is_unresolved(result):
        return None
    return result if isinstance(result, int | float | str) else None


@dataclass
class _Outcome:
    config: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    warnings: list[tuple[WarningId, str]] = field(default_factory=list)
    #: Checks not run because a value is still a token.
    skipped: list[str] = field(default_factory=list)
    #: Variants whose unknown instance count the time budget needs.
    needs_count: list[str] = field(default_factory=list)
    budget: TimeBudget | None = None


#: (rule, lowest %, highest %) for the size of each kind of step (lowest 0: "at most").
_SHARE_LIMITS: dict[str, tuple[Rule, int, int]] = {
    # botocore model, TrafficRoutingConfig.CanarySize.
    _CANARY: (Rule.CANARY_AT_MOST_HALF, 0, 50),
    # botocore model, TrafficRoutingConfig.LinearStepSize.
    _LINEAR: (Rule.LINEAR_STEP_10_TO_50, 10, 50),
    # botocore model, RollingUpdatePolicy.MaximumBatchSize.
    _ROLLING: (Rule.ROLLING_BATCH_5_TO_50, 5, 50),
}
_STEP_NAMES = {_CANARY: "canary size", _LINEAR: "linear step_size", _ROLLING: "rolling batch_size"}


def _plan(
    spec: _Spec,
    variants: Sequence[_Variant],
    service_timeout: int,
    alarms: Sequence[cloudwatch.IAlarm] | None,
) -> _Outcome:
    """Apply every rule that needs the variants and the service timeout; render the config."""
    out = _Outcome(config={})
    kind = spec.kind
    if not variants:
        out.errors.append(refusal(Rule.AT_LEAST_ONE_VARIANT,
                                  "variants is empty; the limit is at least one production "
                                  "variant. Fix: give the endpoint config a variant."))
    _check_exclusions(spec, variants, out)
    step = spec.step_size
    for variant in variants:
        if variant.serverless:
            continue
        if variant.count_unknown:
            if step is not None:
                out.skipped.append(f"the {_STEP_NAMES[kind]} against variant {variant.name}'s "
                                   "instance count")
        elif variant.instance_count is not None and variant.instance_count < 1:
            shown = variant.instance_count if variant.given_count is None else variant.given_count
            out.errors.append(refusal(
                Rule.SIZE_AT_LEAST_ONE,
                f"variant {variant.name}: initial_instance_count = {shown}; the limit is a whole "
                "number >= 1 (InitialInstanceCount). Fix: give it at least one whole instance."))
        elif step is not None:
            _check_share(kind, step, variant.name, variant.instance_count or 1, out)
        _check_fallback(spec, variant, out)
    # Fact sheet: alarms "are a prerequisite for baking periods: without alarms auto-rollback does
    # not work, and that is no API error (warn about it)".
    if alarms is not None and not alarms and not _is_plain_all_at_once(spec):
        out.warnings.append((WarningId.BAKING_WITHOUT_ALARMS,
                             f"{kind} deployment without auto-rollback alarms: its bake periods "
                             "watch nothing and nothing rolls back a bad model. Add alarms "
                             "(1..10), or use DeploymentStrategy.all_at_once()."))
    budget = _budget(spec, variants, service_timeout, out)
    out.budget = budget
    given = spec.maximum_execution_timeout_seconds
    timeout: int | None = given
    if budget is not None and not out.errors:
        timeout, budget_errors = budget.resolve_timeout(given)
        out.errors.extend(budget_errors)
    out.config = _render(spec, timeout)
    return out


def _is_plain_all_at_once(spec: _Spec) -> bool:
    return spec.kind == _ALL_AT_ONCE and spec.termination_wait_seconds == 0


def _check_exclusions(spec: _Spec, variants: Sequence[_Variant], out: _Outcome) -> None:
    serverless = [v.name for v in variants if v.serverless]
    if spec.kind == _ROLLING:
        # Fact sheet, "Exclusions": "Rolling deployments do not support serverless endpoints or
        # endpoints with more than one variant" (deployment-guardrails-exclusions).
        if serverless:
            out.errors.append(refusal(
                Rule.ROLLING_NOT_SERVERLESS,
                f"a rolling deployment on serverless variant(s) {', '.join(serverless)}; the "
                "limit is provisioned instances only. Fix: use DeploymentStrategy.all_at_once()."))
        if len(variants) > 1:
            out.errors.append(refusal(
                Rule.ROLLING_SINGLE_VARIANT,
                f"a rolling deployment on {len(variants)} variants "
                f"({', '.join(v.name for v in variants)}); the limit is 1 variant. Fix: use "
                "DeploymentStrategy.blue_green(...)."))
    elif spec.kind != _ALL_AT_ONCE and serverless:
        # Fact sheet, "Exclusions": serverless endpoints do not support blue/green traffic
        # shifting beyond ALL_AT_ONCE (*unverified detail*; the emulator enforces it too).
        out.errors.append(refusal(
            Rule.SERVERLESS_ALL_AT_ONCE_ONLY,
            f"{spec.kind} traffic routing on serverless variant(s) {', '.join(serverless)}; the "
            "limit is ALL_AT_ONCE for serverless. Fix: use TrafficRouting.all_at_once() (with a "
            "termination_wait to bake)."))


def _check_share(kind: str, step: CapacitySize, name: str, count: int, out: _Outcome) -> None:
    rule, low, high = _SHARE_LIMITS[kind]
    what = _STEP_NAMES[kind]
    if not step.is_percent:
        # Integer arithmetic: share = 100 * value / count, inside [low, high] %.
        if 100 * step.value > high * count or 100 * step.value < low * count:
            first = max(1, math.ceil(low * count / 100))
            last = high * count // 100
            fix = (f"use CapacitySize.count(k) with k from {first} to {last}"
                   if first <= last else
                   f"no instance count works for {count} instance(s); use more instances or "
                   "another strategy")
            out.errors.append(refusal(
                rule,
                f"variant {name}: {what} = {step.describe()} is "
                f"{step.share_percent(count):.3g}% of its {count} instance(s); the limit is "
                f"{'at most ' if low == 0 else f'{low}..'}{high}% ({rule.summary}). Fix: {fix}, "
                "or a CapacitySize.percent."))
        return
    # *Unverified*: SageMaker's rounding of a percentage to instances is not documented: warn
    # when the result is not a whole number of instances strictly between 0 and the fleet.
    exact = step.exact_instances(count)
    if exact < 1:
        out.warnings.append((WarningId.STEP_ROUNDS_TO_ZERO,
                             f"variant {name}: {what} {step.describe()} of {count} instance(s) is "
                             f"{exact:g} instance(s), which rounds down to 0. Use "
                             "CapacitySize.count(1) to say what you mean, or more instances."))
    if math.ceil(exact) >= count:
        out.warnings.append((WarningId.STEP_IS_WHOLE_FLEET,
                             f"variant {name}: {what} {step.describe()} of {count} instance(s) "
                             f"rounds up to {math.ceil(exact)}, the whole fleet: the step guards "
                             "nothing. Use more instances or DeploymentStrategy.all_at_once()."))


def _check_fallback(spec: _Spec, variant: _Variant, out: _Outcome) -> None:
    # Fact sheet, "Exclusions": endpoints with Inf1 instances (or Marketplace containers or
    # Elastic Inference, which the construct cannot see) "silently fall back to blue/green
    # ALL_AT_ONCE with no final baking period" (deployment-guardrails-exclusions).
    if variant.type_unknown:
        out.skipped.append(f"the Inf1 fallback check of variant {variant.name}")
        return
    if (variant.instance_type or "").startswith("ml.inf1.") and not _is_plain_all_at_once(spec):
        out.warnings.append((WarningId.SILENT_ALL_AT_ONCE,
                             f"variant {variant.name} runs on {variant.instance_type}: SageMaker "
                             f"ignores the {spec.kind} strategy for Inf1 instances and deploys "
                             "ALL_AT_ONCE with no final bake. Use DeploymentStrategy.all_at_once() "
                             "to say so, or another instance type."))


def _budget(
    spec: _Spec, variants: Sequence[_Variant], service_timeout: int, out: _Outcome
) -> TimeBudget | None:
    """The worst-case timeline (time_budget.py), or None when it needs an unknown count."""
    provisioning = spec.provisioning_allowance_seconds
    rollback_to_blue = Term("rollback allowance", ROLLBACK_ALLOWANCE_SECONDS)
    counts = [v.instance_count for v in variants if not v.serverless]
    if spec.kind in (_LINEAR, _ROLLING) and any(c is None for c in counts):
        out.needs_count.extend(v.name for v in variants if v.count_unknown)
        return None
    known = [c for c in counts if c is not None and c >= 1]
    if spec.routing is not None:
        wait = spec.routing.wait_seconds
        termination = spec.termination_wait_seconds
        if spec.kind == _LINEAR and spec.routing.size is not None:
            size = spec.routing.size
            steps = max((size.steps_to_cover(c) for c in known), default=1)
            bake = Term("linear interval", wait, steps)
        else:
            steps = 1 if spec.kind == _CANARY else 0
            bake = Term("canary bake", wait, steps)
        return TimeBudget(
            worst_case_terms=(Term("provisioning allowance", provisioning), bake,
                              Term("termination wait", termination)),
            rollback_terms=(rollback_to_blue,),
            waits=wait * steps + termination,
            service_timeout=service_timeout,
        )
    assert spec.batch_size is not None
    count = known[0] if known else 1
    batches = spec.batch_size.steps_to_cover(count)
    wait = spec.bake_seconds
    rollback = spec.rollback_batch_size
    # Absent or 100%: one blue/green style rollback (API reference, CapacitySize).
    rollback_batches = 1 if rollback is None else rollback.steps_to_cover(count)
    return TimeBudget(
        worst_case_terms=(Term("provisioning allowance per batch", provisioning, batches),
                          Term("bake per batch", wait, batches)),
        rollback_terms=(rollback_to_blue,
                        Term("re-provisioning per rollback batch", provisioning,
                             rollback_batches)),
        waits=wait * batches,
        service_timeout=service_timeout,
    )


def _render(spec: _Spec, timeout: int | None) -> dict[str, Any]:
    # Exactly one policy, always (fact sheet: "Only one update policy: BlueGreenUpdatePolicy or
    # RollingUpdatePolicy, not both").
    policy: dict[str, Any]
    if spec.routing is not None:
        policy = {
            "TrafficRoutingConfiguration": spec.routing.render(),
            "TerminationWaitInSeconds": spec.termination_wait_seconds,
        }
        name = "BlueGreenUpdatePolicy"
    else:
        assert spec.batch_size is not None
        policy = {
            "MaximumBatchSize": spec.batch_size.render(),
            "WaitIntervalInSeconds": spec.bake_seconds,
        }
        if spec.rollback_batch_size is not None:
            policy["RollbackMaximumBatchSize"] = spec.rollback_batch_size.render()
        name = "RollingUpdatePolicy"
    policy["MaximumExecutionTimeoutInSeconds"] = timeout
    return {name: policy}


# --- deferred checks (values that are tokens at bind time) -------------------------------------


@jsii.implements(IValidation)
class _DeferredChecks:
    """Re-runs the plan at synth, when `Lazy` instance counts / types may have resolved."""

    def __init__(
        self,
        scope: Construct,
        spec: _Spec,
        variants: Sequence[VariantFacts],
        service_timeout: int,
        alarms: Sequence[cloudwatch.IAlarm] | None,
    ) -> None:
        self._scope = scope
        self._spec = spec
        self._variants = list(variants)
        self._service_timeout = service_timeout
        self._alarms = alarms
        self._outcome: _Outcome | None = None

    def outcome(self) -> _Outcome:
        if self._outcome is None:
            resolved = [_Variant.resolve(self._scope, v) for v in self._variants]
            self._outcome = _plan(self._spec, resolved, self._service_timeout, self._alarms)
        return self._outcome

    def validate(self) -> list[str]:
        out = self.outcome()
        annotations = Annotations.of(self._scope)
        for warning, message in out.warnings:
            annotations.add_warning_v2(warning.full_id, message)
        if out.skipped:
            annotations.add_warning_v2(
                WarningId.CHECKS_SKIPPED.full_id,
                "values are still tokens at synth, so these checks were skipped (SageMaker makes "
                f"its own at deploy time): {'; '.join(out.skipped)}.",
            )
        errors = list(out.errors)
        if out.needs_count:
            errors.append(refusal(
                Rule.CONCRETE_INSTANCE_COUNT,
                f"a {self._spec.kind} deployment needs the instance count of variant(s) "
                f"{', '.join(out.needs_count)} to plan its steps and time budget, but it is an "
                "unresolved token at synth; the limit is a number known at synth. Fix: give a "
                "concrete initial_instance_count, or use DeploymentStrategy.all_at_once() or a "
                "canary."))
        return errors


@jsii.implements(IStableNumberProducer)
class _TimeoutProducer:
    """Produces the MaximumExecutionTimeoutInSeconds once the deferred plan is known."""

    def __init__(self, deferred: _DeferredChecks) -> None:
        self._deferred = deferred

    def produce(self) -> int:
        timeout = next(iter(self._deferred.outcome().config.values())).get(
            "MaximumExecutionTimeoutInSeconds"
        )
        # Unreachable in a successful synth: without a count the deferred validation fails first.
        return int(timeout) if isinstance(timeout, int) else MIN_MAXIMUM_EXECUTION_TIMEOUT_SECONDS


# --- auto-rollback alarms --------------------------------------------------------------------


def render_auto_rollback(alarms: Sequence[cloudwatch.IAlarm]) -> dict[str, Any] | None:
    """The `AutoRollbackConfiguration` for these alarms, or None when there are none.

    1..10 alarms (botocore model AlarmList; fact sheet, "DeploymentConfig.AutoRollbackConfiguration:
    Alarms: 1..10 items"). No alarms renders nothing (an empty list is not API-valid).
    """
    if not alarms:
        return None
    if len(alarms) > MAX_ALARMS:
        raise ValueError(refusal(
            Rule.ALARMS_1_TO_10,
            f"{len(alarms)} auto-rollback alarms; the limit is {MAX_ALARMS} "
            "(AutoRollbackConfiguration.Alarms 1..10). Fix: pass at most 10 alarms, the ones "
            "that tell a bad model from a good one.",
        ))
    return {"Alarms": [{"AlarmName": alarm.alarm_name} for alarm in alarms]}
