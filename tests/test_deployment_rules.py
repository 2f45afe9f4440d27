"""One test per documented rule of the deployment strategies (docs/rules.md).

Each test is named for the rule it proves, checks that a refusal names the value, the limit and
the fix, and that the legal edge of the range is accepted.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import aws_cdk as cdk
import jsii
import pytest
from aws_cdk import Duration, assertions
from aws_cdk import aws_cloudwatch as cloudwatch
from sagemaker_rollout.capacity import CapacitySize
from sagemaker_rollout.deployment import (
    DeploymentStrategy,
    TrafficRouting,
    VariantFacts,
    render_auto_rollback,
)
from sagemaker_rollout.rules import Rule, WarningId
from sagemaker_rollout.wait_mode import WaitMode

from constructs import Construct

HOUR = Duration.hours(1)
FIVE_MINUTES = Duration.minutes(5)
_ids = itertools.count()


def _scope() -> tuple[cdk.App, cdk.Stack, Construct]:
    app = cdk.App()
    stack = cdk.Stack(app, "Stack")
    return app, stack, Construct(stack, f"Endpoint{next(_ids)}")


def _fleet(count: float | int = 4, instance_type: str = "ml.m5.large") -> list[VariantFacts]:
    return [VariantFacts("AllTraffic", instance_type, count, False)]


def _serverless() -> list[VariantFacts]:
    return [VariantFacts("AllTraffic", None, None, True)]


def _bind(
    strategy: DeploymentStrategy,
    variants: Sequence[VariantFacts] | None = None,
    *,
    service_timeout: Duration = HOUR,
    alarms: Sequence[cloudwatch.IAlarm] | None = None,
    wait_mode: WaitMode | None = None,
) -> dict[str, Any]:
    _, _, scope = _scope()
    return strategy.bind(scope, variants=_fleet() if variants is None else variants,
                         service_timeout=service_timeout, alarms=alarms, wait_mode=wait_mode)


def _in_custom_resource(
    strategy: DeploymentStrategy, variants: Sequence[VariantFacts] | None = None
) -> dict[str, Any]:
    """Bound with the custom resource forced to wait (no WaitCondition handoff)."""
    return _bind(strategy, variants, wait_mode=WaitMode.CUSTOM_RESOURCE)


def _refused(rule: Rule, action: Callable[[], object], *fragments: str) -> str:
    """Run `action`, expect a refusal by `rule` naming the value, the limit and a fix."""
    with pytest.raises(ValueError) as caught:
        action()
    message = str(caught.value)
    assert f"[sagemaker-rollout:{rule.id}]" in message, message
    assert "Fix:" in message, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    return message


def _policy(config: dict[str, Any]) -> dict[str, Any]:
    assert len(config) == 1
    return next(iter(config.values()))


def _canary(size: CapacitySize, bake: Duration = FIVE_MINUTES) -> DeploymentStrategy:
    return DeploymentStrategy.blue_green(
        traffic_routing=TrafficRouting.canary(size=size, bake_time=bake))


def _linear(step: CapacitySize, interval: Duration = FIVE_MINUTES) -> DeploymentStrategy:
    return DeploymentStrategy.blue_green(
        traffic_routing=TrafficRouting.linear(step_size=step, interval=interval))


def _rolling(batch: CapacitySize, **kwargs: Any) -> DeploymentStrategy:
    kwargs.setdefault("bake_time", Duration.minutes(5))
    return DeploymentStrategy.rolling(batch_size=batch, **kwargs)


def _alarms(count: int) -> list[cloudwatch.IAlarm]:
    _, stack, _ = _scope()
    return [
        cloudwatch.Alarm.from_alarm_arn(
            stack, f"Alarm{i}", f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:alarm-{i}")
        for i in range(count)
    ]


def _warnings(app: cdk.App, stack: cdk.Stack) -> list[str]:
    del app
    found = assertions.Annotations.from_stack(stack).find_warning("*", assertions.Match.any_value())
    return [str(entry.entry.data) for entry in found]


# --- ranges -----------------------------------------------------------------------------------


def test_rule_whole_seconds() -> None:
    _refused(Rule.WHOLE_SECONDS,
             lambda: TrafficRouting.canary(size=CapacitySize.percent(10),
                                           bake_time=Duration.millis(1500)),
             "canary bake_time", "1.5 s", "Duration.seconds(1)")
    _refused(Rule.WHOLE_SECONDS,
             lambda: DeploymentStrategy.all_at_once(termination_wait=Duration.millis(10)),
             "termination_wait")
    _refused(Rule.WHOLE_SECONDS,
             lambda: DeploymentStrategy.all_at_once(
                 maximum_execution_timeout=Duration.millis(900_500)),
             "maximum_execution_timeout")
    assert _policy(_bind(DeploymentStrategy.all_at_once(
        termination_wait=Duration.millis(60_000))))["TerminationWaitInSeconds"] == 60


def test_rule_wait_range() -> None:
    _refused(Rule.WAIT_RANGE,
             lambda: TrafficRouting.canary(size=CapacitySize.percent(10),
                                           bake_time=Duration.seconds(3601)),
             "canary bake_time = 3601 s", "0..3600 s")
    _refused(Rule.WAIT_RANGE,
             lambda: TrafficRouting.linear(step_size=CapacitySize.percent(10),
                                           interval=Duration.hours(2)), "linear interval")
    _refused(Rule.WAIT_RANGE,
             lambda: _rolling(CapacitySize.percent(10), bake_time=Duration.hours(2)),
             "rolling bake_time")
    routing = TrafficRouting.canary(size=CapacitySize.percent(10), bake_time=Duration.hours(1))
    assert routing.render()["WaitIntervalInSeconds"] == 3600


def test_rule_termination_wait_range() -> None:
    _refused(Rule.TERMINATION_WAIT_RANGE,
             lambda: DeploymentStrategy.all_at_once(termination_wait=Duration.seconds(3601)),
             "termination_wait = 3601 s", "0..3600 s")
    strategy = DeploymentStrategy.all_at_once(termination_wait=Duration.minutes(30))
    assert _policy(_bind(strategy))["TerminationWaitInSeconds"] == 1800


def test_rule_maximum_execution_timeout_range() -> None:
    for seconds in (599, 28801):
        _refused(Rule.TIMEOUT_RANGE,
                 lambda s=seconds: DeploymentStrategy.all_at_once(  # type: ignore[misc]
                     maximum_execution_timeout=Duration.seconds(s)),
                 f"maximum_execution_timeout = {seconds} s", "600..28800 s")
    strategy = DeploymentStrategy.all_at_once(maximum_execution_timeout=Duration.seconds(600))
    assert _policy(_bind(strategy))["MaximumExecutionTimeoutInSeconds"] == 600


def test_rule_size_at_least_one() -> None:
    _refused(Rule.SIZE_AT_LEAST_ONE, lambda: CapacitySize.count(0), "count(0)", "limit of 1")
    _refused(Rule.SIZE_AT_LEAST_ONE, lambda: CapacitySize.percent(0), "percent(0)")
    _refused(Rule.SIZE_AT_LEAST_ONE, lambda: CapacitySize.count(1.5),  # type: ignore[arg-type]
             "not a whole number")
    _refused(Rule.SIZE_AT_LEAST_ONE,
             lambda: _bind(DeploymentStrategy.all_at_once(), _fleet(0)),
             "initial_instance_count = 0")
    _refused(Rule.SIZE_AT_LEAST_ONE,
             lambda: _bind(DeploymentStrategy.all_at_once(), _fleet(2.5)),
             "initial_instance_count = 2.5")
    assert CapacitySize.count(1).render() == {"Type": "INSTANCE_COUNT", "Value": 1}


def test_rule_alarms_1_to_10() -> None:
    _refused(Rule.ALARMS_1_TO_10, lambda: render_auto_rollback(_alarms(11)),
             "11 auto-rollback alarms", "limit is 10")
    rendered = render_auto_rollback(_alarms(10))
    assert rendered is not None and len(rendered["Alarms"]) == 10
    assert rendered["Alarms"][0] == {"AlarmName": "alarm-0"}
    # No alarms: no AutoRollbackConfiguration at all (an empty list is not API-valid).
    assert render_auto_rollback([]) is None


# --- this library's own rules ------------------------------------------------------------------


def test_rule_percent_at_most_100() -> None:
    _refused(Rule.PERCENT_AT_MOST_100, lambda: CapacitySize.percent(101), "percent(101)", "100")
    assert CapacitySize.percent(100).render() == {"Type": "CAPACITY_PERCENT", "Value": 100}


def test_rule_concrete_values() -> None:
    _, stack, _ = _scope()
    param = cdk.CfnParameter(stack, "Wait", type="Number").value_as_number
    _refused(Rule.CONCRETE_VALUES,
             lambda: DeploymentStrategy.all_at_once(termination_wait=Duration.seconds(param)),
             "termination_wait is an unresolved token")
    _refused(Rule.CONCRETE_VALUES, lambda: CapacitySize.count(param), "unresolved token")  # type: ignore[arg-type]


def test_a_token_duration_in_minutes_is_refused_like_one_in_seconds() -> None:
    _, stack, _ = _scope()
    param = cdk.CfnParameter(stack, "Bake", type="Number").value_as_number
    _refused(Rule.CONCRETE_VALUES,
             lambda: TrafficRouting.canary(size=CapacitySize.count(1),
                                           bake_time=Duration.minutes(param)),
             "canary bake_time is an unresolved token")


def test_a_number_instead_of_a_duration_is_refused_naming_the_field() -> None:
    with pytest.raises(TypeError, match=r"termination_wait 300 is not allowed: allowed is an "
                                        r"aws_cdk.Duration"):
        DeploymentStrategy.all_at_once(termination_wait=300)  # type: ignore[arg-type]


def test_rule_provisioning_allowance_range() -> None:
    _refused(Rule.PROVISIONING_ALLOWANCE_RANGE,
             lambda: DeploymentStrategy.all_at_once(provisioning_allowance=Duration.hours(2)),
             "provisioning_allowance = 7200 s")
    budget = DeploymentStrategy.all_at_once(provisioning_allowance=Duration.minutes(20)) \
        .time_budget(variants=_fleet(), service_timeout=HOUR)
    assert budget.worst_case == 1200


def test_rule_service_timeout_range() -> None:
    _refused(Rule.SERVICE_TIMEOUT_RANGE,
             lambda: _bind(DeploymentStrategy.all_at_once(), service_timeout=Duration.hours(2)),
             "service_timeout = 7200 s", "1..3600 s")


def test_rule_at_least_one_variant() -> None:
    _refused(Rule.AT_LEAST_ONE_VARIANT, lambda: _bind(DeploymentStrategy.all_at_once(), []),
             "variants is empty")


# --- cross-field rules ------------------------------------------------------------------------


def test_rule_canary_at_most_half() -> None:
    _refused(Rule.CANARY_AT_MOST_HALF, lambda: _canary(CapacitySize.percent(51)),
             "canary size = 51%", "at most 50%")
    _refused(Rule.CANARY_AT_MOST_HALF, lambda: _bind(_canary(CapacitySize.count(3)), _fleet(5)),
             "3 instance(s) is 60% of its 5 instance(s)", "k from 1 to 2")
    _refused(Rule.CANARY_AT_MOST_HALF, lambda: _bind(_canary(CapacitySize.count(1)), _fleet(1)),
             "no canary size of 1 instance(s) is inside the limit: give the variant "
             "initial_instance_count=2 (or more) and use CapacitySize.count(1)")
    routing = _policy(_bind(_canary(CapacitySize.count(2)), _fleet(4)))
    assert routing["TrafficRoutingConfiguration"]["CanarySize"] == {
        "Type": "INSTANCE_COUNT", "Value": 2}


def test_rule_linear_step_10_to_50_percent() -> None:
    for percent in (9, 51):
        _refused(Rule.LINEAR_STEP_10_TO_50, lambda p=percent: _linear(CapacitySize.percent(p)),  # type: ignore[misc]
                 f"linear step_size = {percent}%", "10..50%")
    _refused(Rule.LINEAR_STEP_10_TO_50, lambda: _bind(_linear(CapacitySize.count(1)), _fleet(11)),
             "1 instance(s) is 9.09% of its 11 instance(s)", "k from 2 to 5")
    _refused(Rule.LINEAR_STEP_10_TO_50, lambda: _bind(_linear(CapacitySize.count(3)), _fleet(4)),
             "75%")
    config = _bind(_linear(CapacitySize.count(1), Duration.minutes(2)), _fleet(10))
    assert _policy(config)["TrafficRoutingConfiguration"]["LinearStepSize"]["Value"] == 1


def test_rule_rolling_batch_5_to_50_percent() -> None:
    for percent in (4, 51):
        _refused(Rule.ROLLING_BATCH_5_TO_50, lambda p=percent: _rolling(CapacitySize.percent(p)),  # type: ignore[misc]
                 f"rolling batch_size = {percent}%", "5..50%")
    _refused(Rule.ROLLING_BATCH_5_TO_50, lambda: _bind(_rolling(CapacitySize.count(3)), _fleet(4)),
             "75% of its 4 instance(s)", "k from 1 to 2")
    _refused(Rule.ROLLING_BATCH_5_TO_50, lambda: _bind(_rolling(CapacitySize.count(1)), _fleet(21)),
             "4.76%")
    assert _policy(_bind(_rolling(CapacitySize.count(2)), _fleet(4)))["MaximumBatchSize"] == {
        "Type": "INSTANCE_COUNT", "Value": 2}


def test_rule_timeout_exceeds_waits() -> None:
    strategy = DeploymentStrategy.all_at_once(
        termination_wait=Duration.seconds(3000),
        maximum_execution_timeout=Duration.seconds(3000),
        provisioning_allowance=Duration.seconds(0),
    )
    _refused(Rule.TIMEOUT_EXCEEDS_WAITS, lambda: _bind(strategy),
             "MaximumExecutionTimeout 3000 s (given)", "total waiting time 3000 s")
    ok = DeploymentStrategy.all_at_once(
        termination_wait=Duration.seconds(2999),
        maximum_execution_timeout=Duration.seconds(3000),
        provisioning_allowance=Duration.seconds(0),
    )
    assert _policy(_bind(ok))["MaximumExecutionTimeoutInSeconds"] == 3000


def test_rule_one_policy() -> None:
    strategies = [
        DeploymentStrategy.default(),
        DeploymentStrategy.all_at_once(),
        _canary(CapacitySize.percent(25)),
        _linear(CapacitySize.percent(25)),
        _rolling(CapacitySize.percent(50)),
    ]
    for strategy in strategies:
        config = _bind(strategy)
        assert len(config) == 1
        assert set(config) <= {"BlueGreenUpdatePolicy", "RollingUpdatePolicy"}
        assert "AutoRollbackConfiguration" not in config


def test_rule_rolling_not_serverless() -> None:
    _refused(Rule.ROLLING_NOT_SERVERLESS,
             lambda: _bind(_rolling(CapacitySize.percent(25)), _serverless()),
             "serverless variant(s) AllTraffic", "DeploymentStrategy.all_at_once()")


def test_rule_rolling_single_variant() -> None:
    two = [VariantFacts("A", "ml.m5.large", 4, False), VariantFacts("B", "ml.m5.large", 4, False)]
    _refused(Rule.ROLLING_SINGLE_VARIANT, lambda: _bind(_rolling(CapacitySize.percent(25)), two),
             "2 variants (A, B)", "limit is 1 variant")


def test_rule_serverless_all_at_once_only() -> None:
    _refused(Rule.SERVERLESS_ALL_AT_ONCE_ONLY,
             lambda: _bind(_canary(CapacitySize.percent(25)), _serverless()), "CANARY")
    _refused(Rule.SERVERLESS_ALL_AT_ONCE_ONLY,
             lambda: _bind(_linear(CapacitySize.percent(25)), _serverless()), "LINEAR")
    strategy = DeploymentStrategy.all_at_once(termination_wait=Duration.minutes(10))
    assert _policy(_bind(strategy, _serverless()))["TerminationWaitInSeconds"] == 600


# --- the time budget ---------------------------------------------------------------------------


def test_rule_worst_case_fits_timeout() -> None:
    # 600 s provisioning + 4 x 600 s + 600 s = 3600 s > the 3210 s that fits.
    strategy = DeploymentStrategy.blue_green(
        traffic_routing=TrafficRouting.linear(step_size=CapacitySize.percent(25),
                                              interval=Duration.minutes(10)),
        termination_wait=Duration.minutes(10),
    )
    _refused(Rule.WORST_CASE_FITS_TIMEOUT, lambda: _in_custom_resource(strategy),
             "worst case = 600 s provisioning allowance + 4 x 600 s linear interval + 600 s "
             "termination wait = 3600 s (1 h)", "> 3210 s", "the largest that fits",
             "wait_mode left out or WaitMode.WAIT_CONDITION (a WaitCondition waits up to 12 h)")
    given = DeploymentStrategy.blue_green(
        traffic_routing=TrafficRouting.canary(size=CapacitySize.percent(25),
                                              bake_time=Duration.minutes(10)),
        maximum_execution_timeout=Duration.minutes(15),
    )
    _refused(Rule.WORST_CASE_FITS_TIMEOUT, lambda: _bind(given),
             "1200 s (20 min) > 900 s",
             "Fix: any one of leave maximum_execution_timeout out (the largest that fits, 3210 s)")


def test_rule_timeout_fits_service_timeout() -> None:
    too_long = DeploymentStrategy.all_at_once(maximum_execution_timeout=Duration.seconds(3211))
    _refused(Rule.TIMEOUT_FITS_SERVICE_TIMEOUT, lambda: _in_custom_resource(too_long),
             "3211 s + rollback allowance (300 s rollback allowance) + handler margin 90 s = "
             "3601 s > ServiceTimeout 3600 s", "the limit is 3210 s",
             "Fix: any one of leave maximum_execution_timeout out",
             "wait_mode left out or WaitMode.WAIT_CONDITION (a WaitCondition waits up to 12 h)")
    # Rolling back 10 instances one at a time needs 300 + 10 x 600 s: nothing fits.
    rolling = _rolling(CapacitySize.count(1), rollback_batch_size=CapacitySize.count(1))
    _refused(Rule.TIMEOUT_FITS_SERVICE_TIMEOUT, lambda: _in_custom_resource(rolling, _fleet(10)),
             "10 x 600 s re-provisioning per rollback batch", "below SageMaker's minimum of 600 s",
             # (10 batches and 10 rollback batches: only a 10 s allowance fits alone.)
             "Fix: any one of provisioning_allowance=Duration.seconds(10) or less; wait_mode left "
             "out")
    fits = DeploymentStrategy.all_at_once(maximum_execution_timeout=Duration.seconds(3210))
    assert _policy(_bind(fits))["MaximumExecutionTimeoutInSeconds"] == 3210


def test_rule_timeout_fits_wait_condition() -> None:
    # 25 rollback batches of one instance: 300 + 25 x 600 s = 15300 s of rollback allowance;
    # 28800 + 15300 + 90 = 44190 s > the WaitCondition's 43200 s.
    rolling = _rolling(CapacitySize.count(2), rollback_batch_size=CapacitySize.count(1),
                       maximum_execution_timeout=Duration.hours(8))
    message = _refused(
        Rule.TIMEOUT_FITS_WAIT_CONDITION, lambda: _bind(rolling, _fleet(25)),
        "28800 s + rollback allowance (300 s rollback allowance + 25 x 600 s re-provisioning per "
        "rollback batch) + handler margin 90 s = 44190 s > WaitCondition Timeout limit 43200 s",
        "the limit is 27810 s",
        "Fix: any one of leave maximum_execution_timeout out (the largest that fits, 27810 s)")
    assert "wait_mode" not in message
    # The computed fix passes: 27810 + 15300 + 90 = 43200.
    fixed = _rolling(CapacitySize.count(2), rollback_batch_size=CapacitySize.count(1),
                     maximum_execution_timeout=Duration.seconds(27810))
    assert _policy(_bind(fixed, _fleet(25)))["MaximumExecutionTimeoutInSeconds"] == 27810
    # Without a given timeout the largest that fits is sent.
    auto = _rolling(CapacitySize.count(2), rollback_batch_size=CapacitySize.count(1))
    assert _policy(_bind(auto, _fleet(25)))["MaximumExecutionTimeoutInSeconds"] == 27810
    # Nothing fits when the rollback alone takes the 12 hours: 300 + 72 x 600 s.
    wide = _rolling(CapacitySize.count(4), rollback_batch_size=CapacitySize.count(1))
    _refused(Rule.TIMEOUT_FITS_WAIT_CONDITION, lambda: _bind(wide, _fleet(72)),
             "no MaximumExecutionTimeout fits a WaitCondition", "WaitCondition Timeout limit "
             "43200 s - handler margin 90 s", "below SageMaker's minimum of 600 s")


def test_rule_concrete_instance_count() -> None:
    app, stack, scope = _scope()
    count = cdk.CfnParameter(stack, "Count", type="Number").value_as_number
    config = _linear(CapacitySize.percent(25)).bind(scope, variants=_fleet(count),
                                                    service_timeout=HOUR)
    assert "LinearStepSize" in _policy(config)["TrafficRoutingConfiguration"]
    with pytest.raises(Exception, match=r"sagemaker-rollout:concrete-instance-count"):
        app.synth()


# --- tokens: deferred, never a crash -----------------------------------------------------------


@jsii.implements(cdk.IStableNumberProducer)
class _Later:
    """A number that is only known after bind() (None until then)."""

    def __init__(self) -> None:
        self.value: int | None = None

    def produce(self) -> int | None:
        return self.value


def test_tokens_are_checked_when_they_resolve_at_synth() -> None:
    app, stack, scope = _scope()
    later = _Later()
    config = _rolling(CapacitySize.count(2)).bind(
        scope, variants=_fleet(cdk.Lazy.number(later)), service_timeout=HOUR)
    later.value = 4
    app.synth()
    resolved = stack.resolve(config)
    assert resolved["RollingUpdatePolicy"]["MaximumExecutionTimeoutInSeconds"] == 2610

    app2, _, scope2 = _scope()
    later2 = _Later()
    _rolling(CapacitySize.count(3)).bind(
        scope2, variants=_fleet(cdk.Lazy.number(later2)), service_timeout=HOUR)
    later2.value = 4
    with pytest.raises(Exception, match=r"rolling-batch-5-to-50-percent.*75% of its 4"):
        app2.synth()


def test_warning_checks_skipped_for_tokens() -> None:
    app, stack, scope = _scope()
    count = cdk.CfnParameter(stack, "Count", type="Number").value_as_number
    kind = cdk.CfnParameter(stack, "Type").value_as_string
    _canary(CapacitySize.count(1)).bind(scope, variants=_fleet(count, kind),
                                         service_timeout=HOUR)
    app.synth()
    skipped = [w for w in _warnings(app, stack) if WarningId.CHECKS_SKIPPED.full_id in w]
    assert len(skipped) == 1
    assert "canary size against variant AllTraffic's instance count" in skipped[0]
    assert "Inf1 fallback check" in skipped[0]


# --- warnings: legal but suspicious ------------------------------------------------------------


def _bind_and_warnings(strategy: DeploymentStrategy, variants: Sequence[VariantFacts],
                       alarms: Sequence[cloudwatch.IAlarm] | None = None) -> list[str]:
    app, stack, scope = _scope()
    strategy.bind(scope, variants=variants, service_timeout=HOUR, alarms=alarms)
    return _warnings(app, stack)


def _with(warning: WarningId, warnings: list[str]) -> list[str]:
    return [w for w in warnings if f"[ack: {warning.full_id}]" in w]


def test_warning_silent_all_at_once() -> None:
    inf1 = _fleet(4, "ml.inf1.xlarge")
    found = _with(WarningId.SILENT_ALL_AT_ONCE,
                  _bind_and_warnings(_canary(CapacitySize.percent(25)), inf1))
    assert len(found) == 1 and "ml.inf1.xlarge" in found[0] and "CANARY" in found[0]
    assert not _with(WarningId.SILENT_ALL_AT_ONCE,
                     _bind_and_warnings(DeploymentStrategy.all_at_once(), inf1))
    assert not _with(WarningId.SILENT_ALL_AT_ONCE,
                     _bind_and_warnings(_canary(CapacitySize.percent(25)), _fleet(4)))


def test_warning_step_rounds_to_zero() -> None:
    found = _with(WarningId.STEP_ROUNDS_TO_ZERO,
                  _bind_and_warnings(_linear(CapacitySize.percent(10)), _fleet(4)))
    assert len(found) == 1 and "10% of 4 instance(s) is 0.4 instance(s)" in found[0]
    ten_steps = _linear(CapacitySize.percent(10), Duration.minutes(2))
    assert not _with(WarningId.STEP_ROUNDS_TO_ZERO, _bind_and_warnings(ten_steps, _fleet(10)))


def test_warning_step_is_whole_fleet() -> None:
    # 50% of 1 instance is no real step: one warning, with the refusal's advice (count(1) of
    # 1 instance is refused, so it is not proposed).
    warnings = _bind_and_warnings(_canary(CapacitySize.percent(50)), _fleet(1))
    found = _with(WarningId.STEP_IS_WHOLE_FLEET, warnings)
    assert len(warnings) == 1 and len(found) == 1
    assert "initial_instance_count=2 (or more) and use CapacitySize.count(1)" in found[0]
    assert not _with(WarningId.STEP_IS_WHOLE_FLEET,
                     _bind_and_warnings(_canary(CapacitySize.percent(50)), _fleet(4)))


def test_warning_baking_without_alarms() -> None:
    canary = _canary(CapacitySize.percent(25))
    assert _with(WarningId.BAKING_WITHOUT_ALARMS, _bind_and_warnings(canary, _fleet(), []))
    assert not _with(WarningId.BAKING_WITHOUT_ALARMS,
                     _bind_and_warnings(canary, _fleet(), _alarms(1)))
    assert not _with(WarningId.BAKING_WITHOUT_ALARMS,  # the caller did not say: no warning
                     _bind_and_warnings(canary, _fleet(), None))
    assert not _with(WarningId.BAKING_WITHOUT_ALARMS,
                     _bind_and_warnings(DeploymentStrategy.all_at_once(), _fleet(), []))


def test_warnings_can_be_acknowledged() -> None:
    app, stack, scope = _scope()
    cdk.Annotations.of(scope).acknowledge_warning(WarningId.SILENT_ALL_AT_ONCE.full_id, "known")
    _canary(CapacitySize.percent(25)).bind(scope, variants=_fleet(4, "ml.inf1.xlarge"),
                                           service_timeout=HOUR)
    assert not _with(WarningId.SILENT_ALL_AT_ONCE, _warnings(app, stack))


# --- defaults and documentation ----------------------------------------------------------------


def test_default_is_all_at_once_with_the_largest_timeout_that_fits() -> None:
    assert _bind(DeploymentStrategy.default()) == {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
            "TerminationWaitInSeconds": 0,
            "MaximumExecutionTimeoutInSeconds": 3210,
        }
    }


def test_traffic_routing_reports_its_bake_as_a_duration() -> None:
    routing = TrafficRouting.canary(size=CapacitySize.count(1), bake_time=Duration.minutes(10))
    assert routing.wait_seconds == 600
    assert routing.wait.to_seconds() == 600
