"""The time budget (constructs/sagemaker_rollout/time_budget.py): constants and arithmetic."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import Duration
from sagemaker_rollout import time_budget
from sagemaker_rollout.capacity import CapacitySize
from sagemaker_rollout.deployment import DeploymentStrategy, TrafficRouting, VariantFacts
from sagemaker_rollout.wait_mode import WaitMode

from constructs import Construct

HOUR = Duration.hours(1)


def _fleet(*counts: int) -> list[VariantFacts]:
    return [VariantFacts(f"V{i}", "ml.m5.large", n, False) for i, n in enumerate(counts)]


def test_constants_are_the_documented_ones() -> None:
    assert time_budget.HANDLER_RESPONSE_MARGIN_SECONDS == 90
    assert time_budget.PROVISIONING_ALLOWANCE_SECONDS == 600
    assert time_budget.ROLLBACK_ALLOWANCE_SECONDS == 300
    assert time_budget.MIN_MAXIMUM_EXECUTION_TIMEOUT_SECONDS == 600
    assert time_budget.MAX_MAXIMUM_EXECUTION_TIMEOUT_SECONDS == 28800
    assert time_budget.MAX_SERVICE_TIMEOUT_SECONDS == 3600


def test_blue_green_canary_budget() -> None:
    strategy = DeploymentStrategy.blue_green(
        traffic_routing=TrafficRouting.canary(size=CapacitySize.percent(25),
                                              bake_time=Duration.minutes(10)),
        termination_wait=Duration.minutes(5),
    )
    budget = strategy.time_budget(variants=_fleet(4), service_timeout=HOUR)
    assert budget.worst_case == 600 + 600 + 300
    assert budget.waits == 600 + 300
    assert budget.rollback_allowance == 300
    assert budget.timeout_ceiling == 3600 - 90 - 300 == 3210
    assert budget.worst_case_arithmetic() == (
        "worst case = 600 s provisioning allowance + 600 s canary bake + 300 s termination wait "
        "= 1500 s (25 min)"
    )


def test_linear_counts_steps_with_percentages_rounded_down() -> None:
    # 30% of 5 instances = 1.5, planned as 1 instance per step: 5 steps, not ceil(100/30) = 4.
    strategy = DeploymentStrategy.blue_green(
        traffic_routing=TrafficRouting.linear(step_size=CapacitySize.percent(30),
                                              interval=Duration.minutes(1)))
    budget = strategy.time_budget(variants=_fleet(5), service_timeout=HOUR)
    assert budget.worst_case == 600 + 5 * 60
    assert budget.waits == 5 * 60


def test_linear_budget_follows_the_variant_with_the_most_steps() -> None:
    strategy = DeploymentStrategy.blue_green(
        traffic_routing=TrafficRouting.linear(step_size=CapacitySize.count(1),
                                              interval=Duration.minutes(1)))
    budget = strategy.time_budget(variants=_fleet(4, 10), service_timeout=HOUR)
    assert budget.worst_case == 600 + 10 * 60


@pytest.mark.parametrize(
    ("rollback", "rollback_batches"),
    [(None, 1), (CapacitySize.percent(100), 1), (CapacitySize.count(4), 1),
     (CapacitySize.percent(50), 2), (CapacitySize.count(1), 4)],
)
def test_rolling_budget_and_rollback_batches(
    rollback: CapacitySize | None, rollback_batches: int
) -> None:
    strategy = DeploymentStrategy.rolling(batch_size=CapacitySize.percent(50),
                                          bake_time=Duration.minutes(2),
                                          rollback_batch_size=rollback,
                                          provisioning_allowance=Duration.minutes(5))
    budget = strategy.time_budget(variants=_fleet(4), service_timeout=HOUR)
    assert budget.worst_case == 2 * (300 + 120)
    assert budget.waits == 2 * 120
    assert budget.rollback_allowance == 300 + rollback_batches * 300
    assert budget.timeout_ceiling == 3600 - 90 - 300 - rollback_batches * 300


def test_automatic_timeout_is_the_largest_that_fits_a_shorter_service_timeout() -> None:
    app = cdk.App()
    scope = Construct(cdk.Stack(app, "S"), "E")
    config = DeploymentStrategy.all_at_once().bind(
        scope, variants=_fleet(2), service_timeout=Duration.minutes(30))
    assert config["BlueGreenUpdatePolicy"]["MaximumExecutionTimeoutInSeconds"] == 1800 - 90 - 300


def test_service_timeout_too_short_for_any_timeout_is_refused_with_the_arithmetic() -> None:
    app = cdk.App()
    scope = Construct(cdk.Stack(app, "S"), "E")
    with pytest.raises(ValueError, match=r"ServiceTimeout 900 s - handler margin 90 s - rollback "
                                         r"allowance \(300 s rollback allowance\) = 510 s"):
        DeploymentStrategy.all_at_once().bind(scope, variants=_fleet(2),
                                              service_timeout=Duration.minutes(15),
                                              wait_mode=WaitMode.CUSTOM_RESOURCE)


def test_human_durations() -> None:
    assert time_budget.human(45) == "45 s"
    assert time_budget.human(3210) == "3210 s (53 min 30 s)"
    assert time_budget.human(3600) == "3600 s (1 h)"
