"""The rules every strategy is checked against when it is bound to an endpoint's variants.

`plan` applies them all at once and renders the `DeploymentConfig`: the policy's own exclusions,
each variant's instance count against the policy's step size, the Inf1 fallback, alarms for the
bakes, and the time budget (time_budget.py), which decides the MaximumExecutionTimeout. A value
still a token when `bind` runs defers the plan to synth time (`DeferredChecks`, through
`node.add_validation`); a check that still cannot run then is skipped, with a warning.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import jsii
from aws_cdk import Annotations, IStableNumberProducer, IStableStringProducer
from aws_cdk import aws_cloudwatch as cloudwatch

from constructs import Construct, IValidation

from .rules import Rule, WarningId, refusal
from .time_budget import (
    MAX_WAIT_CONDITION_TIMEOUT_SECONDS,
    MIN_MAXIMUM_EXECUTION_TIMEOUT_SECONDS,
    TimeBudget,
)
from .update_policy import UpdatePolicy
from .variant_facts import ResolvedVariant, VariantFacts
from .wait_mode import WaitMode, choose_wait_mode, handoff_note


@dataclass
class Outcome:
    """What the rules made of one policy on one endpoint."""

    config: dict[str, Any]
    errors: list[str] = field(default_factory=list)
    warnings: list[tuple[WarningId, str]] = field(default_factory=list)
    #: Checks not run because a value is still a token.
    skipped: list[str] = field(default_factory=list)
    #: Variants whose unknown instance count the time budget needs.
    needs_count: list[str] = field(default_factory=list)
    budget: TimeBudget | None = None
    #: What waits for the deployment (wait_mode.py).
    mode: WaitMode = WaitMode.CUSTOM_RESOURCE
    #: The WaitCondition's Timeout in seconds, in the WaitCondition mode once it is known.
    wait_condition_timeout: int | None = None
    #: Info annotations (the automatic switch to a WaitCondition).
    notes: list[str] = field(default_factory=list)


def plan(
    policy: UpdatePolicy,
    variants: Sequence[ResolvedVariant],
    service_timeout: int,
    alarms: Sequence[cloudwatch.IAlarm] | None,
    wait_mode: WaitMode | None = None,
) -> Outcome:
    """Apply every rule that needs the variants and the service timeout; render the config.

    :param wait_mode: the user's; None: the custom resource when the deployment fits its hour,
        else a WaitCondition (wait_mode.py).
    """
    out = Outcome(config={})
    if not variants:
        out.errors.append(refusal(Rule.AT_LEAST_ONE_VARIANT,
                                  "variants is empty; the limit is at least one production "
                                  "variant. Fix: give the endpoint config a variant."))
    out.errors.extend(policy.exclusions(variants))
    for variant in variants:
        if not variant.serverless:
            _check_fleet(policy, variant, out)
            _check_fallback(policy, variant, out)
    # Fact sheet: alarms "are a prerequisite for baking periods: without alarms auto-rollback does
    # not work, and that is no API error (warn about it)".
    if alarms is not None and not alarms and not policy.is_plain_all_at_once:
        out.warnings.append((WarningId.BAKING_WITHOUT_ALARMS,
                             f"{policy.kind} deployment without auto-rollback alarms: its bake "
                             "periods watch nothing and nothing rolls back a bad model. Add "
                             "alarms (1..10), or use DeploymentStrategy.all_at_once()."))
    out.budget = _budget(policy, variants, service_timeout, out)
    out.config = policy.render(_timeout(policy, wait_mode, out))
    return out


def _timeout(policy: UpdatePolicy, wait_mode: WaitMode | None, out: Outcome) -> int | None:
    """Choose the wait mode and the MaximumExecutionTimeout (None: unknown until synth)."""
    given = policy.maximum_execution_timeout_seconds
    out.mode = choose_wait_mode(wait_mode, out.budget, given)
    if out.budget is None or out.errors:
        return given
    if out.mode is WaitMode.WAIT_CONDITION:
        out.budget = out.budget.handed_off()
    timeout, budget_errors = out.budget.resolve_timeout(given)
    out.errors.extend(budget_errors)
    if out.mode is WaitMode.WAIT_CONDITION:
        out.wait_condition_timeout = out.budget.wait_condition_timeout(timeout)
        if wait_mode is None:
            out.notes.append(handoff_note(out.budget, given, timeout))
    return timeout


def _check_fleet(policy: UpdatePolicy, variant: ResolvedVariant, out: Outcome) -> None:
    """The variant's instance count, and the policy's step size against it."""
    step, limit = policy.step_size, policy.share_limit
    if variant.count_unknown:
        if step is not None and limit is not None:
            out.skipped.append(f"the {limit.what} against variant {variant.name}'s "
                               "instance count")
    elif variant.instance_count is not None and variant.instance_count < 1:
        shown = variant.instance_count if variant.given_count is None else variant.given_count
        out.errors.append(refusal(
            Rule.SIZE_AT_LEAST_ONE,
            f"variant {variant.name}: initial_instance_count = {shown}; the limit is a whole "
            "number >= 1 (InitialInstanceCount). Fix: give it at least one whole instance."))
    elif step is not None and limit is not None:
        limit.check_fleet(step, variant.name, variant.instance_count or 1, out.errors,
                          out.warnings)


def _check_fallback(policy: UpdatePolicy, variant: ResolvedVariant, out: Outcome) -> None:
    # Fact sheet, "Exclusions": endpoints with Inf1 instances (or Marketplace containers or
    # Elastic Inference, which the construct cannot see) "silently fall back to blue/green
    # ALL_AT_ONCE with no final baking period" (deployment-guardrails-exclusions).
    if variant.type_unknown:
        out.skipped.append(f"the Inf1 fallback check of variant {variant.name}")
        return
    if (variant.instance_type or "").startswith("ml.inf1.") and not policy.is_plain_all_at_once:
        out.warnings.append((WarningId.SILENT_ALL_AT_ONCE,
                             f"variant {variant.name} runs on {variant.instance_type}: SageMaker "
                             f"ignores the {policy.kind} strategy for Inf1 instances and deploys "
                             "ALL_AT_ONCE with no final bake. Use DeploymentStrategy.all_at_once() "
                             "to say so, or another instance type."))


def _budget(
    policy: UpdatePolicy, variants: Sequence[ResolvedVariant], service_timeout: int, out: Outcome
) -> TimeBudget | None:
    """The worst-case timeline (time_budget.py), or None when it needs an unknown count."""
    counts = [v.instance_count for v in variants if not v.serverless]
    if policy.needs_instance_count and any(c is None for c in counts):
        out.needs_count.extend(v.name for v in variants if v.count_unknown)
        return None
    known = [c for c in counts if c is not None and c >= 1]
    return policy.budget(known, service_timeout)


# --- deferred checks (values that are tokens at bind time) -------------------------------------


@jsii.implements(IValidation)
class DeferredChecks:
    """Re-runs the plan at synth, when `Lazy` instance counts / types may have resolved."""

    def __init__(
        self,
        scope: Construct,
        policy: UpdatePolicy,
        variants: Sequence[VariantFacts],
        service_timeout: int,
        alarms: Sequence[cloudwatch.IAlarm] | None,
        wait_mode: WaitMode = WaitMode.CUSTOM_RESOURCE,
    ) -> None:
        """:param wait_mode: the mode chosen when the endpoint was built (its resources exist)."""
        self._scope = scope
        self._wait_mode = wait_mode
        self._policy = policy
        self._variants = list(variants)
        self._service_timeout = service_timeout
        self._alarms = alarms
        self._outcome: Outcome | None = None

    def outcome(self) -> Outcome:
        if self._outcome is None:
            resolved = [ResolvedVariant.resolve(self._scope, v) for v in self._variants]
            self._outcome = plan(self._policy, resolved, self._service_timeout, self._alarms,
                                 self._wait_mode)
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
                f"a {self._policy.kind} deployment needs the instance count of variant(s) "
                f"{', '.join(out.needs_count)} to plan its steps and time budget, but it is an "
                "unresolved token at synth; the limit is a number known at synth. Fix: give a "
                "concrete initial_instance_count, or use DeploymentStrategy.all_at_once() or a "
                "canary."))
        return errors


@jsii.implements(IStableNumberProducer)
class TimeoutProducer:
    """Produces the MaximumExecutionTimeoutInSeconds once the deferred plan is known."""

    def __init__(self, deferred: DeferredChecks) -> None:
        self._deferred = deferred

    def produce(self) -> int:
        timeout = next(iter(self._deferred.outcome().config.values())).get(
            "MaximumExecutionTimeoutInSeconds"
        )
        # Unreachable in a successful synth: without a count the deferred validation fails first.
        return int(timeout) if isinstance(timeout, int) else MIN_MAXIMUM_EXECUTION_TIMEOUT_SECONDS


@jsii.implements(IStableStringProducer)
class WaitConditionTimeoutProducer:
    """Produces the WaitCondition's Timeout (a string of seconds) once the deferred plan is
    known."""

    def __init__(self, deferred: DeferredChecks) -> None:
        self._deferred = deferred

    def produce(self) -> str:
        # None is unreachable in a successful synth (as for TimeoutProducer).
        timeout = self._deferred.outcome().wait_condition_timeout
        return str(timeout or MAX_WAIT_CONDITION_TIMEOUT_SECONDS)
