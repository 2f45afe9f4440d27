"""Property: the typed API accepts exactly the configurations that break no documented rule, and
every configuration it accepts renders to an UpdateEndpoint request that botocore's parameter
validator and the emulator's server-side validation accept.

Configurations are drawn through the typed API, out-of-range values included. An independent
oracle (`_broken_rules`, written from README.md, not from the implementation) says which
rules a configuration breaks:

- accepted  => the oracle finds no broken rule, botocore and the emulator accept the request;
- refused   => every rule the message names is one the oracle finds broken (and it names one).
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, replace
from typing import Any

import aws_cdk as cdk
import botocore.session
import pytest
from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from botocore.validate import ParamValidator
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sagemaker_emulator import GreenVariant, Messages
from sagemaker_emulator.errors import ApiError
from sagemaker_emulator.validation import (
    check_deployment,
    check_shape,
    effective_deployment_config,
)
from sagemaker_rollout.capacity import CapacitySize
from sagemaker_rollout.deployment import (
    DeploymentStrategy,
    TrafficRouting,
    VariantFacts,
    render_auto_rollback,
)
from sagemaker_rollout.rules import Rule
from sagemaker_rollout.wait_mode import WaitMode

from constructs import Construct

_INPUT_SHAPE = (
    botocore.session.get_session()
    .get_service_model("sagemaker")
    .operation_model("UpdateEndpoint")
    .input_shape
)
_RULE_IDS = {rule.id for rule in Rule}
_APP = cdk.App()
_STACK = cdk.Stack(_APP, "Properties")
_ALARMS = [
    cloudwatch.Alarm.from_alarm_arn(
        _STACK, f"Alarm{i}", f"arn:aws:cloudwatch:us-east-1:123456789012:alarm:alarm-{i}")
    for i in range(12)
]
_ids = itertools.count()


# --- drawing configurations ---------------------------------------------------------------------


@dataclass(frozen=True)
class Size:
    percent: bool
    value: int

    def build(self) -> CapacitySize:
        return CapacitySize.percent(self.value) if self.percent else CapacitySize.count(self.value)


@dataclass(frozen=True)
class Variant:
    serverless: bool
    count: int
    instance_type: str


@dataclass(frozen=True)
class Config:
    kind: str  # ALL_AT_ONCE | CANARY | LINEAR | ROLLING
    size: Size
    wait_ms: int
    termination_ms: int
    timeout_ms: int | None
    rollback: Size | None
    provisioning_ms: int | None
    variants: tuple[Variant, ...]
    service_timeout_s: int
    alarms: int
    #: WaitMode's value, or None: chosen by the construct.
    wait_mode: str | None = None


def _seconds_ms(low: int, high: int) -> st.SearchStrategy[int]:
    return st.integers(low, high).map(lambda s: s * 1000)


def _any_ms(max_seconds: int) -> st.SearchStrategy[int]:
    """Whole seconds up to `max_seconds`, or any number of milliseconds (fractions)."""
    return st.one_of(_seconds_ms(0, max_seconds), st.integers(0, max_seconds * 1000))


def _configs_from(
    sizes: st.SearchStrategy[Size],
    waits: st.SearchStrategy[int],
    timeouts: st.SearchStrategy[int | None],
    provisioning: st.SearchStrategy[int | None],
    counts: st.SearchStrategy[int],
    max_variants: int,
    service_timeouts: st.SearchStrategy[int],
    alarms: st.SearchStrategy[int],
) -> st.SearchStrategy[Config]:
    variants = st.builds(
        Variant,
        st.sampled_from([False, False, False, True]),  # serverless 1 in 4
        counts,
        st.sampled_from(["ml.m5.large", "ml.g5.xlarge", "ml.inf1.xlarge"]),
    )
    return st.builds(
        Config,
        st.sampled_from(["ALL_AT_ONCE", "CANARY", "LINEAR", "ROLLING"]),
        sizes,
        waits,
        waits,
        timeouts,
        st.none() | sizes,
        provisioning,
        st.lists(variants, min_size=1, max_size=max_variants).map(tuple),
        service_timeouts,
        alarms,
        st.sampled_from([None, None, "CustomResource", "WaitCondition"]),
    )


#: Half the examples inside every range (cross-field rules and the time budget still refuse
#: some), half anywhere, out-of-range values and fractions of seconds included.
_configs = st.one_of(
    _configs_from(
        sizes=st.one_of(st.builds(Size, st.just(True), st.integers(1, 60)),
                        st.builds(Size, st.just(False), st.integers(1, 6))),
        waits=_seconds_ms(0, 600),
        timeouts=st.none() | _seconds_ms(600, 3210),
        provisioning=st.none() | _seconds_ms(60, 900),
        counts=st.integers(1, 12),
        max_variants=1,
        service_timeouts=st.just(3600),
        alarms=st.integers(0, 10),
    ),
    _configs_from(
        sizes=st.builds(Size, st.booleans(), st.integers(-1, 120)),
        waits=_any_ms(4000),
        timeouts=st.none() | _any_ms(30000),
        provisioning=st.none() | _seconds_ms(0, 4000),
        counts=st.integers(0, 40),
        max_variants=3,
        service_timeouts=st.integers(1, 4000),
        alarms=st.integers(0, 12),
    ),
)


def _build(config: Config) -> tuple[DeploymentStrategy, dict[str, Any] | None]:
    """Build through the typed API and bind (raises ValueError on refusal)."""
    timeout = None if config.timeout_ms is None else Duration.millis(config.timeout_ms)
    provisioning = (None if config.provisioning_ms is None
                    else Duration.millis(config.provisioning_ms))
    wait = Duration.millis(config.wait_ms)
    if config.kind == "ROLLING":
        strategy = DeploymentStrategy.rolling(
            batch_size=config.size.build(),
            bake_time=wait,
            rollback_batch_size=None if config.rollback is None else config.rollback.build(),
            maximum_execution_timeout=timeout,
            provisioning_allowance=provisioning,
        )
    else:
        if config.kind == "CANARY":
            routing = TrafficRouting.canary(size=config.size.build(), bake_time=wait)
        elif config.kind == "LINEAR":
            routing = TrafficRouting.linear(step_size=config.size.build(), interval=wait)
        else:
            routing = TrafficRouting.all_at_once()
        strategy = DeploymentStrategy.blue_green(
            traffic_routing=routing,
            termination_wait=Duration.millis(config.termination_ms),
            maximum_execution_timeout=timeout,
            provisioning_allowance=provisioning,
        )
    alarms = _ALARMS[: config.alarms]
    rollback = render_auto_rollback(alarms)
    scope = Construct(_STACK, f"E{next(_ids)}")
    rendered = strategy.bind(scope, variants=_facts(config),
                             service_timeout=Duration.seconds(config.service_timeout_s),
                             alarms=alarms,
                             wait_mode=None if config.wait_mode is None
                             else WaitMode(config.wait_mode))
    if rollback is not None:
        rendered = {**rendered, "AutoRollbackConfiguration": rollback}
    return strategy, rendered


def _facts(config: Config) -> list[VariantFacts]:
    return [
        VariantFacts(f"Variant{i}", None if v.serverless else v.instance_type,
                     None if v.serverless else v.count, v.serverless)
        for i, v in enumerate(config.variants)
    ]


# --- the oracle -----------------------------------------------------------------------------


def _seconds(ms: int, low: int, high: int, range_rule: Rule, broken: set[Rule]) -> int:
    if ms % 1000:
        broken.add(Rule.WHOLE_SECONDS)
    elif not low <= ms // 1000 <= high:
        broken.add(range_rule)
    return ms // 1000


def _size_rules(size: Size, broken: set[Rule]) -> None:
    if size.value < 1:
        broken.add(Rule.SIZE_AT_LEAST_ONE)
    elif size.percent and size.value > 100:
        broken.add(Rule.PERCENT_AT_MOST_100)


def _instances(size: Size, fleet: int) -> int:
    """Instances per step, as README.md plans them: rounded down, 1..fleet."""
    exact = size.value * fleet / 100 if size.percent else size.value
    return min(fleet, max(1, math.floor(exact)))


_SHARES = {"CANARY": (Rule.CANARY_AT_MOST_HALF, 0, 50),
           "LINEAR": (Rule.LINEAR_STEP_10_TO_50, 10, 50),
           "ROLLING": (Rule.ROLLING_BATCH_5_TO_50, 5, 50)}


def _broken_rules(config: Config) -> set[Rule]:
    return _oracle(config)[0]


def _oracle(config: Config) -> tuple[set[Rule], int | None]:
    """The rules `config` breaks, and the MaximumExecutionTimeoutInSeconds it must render."""
    broken: set[Rule] = set()
    kind = config.kind
    # Ranges (botocore model).
    wait = _seconds(config.wait_ms, 0, 3600, Rule.WAIT_RANGE, broken) if kind != "ALL_AT_ONCE" \
        else 0
    termination = 0
    if kind != "ROLLING":
        termination = _seconds(config.termination_ms, 0, 3600, Rule.TERMINATION_WAIT_RANGE,
                               broken)
    given = None if config.timeout_ms is None else _seconds(
        config.timeout_ms, 600, 28800, Rule.TIMEOUT_RANGE, broken)
    provisioning = 600 if config.provisioning_ms is None else _seconds(
        config.provisioning_ms, 0, 3600, Rule.PROVISIONING_ALLOWANCE_RANGE, broken)
    if kind != "ALL_AT_ONCE":
        _size_rules(config.size, broken)
    if kind == "ROLLING" and config.rollback is not None:
        _size_rules(config.rollback, broken)
    if not 1 <= config.service_timeout_s <= 3600:
        broken.add(Rule.SERVICE_TIMEOUT_RANGE)
    # Cross-field rules.
    variants = config.variants
    serverless = any(v.serverless for v in variants)
    if kind == "ROLLING" and serverless:
        broken.add(Rule.ROLLING_NOT_SERVERLESS)
    if kind == "ROLLING" and len(variants) > 1:
        broken.add(Rule.ROLLING_SINGLE_VARIANT)
    if kind in ("CANARY", "LINEAR") and serverless:
        broken.add(Rule.SERVERLESS_ALL_AT_ONCE_ONLY)
    fleets = [v.count for v in variants if not v.serverless]
    if any(n < 1 for n in fleets):
        broken.add(Rule.SIZE_AT_LEAST_ONE)
    if kind in _SHARES and config.size.value >= 1:
        rule, low, high = _SHARES[kind]
        shares = [config.size.value] if config.size.percent else [
            100 * config.size.value / n for n in fleets if n >= 1]
        if any(not low <= share <= high for share in shares):
            broken.add(rule)
    if broken:
        return broken, None
    # The time budget (README.md, "The time budget").
    if kind == "ROLLING":
        fleet = fleets[0]
        batches = math.ceil(fleet / _instances(config.size, fleet))
        worst = batches * (provisioning + wait)
        waits = batches * wait
        rollback_batches = 1 if config.rollback is None else math.ceil(
            fleet / _instances(config.rollback, fleet))
        rollback = 300 + rollback_batches * provisioning
    else:
        if kind == "LINEAR":
            steps = max(math.ceil(n / _instances(config.size, n)) for n in fleets)
        else:
            steps = 1 if kind == "CANARY" else 0
        worst = provisioning + steps * wait + termination
        waits = steps * wait + termination
        rollback = 300
    # The wait mode (README.md, "Rollouts longer than an hour"): the custom resource when the
    # given timeout, or the least one the worst case needs, fits its hour; else a WaitCondition.
    needed = given if given is not None else max(worst, waits + 1)
    in_hour = needed <= min(28800, config.service_timeout_s - 90 - rollback)
    if config.wait_mode == "CustomResource" or (config.wait_mode is None and in_hour):
        limit, waiter_rule = config.service_timeout_s, Rule.TIMEOUT_FITS_SERVICE_TIMEOUT
    else:
        limit, waiter_rule = 43200, Rule.TIMEOUT_FITS_WAIT_CONDITION
    ceiling = min(28800, limit - 90 - rollback)
    if given is None and ceiling < 600:
        return {waiter_rule}, None
    timeout = ceiling if given is None else given
    if timeout > ceiling:
        broken.add(waiter_rule)
    if timeout <= waits:
        broken.add(Rule.TIMEOUT_EXCEEDS_WAITS)
    elif worst > timeout:
        broken.add(Rule.WORST_CASE_FITS_TIMEOUT)
    return broken, timeout


# --- the properties ---------------------------------------------------------------------------


def _named_rules(message: str) -> set[str]:
    return set(re.findall(r"\[sagemaker-rollout:([a-z0-9-]+)\]", message))


def _check_with_emulator(config: Config, rendered: dict[str, Any]) -> None:
    params = {"EndpointName": "endpoint", "EndpointConfigName": "endpoint-config-2",
              "DeploymentConfig": rendered}
    check_shape("UpdateEndpoint", params)
    green = [
        GreenVariant(f"Variant{i}", None if v.serverless else v.count,
                     None if v.serverless else v.instance_type, 1.0,
                     {"MemorySizeInMB": 2048, "MaxConcurrency": 5} if v.serverless else None)
        for i, v in enumerate(config.variants)
    ]
    check_deployment(
        effective_deployment_config(rendered),
        guarded=True,
        old_variant_names=[g.name for g in green],
        new_config_name="endpoint-config-2",
        green=green,
        messages=Messages(),
        known_alarms=None,
    )


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_configs)
def test_accepted_configs_are_api_valid_and_refused_ones_break_a_documented_rule(
    config: Config,
) -> None:
    expected, expected_timeout = _oracle(config)
    if config.alarms > 10:
        expected.add(Rule.ALARMS_1_TO_10)
    try:
        _, rendered = _build(config)
    except ValueError as refusal:
        named = _named_rules(str(refusal))
        event(f"refused: {', '.join(sorted(named))}")
        assert named, f"refusal names no rule: {refusal}"
        assert named <= _RULE_IDS, named - _RULE_IDS
        assert named <= {rule.id for rule in expected}, (
            f"refused for {named}, oracle finds {sorted(r.id for r in expected)}: {refusal}")
        return
    event(f"accepted: {config.kind}")
    assert not expected, f"accepted, but the oracle finds {sorted(r.id for r in expected)}"
    assert rendered is not None
    # Always an explicit MaximumExecutionTimeoutInSeconds (issue: "Always send an explicit
    # MaximumExecutionTimeoutInSeconds that fits").
    policy = rendered.get("BlueGreenUpdatePolicy") or rendered["RollingUpdatePolicy"]
    assert policy["MaximumExecutionTimeoutInSeconds"] == expected_timeout
    params = {"EndpointName": "endpoint", "EndpointConfigName": "endpoint-config-2",
              "DeploymentConfig": rendered}
    assert _INPUT_SHAPE is not None
    report = ParamValidator().validate(params, _INPUT_SHAPE)
    assert not report.has_errors(), report.generate_report()
    try:
        _check_with_emulator(config, rendered)
    except ApiError as error:  # pragma: no cover - the failure message is the point
        pytest.fail(f"the emulator refused an accepted configuration ({error.rule}): {error}")


def test_the_oracle_is_not_vacuous() -> None:
    """The oracle and the API agree on a few hand-picked configurations of each outcome."""
    ok = Config("CANARY", Size(True, 25), 600_000, 300_000, None, None, None,
                (Variant(False, 4, "ml.m5.large"),), 3600, 2)
    assert _broken_rules(ok) == set()
    assert _build(ok)[1] is not None
    too_slow = Config("LINEAR", Size(True, 10), 300_000, 0, None, None, None,
                      (Variant(False, 10, "ml.m5.large"),), 3600, 1, "CustomResource")
    assert _broken_rules(too_slow) == {Rule.WORST_CASE_FITS_TIMEOUT}
    with pytest.raises(ValueError, match="worst-case-fits-timeout"):
        _build(too_slow)
    # The same rollout, left to choose, is handed off to a WaitCondition (8 h timeout).
    handed_off = replace(too_slow, wait_mode=None)
    assert _oracle(handed_off) == (set(), 28800)
    rendered = _build(handed_off)[1]
    assert rendered is not None
    assert rendered["BlueGreenUpdatePolicy"]["MaximumExecutionTimeoutInSeconds"] == 28800
