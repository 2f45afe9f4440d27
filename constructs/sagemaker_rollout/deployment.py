"""Deployment strategies: how SageMaker moves traffic from the old EndpointConfig to the new one.

Typed, validated at `cdk synth`. The shape follows aws-cdk's CodeDeploy traffic routing::

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

Where each part lives:

- `DeploymentStrategy` (here): the public factories, `kind`, `time_budget` and `bind`. Behind
  each strategy is one validated update policy: `BlueGreenPolicy` (blue_green.py) with its
  `TrafficRouting` (traffic_routing.py: one class per mode), or `RollingPolicy` (rolling.py).
- durations.py: Durations to whole seconds, checked; time_budget.py: the worst-case timeline.
- validation.py: the rules that need the endpoint's variants (`plan`), deferred to synth time
  when a value is still a token; variant_facts.py: `VariantFacts` and their tokens.
- rules.py: every rule id and warning id; auto_rollback.py: `render_auto_rollback`.

What the construct calls (`endpoint_refusals.py` binds the strategy, `endpoint_properties.py`
and `endpoint_alarms.py` render the alarms):

- `VariantFacts`: what the construct knows about each production variant at synth time.
- `DeploymentStrategy.bind_deployment(scope, variants=..., service_timeout=..., alarms=...,
  wait_mode=...)` -> a `BoundDeployment`: the CloudFormation/API-shaped `DeploymentConfig`
  *without* `AutoRollbackConfiguration`, the wait mode (wait_mode.py) and, in the WaitCondition
  mode, the WaitCondition's Timeout (`bind` returns the config alone). Eager
  checks raise `ValueError`; checks that need a value that is still a token are deferred with
  `scope.node.add_validation` (or skipped, with a warning saying so); legal-but-suspicious
  settings warn with `Annotations.of(scope).add_warning_v2("sagemaker-rollout:<id>", ...)`.
- `render_auto_rollback(alarms)` -> `{"Alarms": [{"AlarmName": ...}, ...]}` or None (1..10).

Every refusal starts with `[sagemaker-rollout:<rule id>]` (rules.py; the documentation's
"Rules") and names the field, the value, the limit and the fix. "Fact sheet" is the project's
reference notes on SageMaker endpoint deployments, which cite the botocore model and AWS docs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Annotations, Duration, Lazy
from aws_cdk import aws_cloudwatch as cloudwatch

from constructs import Construct

from .auto_rollback import MAX_ALARMS, render_auto_rollback
from .blue_green import MAX_TERMINATION_WAIT_SECONDS, BlueGreenPolicy
from .capacity import CapacitySize
from .durations import MAX_WAIT_SECONDS, raise_refusals, service_timeout_seconds
from .rolling import RollingPolicy
from .rules import Rule, refusal
from .time_budget import TimeBudget
from .traffic_routing import TrafficRouting
from .update_policy import MAX_PROVISIONING_ALLOWANCE_SECONDS, UpdatePolicy
from .validation import DeferredChecks, TimeoutProducer, WaitConditionTimeoutProducer, plan
from .variant_facts import ResolvedVariant, VariantFacts
from .wait_mode import WaitMode

__all__ = [
    "MAX_ALARMS",
    "MAX_PROVISIONING_ALLOWANCE_SECONDS",
    "MAX_TERMINATION_WAIT_SECONDS",
    "MAX_WAIT_SECONDS",
    "BoundDeployment",
    "CapacitySize",
    "DeploymentStrategy",
    "TrafficRouting",
    "VariantFacts",
    "render_auto_rollback",
    "shadow_variants_refusal",
]


@dataclass(frozen=True)
class BoundDeployment:
    """A strategy bound to an endpoint: what to send SageMaker and what waits for it."""

    #: The API's DeploymentConfig without AutoRollbackConfiguration.
    config: dict[str, Any]
    #: What waits for the deployment to end.
    wait_mode: WaitMode
    #: The WaitCondition's Timeout in seconds (a string, maybe a token resolved at synth);
    #: None in the custom-resource mode.
    wait_condition_timeout: str | None = None


class DeploymentStrategy:
    """How SageMaker deploys a new EndpointConfig to the endpoint.

    Build one with `blue_green(...)`, `rolling(...)`, `all_at_once(...)` or `default()`.
    """

    def __init__(self, policy: UpdatePolicy) -> None:
        """Private: use the static factories (they validate)."""
        self._policy = policy

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
        return DeploymentStrategy(BlueGreenPolicy.build(
            traffic_routing, termination_wait, maximum_execution_timeout, provisioning_allowance))

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
        return DeploymentStrategy(RollingPolicy.build(
            batch_size, bake_time, rollback_batch_size, maximum_execution_timeout,
            provisioning_allowance))

    # -- introspection --

    @property
    def kind(self) -> str:
        """`ALL_AT_ONCE`, `CANARY`, `LINEAR` (blue/green) or `ROLLING`."""
        return self._policy.kind

    def time_budget(
        self,
        *,
        variants: Sequence[VariantFacts],
        service_timeout: Duration,
        wait_mode: WaitMode | None = None,
    ) -> TimeBudget:
        """The worst-case timeline against `service_timeout` (or, in the WaitCondition mode, the
        WaitCondition's 12 hours), for concrete `variants`.

        :param wait_mode: as ``RolloutEndpoint(wait_mode=...)``. Default: - the mode the
            endpoint would choose (``budget.wait_condition`` tells which)

        Raises ValueError when the budget cannot be computed (refused configuration or unknown
        instance counts).
        """
        errors: list[str] = []
        seconds = service_timeout_seconds(errors, service_timeout)
        raise_refusals(errors, "the service timeout")
        outcome = plan(self._policy, [ResolvedVariant.concrete(v) for v in variants], seconds,
                       None, wait_mode)
        raise_refusals(outcome.errors, "this deployment strategy")
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
        wait_mode: WaitMode | None = None,
    ) -> dict[str, Any]:
        """The `DeploymentConfig` of `bind_deployment`."""
        return self.bind_deployment(
            scope, variants=variants, service_timeout=service_timeout, alarms=alarms,
            wait_mode=wait_mode,
        ).config

    def bind_deployment(
        self,
        scope: Construct,
        *,
        variants: Sequence[VariantFacts],
        service_timeout: Duration,
        alarms: Sequence[cloudwatch.IAlarm] | None = None,
        wait_mode: WaitMode | None = None,
    ) -> BoundDeployment:
        """Validate against the endpoint's variants, choose the wait mode and render the
        `DeploymentConfig` (without `AutoRollbackConfiguration`; see `render_auto_rollback`).

        :param service_timeout: the custom resource's ServiceTimeout (the time budget).
        :param alarms: the auto-rollback alarms, when the caller wants the "bakes without
            alarms" warning; None skips that warning.
        :param wait_mode: what waits for the deployment. Default: - the custom resource when
            the worst case fits its hour (or is unknown until synth), else a WaitCondition; an
            info annotation on `scope` says so
        :raises ValueError: a refusal for each broken rule, with the arithmetic.
        """
        errors: list[str] = []
        bound = self.bind_collecting(scope, errors, variants=variants,
                                     service_timeout=service_timeout, alarms=alarms,
                                     wait_mode=wait_mode)
        raise_refusals(errors, f"the deployment strategy of {scope.node.path}")
        assert bound is not None
        return bound

    def bind_collecting(
        self,
        scope: Construct,
        errors: list[str],
        *,
        variants: Sequence[VariantFacts],
        service_timeout: Duration,
        alarms: Sequence[cloudwatch.IAlarm] | None = None,
        wait_mode: WaitMode | None = None,
    ) -> BoundDeployment | None:
        """`bind_deployment`, with the refusals appended to `errors` instead of raised (for a
        construct that raises all of its refusals at once); None when there are any."""
        refused: list[str] = []
        seconds = service_timeout_seconds(refused, service_timeout)
        if refused:
            errors.extend(refused)
            return None
        resolved = [ResolvedVariant.resolve(scope, v) for v in variants]
        outcome = plan(self._policy, resolved, seconds, alarms, wait_mode)
        if outcome.errors:
            errors.extend(outcome.errors)
            return None
        for warning, message in outcome.warnings:
            Annotations.of(scope).add_warning_v2(warning.full_id, message)
        for note in outcome.notes:
            Annotations.of(scope).add_info(note)
        waited = outcome.wait_condition_timeout
        bound = BoundDeployment(outcome.config, outcome.mode,
                                None if waited is None else str(waited))
        if not any(v.unknown for v in resolved):
            return bound
        # Some facts are tokens: check again at synth, when a Lazy value may have resolved.
        deferred = DeferredChecks(scope, self._policy, variants, seconds, alarms, outcome.mode)
        scope.node.add_validation(deferred)
        policy = next(iter(outcome.config.values()))
        if policy.get("MaximumExecutionTimeoutInSeconds") is None:
            policy["MaximumExecutionTimeoutInSeconds"] = Lazy.number(TimeoutProducer(deferred))
        if outcome.mode is WaitMode.WAIT_CONDITION and waited is None:
            bound = BoundDeployment(outcome.config, outcome.mode,
                                    Lazy.string(WaitConditionTimeoutProducer(deferred)))
        return bound


def shadow_variants_refusal(strategy: DeploymentStrategy) -> str | None:
    """The refusal of `strategy` on an endpoint with a shadow variant, or None when allowed."""
    return strategy._policy.shadow_variants_refusal()
