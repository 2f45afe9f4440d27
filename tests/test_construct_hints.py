"""The fixes a refusal proposes are computed, and each one, applied alone, passes: the time
budget's (the largest bake, termination wait or provisioning allowance that fits, the step or
rollback batch size that does, the timeout to send) and the 1-instance canary's one advice."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk.assertions import Annotations, Match, Template
from construct_support import instance_variant, new_stack
from sagemaker_rollout import (
    CapacitySize,
    DeploymentStrategy,
    RolloutEndpoint,
    TrafficRouting,
    WaitMode,
)

#: `field=value` in a refusal's "Fix: any one of ..." list.
FIX = re.compile(
    r"(\w+)=(Duration\.seconds\((\d+)\)|CapacitySize\.count\((\d+)\)|None)"
    r"|leave (maximum_execution_timeout) out"
)


@dataclass(frozen=True)
class Config:
    """An endpoint of `count` instances and a strategy of `kind`, as keyword arguments."""

    kind: str
    count: int
    routing: dict[str, Any] = field(default_factory=dict)
    strategy: dict[str, Any] = field(default_factory=dict)

    def deployment(self) -> DeploymentStrategy:
        if self.kind == "rolling":
            return DeploymentStrategy.rolling(**self.strategy)
        factory = {"canary": TrafficRouting.canary, "linear": TrafficRouting.linear,
                   "all_at_once": lambda: TrafficRouting.all_at_once()}[self.kind]
        return DeploymentStrategy.blue_green(traffic_routing=factory(**self.routing),
                                             **self.strategy)

    def build(self, wait_mode: WaitMode | None = WaitMode.CUSTOM_RESOURCE) -> Template:
        """Synthesize it with one rollback alarm (no warning for bakes without alarms), in the
        custom resource's hour (the hints are that mode's; left out, a deployment longer than
        the hour is handed to a WaitCondition: docs/long-rollouts.md)."""
        stack = new_stack()
        alarm = cloudwatch.Metric(namespace="AWS/SageMaker", metric_name="Invocation5XXErrors"
                                  ).create_alarm(stack, "Errors", threshold=1, evaluation_periods=1)
        RolloutEndpoint(stack, "Endpoint", deployment=self.deployment(), rollback_alarms=[alarm],
                        variants=[instance_variant(initial_instance_count=self.count)],
                        wait_mode=wait_mode)
        template = Template.from_stack(stack)
        Annotations.from_stack(stack).has_no_warning("*", Match.string_like_regexp(
            "sagemaker-rollout"))
        return template

    def with_fix(self, match: re.Match[str]) -> Config:
        name, _, seconds, instances, leave_out = match.groups()
        name = name or leave_out
        value: Any = None
        if seconds is not None:
            value = Duration.seconds(int(seconds))
        elif instances is not None:
            value = CapacitySize.count(int(instances))
        place = self.routing if name in self.routing else self.strategy
        changed = {k: v for k, v in place.items() if k != name}
        if value is not None:
            changed[name] = value
        if place is self.routing:
            return Config(self.kind, self.count, changed, self.strategy)
        return Config(self.kind, self.count, self.routing, changed)


MINUTES = Duration.minutes

BROKEN = {
    "rolling of single batches with long bakes": Config("rolling", 4, strategy={
        "batch_size": CapacitySize.count(1), "bake_time": MINUTES(10)}),
    "rolling with a rollback in single batches": Config("rolling", 4, strategy={
        "batch_size": CapacitySize.count(2), "bake_time": MINUTES(5),
        "rollback_batch_size": CapacitySize.count(1)}),
    "rolling whose rollback alone outlasts the hour": Config("rolling", 8, strategy={
        "batch_size": CapacitySize.count(4), "bake_time": MINUTES(1),
        "rollback_batch_size": CapacitySize.count(1),
        "provisioning_allowance": MINUTES(15)}),
    "linear of ten steps": Config("linear", 10, routing={
        "step_size": CapacitySize.percent(10), "interval": MINUTES(10)}),
    "canary whose bakes outlast the timeout": Config("canary", 4, routing={
        "size": CapacitySize.percent(25), "bake_time": MINUTES(50)},
        strategy={"termination_wait": MINUTES(20)}),
    "canary with a timeout shorter than its bake": Config("canary", 4, routing={
        "size": CapacitySize.count(1), "bake_time": MINUTES(15)},
        strategy={"maximum_execution_timeout": MINUTES(10)}),
    "all at once with an hour of termination wait": Config("all_at_once", 2, strategy={
        "termination_wait": Duration.hours(1)}),
}


def refusal_of(config: Config) -> str:
    with pytest.raises(ValueError) as refused:
        config.build()
    return str(refused.value)


def fixes_of(config: Config) -> list[re.Match[str]]:
    message = refusal_of(config)
    assert "Fix: any one of " in message, message
    fix_list = message.split("Fix: any one of ", 1)[1]
    return list(FIX.finditer(fix_list))


@pytest.mark.parametrize("what", list(BROKEN))
def test_a_budget_refusal_proposes_computed_fixes(what: str) -> None:
    assert fixes_of(BROKEN[what])


@pytest.mark.parametrize(("what", "index"), [
    (what, index) for what in BROKEN for index in range(len(fixes_of(BROKEN[what])))])
def test_each_proposed_fix_applied_alone_synthesizes(what: str, index: int) -> None:
    config = BROKEN[what]
    fix = fixes_of(config)[index]
    config.with_fix(fix).build()


def test_a_rolling_deployment_that_does_not_fit_is_told_its_provisioning_and_batches() -> None:
    message = refusal_of(BROKEN["rolling with a rollback in single batches"])
    assert "shorten the bake" not in message
    assert "provisioning_allowance=Duration.seconds(435) or less" in message
    assert "rollback_batch_size=CapacitySize.count(2)" in message


def test_the_largest_bake_that_fits_is_proposed_and_one_second_more_does_not_fit() -> None:
    config = BROKEN["canary whose bakes outlast the timeout"]
    (bake,) = [m for m in fixes_of(config) if m.group(1) == "bake_time"]
    seconds = int(bake.group(3))
    config.with_fix(bake).build()
    longer = dict(config.routing, bake_time=Duration.seconds(seconds + 1))
    refusal_of(Config(config.kind, config.count, longer, config.strategy))


# --- a canary of a one-instance variant ----------------------------------------------------


def test_a_one_instance_canary_is_told_one_advice_that_passes_without_warning() -> None:
    refused = refusal_of(Config("canary", 1, routing={
        "size": CapacitySize.count(1), "bake_time": MINUTES(5)}))
    assert "CapacitySize.percent" not in refused
    assert "initial_instance_count=2 (or more) and use CapacitySize.count(1)" in refused
    assert "DeploymentStrategy.all_at_once(termination_wait=...)" in refused
    # Both halves of the advice pass, with no warning of ours.
    Config("canary", 2, routing={"size": CapacitySize.count(1), "bake_time": MINUTES(5)}).build()
    Config("all_at_once", 1, strategy={"termination_wait": MINUTES(5)}).build()


def test_a_one_instance_percentage_canary_warns_the_same_advice() -> None:
    stack = new_stack()
    RolloutEndpoint(stack, "Endpoint", variants=[instance_variant(initial_instance_count=1)],
                    deployment=DeploymentStrategy.blue_green(traffic_routing=TrafficRouting.canary(
                        size=CapacitySize.percent(50), bake_time=MINUTES(5))))
    warnings = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp(
        "canary size"))
    assert len(warnings) == 1
    text = str(warnings[0].entry.data)
    assert "CapacitySize.count(1) to say what you mean" not in text
    assert "initial_instance_count=2 (or more) and use CapacitySize.count(1)" in text


def test_a_percentage_canary_that_rounds_to_zero_is_told_a_count_that_fits() -> None:
    stack = new_stack()
    RolloutEndpoint(stack, "Endpoint", variants=[instance_variant(initial_instance_count=4)],
                    deployment=DeploymentStrategy.blue_green(traffic_routing=TrafficRouting.canary(
                        size=CapacitySize.percent(10), bake_time=MINUTES(5))))
    (warning,) = Annotations.from_stack(stack).find_warning("*", Match.string_like_regexp(
        "rounds down to 0"))
    assert "Use CapacitySize.count(1)" in str(warning.entry.data)
    Config("canary", 4, routing={"size": CapacitySize.count(1), "bake_time": MINUTES(5)}).build()


@pytest.mark.parametrize("what", [what for what in BROKEN if what != "canary with a timeout "
                                  "shorter than its bake"])
def test_left_to_choose_a_deployment_longer_than_the_hour_waits_in_a_wait_condition(
    what: str,
) -> None:
    template = BROKEN[what].build(wait_mode=None)
    template.resource_count_is("AWS::CloudFormation::WaitCondition", 1)


def test_left_to_choose_a_timeout_shorter_than_the_bake_is_still_refused() -> None:
    with pytest.raises(ValueError, match=r"worst-case-fits-timeout|timeout-exceeds-waits"):
        BROKEN["canary with a timeout shorter than its bake"].build(wait_mode=None)
