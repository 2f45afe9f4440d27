"""The SageMaker emulator over HTTP with the real boto3 client, on virtual time: the
timelines of each kind of update, and the server's validation of UpdateEndpoint."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from emulator_support import (  # noqa: F401 - fixtures, named as parameters
    CFG_ARN,
    EP_ARN,
    TIMINGS,
    Json,
    at,
    blue_green,
    count,
    emulator,
    error_of,
    expect_timeline,
    last_rule,
    make_client,
    module_raw,
    module_sm,
    observe,
    pct,
    raw,
    rolling,
    server,
    serverless_variants,
    serving,
    sm,
    variants,
)
from sagemaker_emulator import (
    Behaviour,
    Messages,
    SageMakerEmulator,
    VirtualClock,
)

# --- update timelines --------------------------------------------------------------------------


def test_update_all_at_once(sm: Any, clock: VirtualClock) -> None:
    start = serving(sm, clock)
    config = blue_green(termination=300)
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2", DeploymentConfig=config)
    d = sm.describe_endpoint(EndpointName="ep")
    pending = d["PendingDeploymentSummary"]
    assert pending["EndpointConfigName"] == "c2"
    assert pending["StartTime"].timestamp() == start
    variant = pending["ProductionVariants"][0]
    assert (variant["VariantName"], variant["DesiredInstanceCount"], variant["InstanceType"]) == (
        "AllTraffic", 4, "ml.m5.xlarge")
    assert variant["VariantStatus"][0]["StartTime"].timestamp() == start
    assert d["ProductionVariants"][0]["DesiredInstanceCount"] == 4  # the old fleet
    expect_timeline(sm, clock, start, [
        (0, ("Updating", "c1", "Creating")),
        (199, ("Updating", "c1", "Creating")),
        (200, ("Updating", "c1", "ActivatingTraffic")),
        (220, ("Updating", "c1", "Baking")),
        (519, ("Updating", "c1", "Baking")),
        (520, ("Updating", "c1", "Deleting")),
        (580, ("InService", "c2", None)),
    ])
    d = sm.describe_endpoint(EndpointName="ep")
    assert d["LastDeploymentConfig"] == config
    assert "FailureReason" not in d and "PendingDeploymentSummary" not in d


def test_update_canary(sm: Any, clock: VirtualClock) -> None:
    start = serving(sm, clock)
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2", DeploymentConfig=blue_green(
        "CANARY", wait=600, termination=300, CanarySize=count(1)))
    expect_timeline(sm, clock, start, [
        (0, ("Updating", "c1", "Creating")),
        (200, ("Updating", "c1", "ActivatingTraffic")),  # the canary
        (220, ("Updating", "c1", "Baking")),  # WaitIntervalInSeconds
        (820, ("Updating", "c1", "ActivatingTraffic")),  # the rest
        (840, ("Updating", "c1", "Baking")),  # TerminationWaitInSeconds
        (1140, ("Updating", "c1", "Deleting")),
        (1199, ("Updating", "c1", "Deleting")),
        (1200, ("InService", "c2", None)),
    ])


def test_update_linear(sm: Any, clock: VirtualClock) -> None:
    start = serving(sm, clock)
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2", DeploymentConfig=blue_green(
        "LINEAR", wait=100, termination=50, LinearStepSize=pct(25)))
    # provision 200; 4 steps of (shift 20 + bake 100); final bake 50; terminate 60.
    expected: list[tuple[float, tuple[str, str, str | None]]] = [
        (0, ("Updating", "c1", "Creating"))]
    for step in range(4):
        base = 200 + step * 120
        expected += [(base, ("Updating", "c1", "ActivatingTraffic")),
                     (base + 20, ("Updating", "c1", "Baking"))]
    expected += [(680, ("Updating", "c1", "Baking")), (730, ("Updating", "c1", "Deleting")),
                 (790, ("InService", "c2", None))]
    expect_timeline(sm, clock, start, expected)


def test_update_linear_by_instance_count(sm: Any, clock: VirtualClock) -> None:
    start = serving(sm, clock, instances=10)
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2", DeploymentConfig=blue_green(
        "LINEAR", wait=100, LinearStepSize=count(3)))  # ceil(10 / 3) = 4 steps
    expect_timeline(sm, clock, start, [(679, ("Updating", "c1", "Baking")),
                                       (680, ("Updating", "c1", "Deleting")),
                                       (740, ("InService", "c2", None))])


def test_update_rolling(sm: Any, clock: VirtualClock) -> None:
    start = serving(sm, clock)
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2",
                       DeploymentConfig=rolling(count(1), wait=60))
    # 4 batches of (provision 200, shift 20, bake 60, terminate 60) = 340 s each.
    expected: list[tuple[float, tuple[str, str, str | None]]] = []
    for batch in range(4):
        base = batch * 340
        expected += [(base, ("Updating", "c1", "Creating")),
                     (base + 200, ("Updating", "c1", "ActivatingTraffic")),
                     (base + 220, ("Updating", "c1", "Baking")),
                     (base + 280, ("Updating", "c1", "Deleting"))]
    expected.append((1360, ("InService", "c2", None)))
    expect_timeline(sm, clock, start, expected)


def test_update_without_policy_is_all_at_once(sm: Any, clock: VirtualClock) -> None:
    start = serving(sm, clock)
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2")
    expect_timeline(sm, clock, start, [(200, ("Updating", "c1", "ActivatingTraffic")),
                                       (220, ("Updating", "c1", "Deleting")),
                                       (280, ("InService", "c2", None))])
    policy = sm.describe_endpoint(EndpointName="ep")["LastDeploymentConfig"]
    assert policy["BlueGreenUpdatePolicy"] == {
        "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
        "TerminationWaitInSeconds": 0}


def test_retain_deployment_config_reuses_the_last_one(sm: Any, clock: VirtualClock) -> None:
    config = blue_green("CANARY", wait=600, CanarySize=count(1))
    sm.create_endpoint_config(EndpointConfigName="c1", ProductionVariants=variants())
    sm.create_endpoint_config(EndpointConfigName="c2", ProductionVariants=variants())
    sm.create_endpoint(EndpointName="ep", EndpointConfigName="c1", DeploymentConfig=config)
    start = clock.advance(300)
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2", RetainDeploymentConfig=True)
    expect_timeline(sm, clock, start, [(220, ("Updating", "c1", "Baking")),
                                       (820, ("Updating", "c1", "ActivatingTraffic")),
                                       (900, ("InService", "c2", None))])
    assert sm.describe_endpoint(EndpointName="ep")["LastDeploymentConfig"] == config


@pytest.mark.parametrize(("retain", "exclude", "expected_count", "expected_weight"), [
    (False, [], 4, 1.0),
    (True, [], 7, 0.5),
    (True, ["DesiredInstanceCount"], 4, 0.5),
    (True, ["DesiredWeight"], 7, 1.0),
])
def test_retain_all_variant_properties(
    sm: Any, clock: VirtualClock, emulator: SageMakerEmulator, retain: bool, exclude: list[str],
    expected_count: int, expected_weight: float,
) -> None:
    start = serving(sm, clock)
    emulator.set_variant_capacity("ep", "AllTraffic", desired_instance_count=7, desired_weight=0.5)
    params: Json = {"EndpointName": "ep", "EndpointConfigName": "c2",
                    "RetainAllVariantProperties": retain}
    if exclude:
        params["ExcludeRetainedVariantProperties"] = [{"VariantPropertyType": p} for p in exclude]
    sm.update_endpoint(**params)
    pending = sm.describe_endpoint(EndpointName="ep")["PendingDeploymentSummary"]
    assert pending["ProductionVariants"][0]["DesiredInstanceCount"] == expected_count
    at(clock, start, 280)
    variant = sm.describe_endpoint(EndpointName="ep")["ProductionVariants"][0]
    assert (variant["DesiredInstanceCount"], variant["DesiredWeight"]) == (
        expected_count, expected_weight)


def test_update_refusals(sm: Any, clock: VirtualClock, emulator: SageMakerEmulator) -> None:
    serving(sm, clock)
    with pytest.raises(ClientError) as excinfo:
        sm.update_endpoint(EndpointName="ep", EndpointConfigName="missing")
    assert error_of(excinfo) == (
        "ValidationException", f'Could not find endpoint configuration "{CFG_ARN}missing".')
    with pytest.raises(ClientError) as excinfo:
        sm.update_endpoint(EndpointName="ep", EndpointConfigName="C1")
    assert last_rule(emulator) == "same-config"
    emulator.faults.set_status("ep", "Failed", failure_reason="boom")
    with pytest.raises(ClientError) as excinfo:
        sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2")
    assert error_of(excinfo) == ("ValidationException",
                                 f'Cannot update failed endpoint "{EP_ARN}ep".')
    sm.delete_endpoint(EndpointName="ep")  # the only thing a Failed endpoint accepts


def test_same_config_update_can_be_allowed(clock: VirtualClock) -> None:
    with SageMakerEmulator(clock, timings=TIMINGS,
                           behaviour=Behaviour(same_config_update="deploy")) as emulator:
        sm = make_client(emulator)
        start = serving(sm, clock, new=None)
        sm.update_endpoint(EndpointName="ep", EndpointConfigName="c1")
        expect_timeline(sm, clock, start, [(0, ("Updating", "c1", "Creating")),
                                           (280, ("InService", "c1", None))])


# --- validation --------------------------------------------------------------------------------

INVALID_UPDATES: list[tuple[str, Json, str]] = [
    # (case id, UpdateEndpoint params beyond EndpointName/EndpointConfigName, rule)
    ("wait-too-long", {"DeploymentConfig": blue_green(wait=3601)}, "shape"),
    ("termination-too-long", {"DeploymentConfig": blue_green(termination=3601)}, "shape"),
    ("timeout-too-long", {"DeploymentConfig": {"BlueGreenUpdatePolicy": {
        **blue_green()["BlueGreenUpdatePolicy"], "MaximumExecutionTimeoutInSeconds": 28801}}},
     "shape"),
    ("timeout-too-short", {"DeploymentConfig": {"BlueGreenUpdatePolicy": {
        **blue_green()["BlueGreenUpdatePolicy"], "MaximumExecutionTimeoutInSeconds": 599}}},
     "shape"),
    ("negative-wait", {"DeploymentConfig": blue_green(wait=-1)}, "shape"),
    ("bad-routing-type", {"DeploymentConfig": blue_green("BOGUS")}, "shape"),
    ("bad-capacity-type", {"DeploymentConfig": blue_green(
        "CANARY", CanarySize={"Type": "PERCENT", "Value": 10})}, "shape"),
    ("capacity-zero", {"DeploymentConfig": blue_green("CANARY", CanarySize=count(0))}, "shape"),
    ("missing-wait", {"DeploymentConfig": {"BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE"}}}}, "shape"),
    ("too-many-alarms", {"DeploymentConfig": {**blue_green(), "AutoRollbackConfiguration": {
        "Alarms": [{"AlarmName": f"a{i}"} for i in range(11)]}}}, "shape"),
    ("no-alarms", {"DeploymentConfig": {**blue_green(), "AutoRollbackConfiguration": {
        "Alarms": []}}}, "shape"),
    ("alarm-name-too-long", {"DeploymentConfig": {**blue_green(), "AutoRollbackConfiguration": {
        "Alarms": [{"AlarmName": "a" * 256}]}}}, "shape"),
    ("alarm-name-blank", {"DeploymentConfig": {**blue_green(), "AutoRollbackConfiguration": {
        "Alarms": [{"AlarmName": "   "}]}}}, "shape"),
    ("too-many-exclusions", {"RetainAllVariantProperties": True,
                             "ExcludeRetainedVariantProperties": [
                                 {"VariantPropertyType": "DesiredWeight"}] * 4}, "shape"),
    ("bad-exclusion", {"RetainAllVariantProperties": True, "ExcludeRetainedVariantProperties": [
        {"VariantPropertyType": "InstanceType"}]}, "shape"),
    ("both-policies", {"DeploymentConfig": {**blue_green(), **rolling(count(1))}}, "one-policy"),
    ("canary-75pct-of-instances", {"DeploymentConfig": blue_green(
        "CANARY", CanarySize=count(3))}, "canary-size"),
    ("canary-60pct", {"DeploymentConfig": blue_green("CANARY", CanarySize=pct(60))},
     "canary-size"),
    ("linear-5pct", {"DeploymentConfig": blue_green("LINEAR", LinearStepSize=pct(5))},
     "linear-step"),
    ("linear-60pct", {"DeploymentConfig": blue_green("LINEAR", LinearStepSize=pct(60))},
     "linear-step"),
    ("linear-3-of-4", {"DeploymentConfig": blue_green("LINEAR", LinearStepSize=count(3))},
     "linear-step"),
    ("rolling-4pct", {"DeploymentConfig": rolling(pct(4))}, "rolling-batch"),
    ("rolling-60pct", {"DeploymentConfig": rolling(pct(60))}, "rolling-batch"),
    ("rolling-3-of-4", {"DeploymentConfig": rolling(count(3))}, "rolling-batch"),
    ("timeout-not-above-waits", {"DeploymentConfig": {"BlueGreenUpdatePolicy": {
        **blue_green(wait=300, termination=300)["BlueGreenUpdatePolicy"],
        "MaximumExecutionTimeoutInSeconds": 600}}}, "timeout-vs-waits"),
    ("rolling-timeout-not-above-wait", {"DeploymentConfig": rolling(
        count(1), wait=900, MaximumExecutionTimeoutInSeconds=900)}, "timeout-vs-waits"),
    ("retain-and-config", {"RetainDeploymentConfig": True, "DeploymentConfig": blue_green()},
     "retain-and-config"),
]


@pytest.mark.parametrize(("params", "rule"), [(p, r) for _, p, r in INVALID_UPDATES],
                         ids=[case for case, _, _ in INVALID_UPDATES])
def test_update_validation(raw: Any, clock: VirtualClock, emulator: SageMakerEmulator,
                           params: Json, rule: str) -> None:
    serving(raw, clock)
    with pytest.raises(ClientError) as excinfo:
        raw.update_endpoint(EndpointName="ep", EndpointConfigName="c2", **params)
    assert error_of(excinfo)[0] == "ValidationException"
    assert last_rule(emulator) == rule
    assert observe(raw) == ("InService", "c1", None)  # nothing started


@pytest.mark.parametrize("name", ["bad_name", "-leading", "a" * 64, ""])
def test_name_pattern_enforced_by_the_server(raw: Any, emulator: SageMakerEmulator,
                                             name: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        raw.create_endpoint_config(EndpointConfigName=name, ProductionVariants=variants())
    assert error_of(excinfo)[0] == "ValidationException"
    assert last_rule(emulator) == "shape"
    with pytest.raises(ClientError):
        raw.describe_endpoint(EndpointName=name)
    assert last_rule(emulator) == "shape"


@pytest.mark.parametrize("config", [
    blue_green("CANARY", CanarySize=count(2)),  # exactly 50%
    blue_green("CANARY", CanarySize=pct(50)),
    blue_green("LINEAR", LinearStepSize=pct(10)),
    blue_green("LINEAR", LinearStepSize=count(2)),
    rolling(pct(50)),
    rolling(count(1), RollbackMaximumBatchSize=count(4)),
    {"BlueGreenUpdatePolicy": {**blue_green(wait=300, termination=299)["BlueGreenUpdatePolicy"],
                               "MaximumExecutionTimeoutInSeconds": 600}},
], ids=["canary-2-of-4", "canary-50pct", "linear-10pct", "linear-2-of-4", "rolling-50pct",
        "rolling-rollback-batch", "timeout-just-above-waits"])
def test_boundary_configs_are_accepted(sm: Any, clock: VirtualClock, config: Json) -> None:
    serving(sm, clock)
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2", DeploymentConfig=config)
    assert observe(sm)[0] == "Updating"


def test_rolling_batch_counts_against_the_new_configs_fleet(
    sm: Any, clock: VirtualClock, emulator: SageMakerEmulator
) -> None:
    serving(sm, clock, instances=4, new_variants=variants(20))
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2",
                       DeploymentConfig=rolling(count(1)))  # 1 of 20 = 5%
    assert observe(sm)[0] == "Updating"


def test_guardrail_exclusions(raw: Any, clock: VirtualClock, emulator: SageMakerEmulator) -> None:
    serving(raw, clock, new_variants=variants(name="Renamed"))
    two = variants(name="AllTraffic") + variants(name="Second")
    raw.create_endpoint_config(EndpointConfigName="two", ProductionVariants=two)
    raw.create_endpoint_config(EndpointConfigName="sls", ProductionVariants=serverless_variants())
    cases = [
        ("c2", blue_green(), "variant-names"),
        ("two", rolling(pct(50)), "rolling-multi-variant"),
        ("sls", rolling(pct(50)), "rolling-serverless"),
        ("sls", blue_green("CANARY", CanarySize=pct(10)), "serverless-traffic-shifting"),
    ]
    for config_name, deployment, rule in cases:
        with pytest.raises(ClientError) as excinfo:
            raw.update_endpoint(EndpointName="ep", EndpointConfigName=config_name,
                                DeploymentConfig=deployment)
        assert error_of(excinfo)[0] == "ValidationException"
        assert last_rule(emulator) == rule
    # Without guardrails the variant may be renamed; serverless ALL_AT_ONCE is fine.
    raw.update_endpoint(EndpointName="ep", EndpointConfigName="c2")
    assert observe(raw)[0] == "Updating"


def test_messages_are_configurable(clock: VirtualClock) -> None:
    messages = Messages()
    messages.rules["canary-size"] = "too big: {size}"
    with SageMakerEmulator(clock, timings=TIMINGS, messages=messages) as emulator:
        sm = make_client(emulator)
        serving(sm, clock)
        with pytest.raises(ClientError) as excinfo:
            sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2",
                               DeploymentConfig=blue_green("CANARY", CanarySize=pct(80)))
        assert error_of(excinfo)[1] == "too big: 80%"


def test_known_alarms(clock: VirtualClock) -> None:
    behaviour = Behaviour(known_alarms=frozenset({"latency-high"}))
    with SageMakerEmulator(clock, timings=TIMINGS, behaviour=behaviour) as emulator:
        sm = make_client(emulator)
        serving(sm, clock)
        with pytest.raises(ClientError):
            sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2",
                               DeploymentConfig=blue_green())  # errors-high is unknown
        assert last_rule(emulator) == "unknown-alarm"
