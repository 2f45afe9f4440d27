"""rendered_timeline: the construct's time budget of a DeploymentConfig as rendered."""

from __future__ import annotations

import pytest
from aws_cdk import Duration
from sagemaker_rollout import CapacitySize, DeploymentStrategy, TrafficRouting
from sagemaker_rollout.deployment import VariantFacts
from sagemaker_rollout.rendered_timeline import rollout_timeline

FIVE = [VariantFacts("AllTraffic", "ml.m5.large", 5, False)]


def test_strings_as_cloudformation_hands_them_to_a_custom_resource() -> None:
    config = {"BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {"Type": "LINEAR", "WaitIntervalInSeconds": "300",
                                        "LinearStepSize": {"Type": "CAPACITY_PERCENT",
                                                           "Value": "30"}},
        "TerminationWaitInSeconds": "60", "MaximumExecutionTimeoutInSeconds": "3000"}}

    timeline = rollout_timeline(config, FIVE)

    # 30% of 5 is 1 instance per step: 5 steps (README, "Blue/green, linear").
    strategy = DeploymentStrategy.blue_green(
        traffic_routing=TrafficRouting.linear(step_size=CapacitySize.percent(30),
                                              interval=Duration.minutes(5)),
        termination_wait=Duration.minutes(1))
    budget = strategy.time_budget(variants=FIVE, service_timeout=Duration.hours(1))
    assert timeline.worst_case == budget.worst_case == 600 + 5 * 300 + 60
    assert timeline.bake_schedule() == (300,) * 5 + (60,)
    assert timeline.maximum_execution_timeout == 3000


def test_no_policy_is_sagemakers_default_all_at_once() -> None:
    timeline = rollout_timeline(None, FIVE)

    assert timeline.kind == "ALL_AT_ONCE"
    assert [p.kind for p in timeline.phases] == ["provision", "shift", "final-bake",
                                                 "terminate"]


def test_a_refused_config_names_the_rule() -> None:
    config = {"BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {"Type": "CANARY", "WaitIntervalInSeconds": 3000,
                                        "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}},
        "TerminationWaitInSeconds": 0}}

    with pytest.raises(ValueError, match="sagemaker-rollout:worst-case-fits-timeout"):
        rollout_timeline(config, FIVE)


def test_an_unknown_routing_type_is_a_clear_error() -> None:
    config = {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {"Type": "SIDEWAYS"}}}

    with pytest.raises(ValueError, match="Type is 'SIDEWAYS', not ALL_AT_ONCE, CANARY or LINEAR"):
        rollout_timeline(config, FIVE)
