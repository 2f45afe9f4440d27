"""The SageMaker emulator, exercised over HTTP with the real boto3 client, on virtual time."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import botocore.endpoint
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from sagemaker_emulator import (
    DEFAULT_EPOCH,
    Behaviour,
    Messages,
    SageMakerEmulator,
    Timings,
    VirtualClock,
)
from sagemaker_rollout_handler.clock import Clock as HandlerClock

# Fixed durations make every phase boundary predictable: create 300 s, provision 200 s, each
# traffic shift 20 s, terminate 60 s, each rollback batch 100 s, delete 30 s.
TIMINGS = Timings(create=300, provision=200, traffic_shift=20, terminate=60, rollback=100,
                  delete=30)
ACCOUNT = "123456789012"
EP_ARN = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint/"
CFG_ARN = f"arn:aws:sagemaker:us-east-1:{ACCOUNT}:endpoint-config/"
ALARMS = {"Alarms": [{"AlarmName": "latency-high"}, {"AlarmName": "errors-high"}]}

Json = dict[str, Any]


@pytest.fixture(scope="module")
def server() -> Iterator[SageMakerEmulator]:
    """One HTTP server for the module (reset before each test): boto3 clients are costly."""
    with SageMakerEmulator(VirtualClock(), timings=TIMINGS) as emu:
        yield emu


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
def emulator(server: SageMakerEmulator, clock: VirtualClock) -> Iterator[SageMakerEmulator]:
    server.reset(clock, timings=TIMINGS)
    yield server
    assert server.internal_errors == []


def make_client(emulator: SageMakerEmulator, **config: Any) -> Any:
    return boto3.client(
        "sagemaker", endpoint_url=emulator.url, region_name="us-east-1",
        aws_access_key_id="x", aws_secret_access_key="x", config=Config(**config),
    )


@pytest.fixture(scope="module")
def module_sm(server: SageMakerEmulator) -> Any:
    return make_client(server, retries={"mode": "standard", "total_max_attempts": 1})


@pytest.fixture(scope="module")
def module_raw(server: SageMakerEmulator) -> Any:
    return make_client(server, parameter_validation=False,
                       retries={"mode": "standard", "total_max_attempts": 1})


@pytest.fixture
def sm(emulator: SageMakerEmulator, module_sm: Any) -> Any:
    """A boto3 client without retries, on a freshly reset emulator."""
    return module_sm


@pytest.fixture
def raw(emulator: SageMakerEmulator, module_raw: Any) -> Any:
    """A client without botocore's client-side validation, to reach the server's own checks."""
    return module_raw


def variants(count: int = 4, name: str = "AllTraffic", **extra: Any) -> list[Json]:
    return [{"VariantName": name, "ModelName": "model", "InitialInstanceCount": count,
             "InstanceType": "ml.m5.xlarge", **extra}]


def serverless_variants() -> list[Json]:
    return [{"VariantName": "AllTraffic", "ModelName": "model",
             "ServerlessConfig": {"MemorySizeInMB": 2048, "MaxConcurrency": 5}}]


def blue_green(kind: str = "ALL_AT_ONCE", wait: int = 0, termination: int = 0,
               alarms: bool = True, **routing: Any) -> Json:
    config: Json = {"BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {"Type": kind, "WaitIntervalInSeconds": wait, **routing},
        "TerminationWaitInSeconds": termination}}
    if alarms:
        config["AutoRollbackConfiguration"] = ALARMS
    return config


def rolling(batch: Json, wait: int = 60, alarms: bool = True, **extra: Any) -> Json:
    config: Json = {"RollingUpdatePolicy": {"MaximumBatchSize": batch,
                                            "WaitIntervalInSeconds": wait, **extra}}
    if alarms:
        config["AutoRollbackConfiguration"] = ALARMS
    return config


def pct(value: int) -> Json:
    return {"Type": "CAPACITY_PERCENT", "Value": value}


def count(value: int) -> Json:
    return {"Type": "INSTANCE_COUNT", "Value": value}


def at(clock: VirtualClock, start: float, offset: float) -> None:
    """Move the clock to ``start + offset`` (forward only)."""
    clock.advance(start + offset - clock.now())


def serving(sm: Any, clock: VirtualClock, name: str = "ep", config: str = "c1",
            instances: int = 4, new: str | None = "c2",
            new_variants: list[Json] | None = None) -> float:
    """An InService endpoint on ``config`` (plus a second config ``new``); return the time."""
    sm.create_endpoint_config(EndpointConfigName=config, ProductionVariants=variants(instances))
    if new is not None:
        sm.create_endpoint_config(EndpointConfigName=new,
                                  ProductionVariants=new_variants or variants(instances))
    sm.create_endpoint(EndpointName=name, EndpointConfigName=config)
    clock.advance(300)
    assert sm.describe_endpoint(EndpointName=name)["EndpointStatus"] == "InService"
    return clock.now()


def observe(sm: Any, name: str = "ep") -> tuple[str, str, str | None]:
    """(EndpointStatus, EndpointConfigName, pending VariantStatus or None)."""
    d = sm.describe_endpoint(EndpointName=name)
    pending = d.get("PendingDeploymentSummary")
    variant_status = None
    if pending is not None:
        statuses = pending["ProductionVariants"][0].get("VariantStatus", [])
        variant_status = statuses[0]["Status"] if statuses else None
    return d["EndpointStatus"], d["EndpointConfigName"], variant_status


def expect_timeline(sm: Any, clock: VirtualClock, start: float,
                    expected: list[tuple[float, tuple[str, str, str | None]]]) -> None:
    for offset, state in expected:
        at(clock, start, offset)
        assert observe(sm) == state, f"at +{offset}s"


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    err = excinfo.value.response["Error"]
    return err["Code"], err["Message"]


def last_rule(emulator: SageMakerEmulator) -> str | None:
    return emulator.calls[-1].error_rule


# --- the clock ---------------------------------------------------------------------------------


def test_virtual_clock_moves_only_when_told() -> None:
    clock = VirtualClock()
    assert clock.now() == DEFAULT_EPOCH
    clock.sleep(3600)
    clock.sleep(-5)
    assert clock.advance(0.5) == DEFAULT_EPOCH + 3600.5
    with pytest.raises(ValueError):
        clock.advance(-1)


def test_virtual_clock_satisfies_the_handlers_clock_protocol() -> None:
    shared: HandlerClock = VirtualClock()  # checked by mypy
    shared.sleep(10)
    assert shared.now() == DEFAULT_EPOCH + 10


def test_virtual_clock_is_thread_safe() -> None:
    clock = VirtualClock(0.0)

    def tick() -> None:
        for _ in range(1000):
            clock.sleep(1)

    threads = [threading.Thread(target=tick) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert clock.now() == 8000.0


# --- protocol ----------------------------------------------------------------------------------


def test_unknown_operation_is_a_client_error(sm: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        sm.list_models()
    assert error_of(excinfo)[0] == "UnknownOperationException"


def test_timestamps_are_virtual(sm: Any, clock: VirtualClock) -> None:
    sm.create_endpoint_config(EndpointConfigName="c1", ProductionVariants=variants())
    created = sm.describe_endpoint_config(EndpointConfigName="c1")["CreationTime"]
    assert created.timestamp() == DEFAULT_EPOCH


# --- endpoint configs --------------------------------------------------------------------------


def test_endpoint_config_lifecycle(sm: Any, clock: VirtualClock) -> None:
    arn = sm.create_endpoint_config(EndpointConfigName="My-Config", ProductionVariants=variants(),
                                    Tags=[{"Key": "team", "Value": "ml"}])["EndpointConfigArn"]
    assert arn == CFG_ARN + "my-config"
    described = sm.describe_endpoint_config(EndpointConfigName="my-config")
    assert described["EndpointConfigName"] == "My-Config"
    assert described["ProductionVariants"][0]["InitialInstanceCount"] == 4
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]
    with pytest.raises(ClientError) as excinfo:
        sm.create_endpoint_config(EndpointConfigName="MY-CONFIG", ProductionVariants=variants())
    assert error_of(excinfo) == (
        "ValidationException", f'Cannot create already existing endpoint configuration "{arn}".')
    clock.advance(10)
    sm.create_endpoint_config(EndpointConfigName="other", ProductionVariants=variants())
    names = [c["EndpointConfigName"] for c in sm.list_endpoint_configs()["EndpointConfigs"]]
    assert names == ["other", "My-Config"]  # CreationTime, descending
    sm.delete_endpoint_config(EndpointConfigName="My-Config")
    with pytest.raises(ClientError) as excinfo:
        sm.describe_endpoint_config(EndpointConfigName="My-Config")
    assert error_of(excinfo) == (
        "ValidationException", f'Could not find endpoint configuration "{arn}".')
    with pytest.raises(ClientError):
        sm.delete_endpoint_config(EndpointConfigName="My-Config")


def test_endpoint_config_variant_rules(raw: Any, emulator: SageMakerEmulator) -> None:
    with pytest.raises(ClientError):
        raw.create_endpoint_config(EndpointConfigName="c",
                                   ProductionVariants=variants() + variants())
    assert last_rule(emulator) == "variant-duplicate"
    with pytest.raises(ClientError):
        raw.create_endpoint_config(EndpointConfigName="c",
                                   ProductionVariants=[{"VariantName": "v", "ModelName": "m"}])
    assert last_rule(emulator) == "variant-capacity"
    with pytest.raises(ClientError):
        raw.create_endpoint_config(EndpointConfigName="c",
                                   ProductionVariants=variants(InstanceType="ml.bogus"))
    assert last_rule(emulator) == "shape"


# --- create / describe / delete ----------------------------------------------------------------


def test_create_endpoint_status_sequence(sm: Any, clock: VirtualClock) -> None:
    sm.create_endpoint_config(EndpointConfigName="c1", ProductionVariants=variants(2))
    arn = sm.create_endpoint(EndpointName="Ep", EndpointConfigName="c1",
                             Tags=[{"Key": "k", "Value": "v"}])["EndpointArn"]
    assert arn == EP_ARN + "ep"
    start = clock.now()
    d = sm.describe_endpoint(EndpointName="ep")
    assert (d["EndpointName"], d["EndpointStatus"]) == ("Ep", "Creating")
    assert "ProductionVariants" not in d and "PendingDeploymentSummary" not in d
    at(clock, start, 299.9)
    assert observe(sm) == ("Creating", "c1", None)
    at(clock, start, 300)
    d = sm.describe_endpoint(EndpointName="EP")
    assert d["EndpointStatus"] == "InService"
    assert d["ProductionVariants"] == [{"VariantName": "AllTraffic", "CurrentWeight": 1.0,
                                        "DesiredWeight": 1.0, "CurrentInstanceCount": 2,
                                        "DesiredInstanceCount": 2}]
    assert d["LastModifiedTime"].timestamp() == start + 300
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "k", "Value": "v"}]


def test_create_errors(sm: Any, clock: VirtualClock) -> None:
    with pytest.raises(ClientError) as excinfo:
        sm.create_endpoint(EndpointName="ep", EndpointConfigName="missing")
    assert error_of(excinfo) == (
        "ValidationException", f'Could not find endpoint configuration "{CFG_ARN}missing".')
    serving(sm, clock, new=None)
    with pytest.raises(ClientError) as excinfo:
        sm.create_endpoint(EndpointName="EP", EndpointConfigName="c1")
    assert error_of(excinfo) == (
        "ValidationException", f'Cannot create already existing endpoint "{EP_ARN}ep".')
    sm.delete_endpoint(EndpointName="ep")
    with pytest.raises(ClientError) as excinfo:  # an endpoint still Deleting counts
        sm.create_endpoint(EndpointName="ep", EndpointConfigName="c1")
    assert "Cannot create already existing endpoint" in error_of(excinfo)[1]


def test_create_stores_deployment_config_without_a_guarded_deployment(
    sm: Any, clock: VirtualClock
) -> None:
    sm.create_endpoint_config(EndpointConfigName="c1", ProductionVariants=variants())
    config = blue_green("CANARY", wait=600, CanarySize=count(1))
    sm.create_endpoint(EndpointName="ep", EndpointConfigName="c1", DeploymentConfig=config)
    clock.advance(300)  # a plain create: no canary, no bake
    d = sm.describe_endpoint(EndpointName="ep")
    assert d["EndpointStatus"] == "InService"
    assert d["LastDeploymentConfig"] == config


def test_delete_endpoint(sm: Any, clock: VirtualClock, emulator: SageMakerEmulator) -> None:
    start = serving(sm, clock, new=None)
    sm.delete_endpoint(EndpointName="EP")
    assert observe(sm) == ("Deleting", "c1", None)
    at(clock, start, 30)
    with pytest.raises(ClientError) as excinfo:
        sm.describe_endpoint(EndpointName="ep")
    assert error_of(excinfo) == ("ValidationException", f'Could not find endpoint "{EP_ARN}ep".')
    with pytest.raises(ClientError) as excinfo:
        sm.delete_endpoint(EndpointName="ep")
    assert error_of(excinfo)[1] == f'Could not find endpoint "{EP_ARN}ep".'
    with pytest.raises(ClientError) as excinfo:
        sm.update_endpoint(EndpointName="ep", EndpointConfigName="c1")
    assert error_of(excinfo)[1] == f'Could not find endpoint "{EP_ARN}ep".'
    assert emulator.endpoint("ep") is None


def test_delete_refused_while_creating_or_updating(sm: Any, clock: VirtualClock) -> None:
    sm.create_endpoint_config(EndpointConfigName="c1", ProductionVariants=variants())
    sm.create_endpoint_config(EndpointConfigName="c2", ProductionVariants=variants())
    sm.create_endpoint(EndpointName="ep", EndpointConfigName="c1")
    message = f'Cannot update in-progress endpoint "{EP_ARN}ep".'
    for call in (lambda: sm.delete_endpoint(EndpointName="ep"),
                 lambda: sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2")):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo) == ("ValidationException", message)
    clock.advance(300)
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2")
    for call in (lambda: sm.delete_endpoint(EndpointName="ep"),
                 lambda: sm.update_endpoint(EndpointName="ep", EndpointConfigName="c1")):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo) == ("ValidationException", message)


def test_list_endpoints_filters_and_paginates(sm: Any, clock: VirtualClock) -> None:
    sm.create_endpoint_config(EndpointConfigName="c1", ProductionVariants=variants())
    for i in range(12):
        sm.create_endpoint(EndpointName=f"ep-{i:02d}", EndpointConfigName="c1")
        clock.advance(1)
    first = sm.list_endpoints()
    assert len(first["Endpoints"]) == 10 and "NextToken" in first
    pages = sm.get_paginator("list_endpoints").paginate(SortBy="Name", SortOrder="Ascending")
    names = [e["EndpointName"] for page in pages for e in page["Endpoints"]]
    assert names == [f"ep-{i:02d}" for i in range(12)]
    clock.advance(289)  # ep-00 .. ep-01 are InService now
    in_service = sm.list_endpoints(StatusEquals="InService")["Endpoints"]
    assert {e["EndpointName"] for e in in_service} == {"ep-00", "ep-01"}
    assert [e["EndpointName"] for e in sm.list_endpoints(NameContains="EP-11")["Endpoints"]] == [
        "ep-11"]


def test_tags(sm: Any, raw: Any, clock: VirtualClock, emulator: SageMakerEmulator) -> None:
    serving(sm, clock, new=None)
    arn = EP_ARN + "ep"
    sm.add_tags(ResourceArn=arn, Tags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}])
    sm.delete_tags(ResourceArn=arn, TagKeys=["a"])
    assert sm.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "b", "Value": "2"}]
    bad_tags: list[tuple[list[Json], str]] = [
        ([{"Key": f"k{i}", "Value": "v"} for i in range(51)], "shape"),
        ([{"Key": "k" * 129, "Value": "v"}], "shape"),
        ([{"Key": "k", "Value": "v" * 257}], "shape"),
        ([{"Key": "bad#key", "Value": "v"}], "shape"),
        ([{"Key": "aws:reserved", "Value": "v"}], "tag-reserved"),
        ([{"Key": f"n{i}", "Value": "v"} for i in range(50)], "tag-limit"),  # 1 + 50 > 50
    ]
    for tags, rule in bad_tags:
        with pytest.raises(ClientError) as excinfo:
            raw.add_tags(ResourceArn=arn, Tags=tags)
        assert error_of(excinfo)[0] == "ValidationException"
        assert last_rule(emulator) == rule
    with pytest.raises(ClientError):
        sm.list_tags(ResourceArn=EP_ARN + "nope")
    assert last_rule(emulator) == "resource-not-found"


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


# --- faults: alarms ----------------------------------------------------------------------------


def test_alarm_in_final_bake_rolls_back(sm: Any, clock: VirtualClock,
                                        emulator: SageMakerEmulator) -> None:
    start = serving(sm, clock)
    trip = emulator.faults.trip_alarm("EP", "final-bake", after=100, alarm_name="errors-high")
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2",
                       DeploymentConfig=blue_green(termination=300))
    assert trip.status == f"fired at {start + 320}"
    expect_timeline(sm, clock, start, [
        (319, ("Updating", "c1", "Baking")),
        (320, ("RollingBack", "c1", "Deleting")),
        (419, ("RollingBack", "c1", "Deleting")),
        (420, ("InService", "c1", None)),  # the OLD config: a rollback is no success
    ])
    d = sm.describe_endpoint(EndpointName="ep")
    assert "errors-high" in d["FailureReason"]
    assert "PendingDeploymentSummary" not in d
    assert "LastDeploymentConfig" not in d  # unchanged by a rollback (none before)
    # The FailureReason disappears as soon as a new update is applied (ACK PR #7).
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2")
    assert "FailureReason" not in sm.describe_endpoint(EndpointName="ep")


def test_alarm_tripped_during_the_running_deployment(
    sm: Any, clock: VirtualClock, emulator: SageMakerEmulator
) -> None:
    start = serving(sm, clock)
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2", DeploymentConfig=blue_green(
        "CANARY", wait=600, termination=300, CanarySize=count(1)))
    at(clock, start, 500)  # in the canary bake (220..820)
    emulator.faults.trip_alarm("ep", "canary-bake", after=100)  # its moment passed: fires now
    expect_timeline(sm, clock, start, [(500, ("RollingBack", "c1", "Deleting")),
                                       (600, ("InService", "c1", None))])
    assert "latency-high" in sm.describe_endpoint(EndpointName="ep")["FailureReason"]


def test_alarm_with_empty_failure_reason(sm: Any, clock: VirtualClock,
                                         emulator: SageMakerEmulator) -> None:
    start = serving(sm, clock)
    emulator.faults.trip_alarm("ep", "provisioning", after=50, reason="")
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2", DeploymentConfig=blue_green())
    expect_timeline(sm, clock, start, [(49, ("Updating", "c1", "Creating")),
                                       (50, ("RollingBack", "c1", "Deleting")),
                                       (150, ("InService", "c1", None))])
    assert sm.describe_endpoint(EndpointName="ep")["FailureReason"] == ""  # terraform #48997


def test_alarm_rollback_fails(sm: Any, clock: VirtualClock, emulator: SageMakerEmulator) -> None:
    start = serving(sm, clock)
    emulator.faults.trip_alarm("ep", "rolling-bake", index=1, rollback_fails=True)
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2",
                       DeploymentConfig=rolling(count(1), wait=60))
    expect_timeline(sm, clock, start, [(340 + 219, ("Updating", "c1", "ActivatingTraffic")),
                                       (340 + 220, ("RollingBack", "c1", "Deleting")),
                                       (340 + 320, ("UpdateRollbackFailed", "c1", None))])
    assert sm.describe_endpoint(EndpointName="ep")["FailureReason"]
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2")  # the documented way out
    assert observe(sm)[0] == "Updating"


def test_rolling_rollback_in_batches(sm: Any, clock: VirtualClock,
                                     emulator: SageMakerEmulator) -> None:
    start = serving(sm, clock)
    emulator.faults.trip_alarm("ep", "rolling-bake", index=1, after=10)
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2", DeploymentConfig=rolling(
        count(1), wait=60, RollbackMaximumBatchSize=count(1)))
    # Two batches provisioned when the alarm fires at 340 + 230: two rollback batches of 100 s.
    expect_timeline(sm, clock, start, [(570, ("RollingBack", "c1", "Deleting")),
                                       (769, ("RollingBack", "c1", "Deleting")),
                                       (770, ("InService", "c1", None))])


def test_alarm_in_a_later_linear_step(sm: Any, clock: VirtualClock,
                                      emulator: SageMakerEmulator) -> None:
    start = serving(sm, clock)
    emulator.faults.trip_alarm("ep", "linear-bake", index=2, after=30)
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2", DeploymentConfig=blue_green(
        "LINEAR", wait=100, LinearStepSize=pct(25)))
    # Step 2's bake starts at 200 + 2 * 120 + 20 = 460.
    expect_timeline(sm, clock, start, [(489, ("Updating", "c1", "Baking")),
                                       (490, ("RollingBack", "c1", "Deleting")),
                                       (590, ("InService", "c1", None))])


@pytest.mark.parametrize(("deployment", "alarm_name", "status"), [
    (blue_green(termination=300, alarms=False), None, "ignored"),  # alarms are a prerequisite
    (blue_green(termination=300), "not-configured", "ignored"),
    (blue_green(termination=300), None, "fired"),
    (blue_green(termination=10), None, "missed"),  # 60 s is beyond a 10 s bake
    (blue_green("CANARY", wait=60, CanarySize=count(1)), None, "missed"),  # no final bake
])
def test_alarm_that_cannot_roll_back(sm: Any, clock: VirtualClock, emulator: SageMakerEmulator,
                                     deployment: Json, alarm_name: str | None,
                                     status: str) -> None:
    serving(sm, clock)
    trip = emulator.faults.trip_alarm("ep", "final-bake", after=60, alarm_name=alarm_name)
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2", DeploymentConfig=deployment)
    assert trip.status.startswith(status)
    clock.advance(2000)
    expected_config = "c1" if status == "fired" else "c2"
    assert observe(sm) == ("InService", expected_config, None)


def test_alarm_waits_for_the_next_deployment(sm: Any, clock: VirtualClock,
                                             emulator: SageMakerEmulator) -> None:
    serving(sm, clock)
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2")
    trip = emulator.faults.trip_alarm("ep", "canary-bake")  # none in this deployment
    assert trip.status == "pending"
    clock.advance(280)
    assert observe(sm) == ("InService", "c2", None)
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="c1", DeploymentConfig=blue_green(
        "CANARY", wait=600, CanarySize=count(1)))
    assert trip.status.startswith("fired")


def test_alarm_rollback_wording_is_configurable(clock: VirtualClock) -> None:
    messages = Messages(alarm_rollback="Alarm {alarms} tripped")
    with SageMakerEmulator(clock, timings=TIMINGS, messages=messages) as emulator:
        sm = make_client(emulator)
        serving(sm, clock)
        emulator.faults.trip_alarm("ep", "provisioning")
        sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2",
                           DeploymentConfig=blue_green())
        clock.advance(100)
        assert sm.describe_endpoint(EndpointName="ep")["FailureReason"] == (
            "Alarm latency-high tripped")


def test_maximum_execution_timeout_rolls_back(sm: Any, clock: VirtualClock) -> None:
    start = serving(sm, clock)
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2", DeploymentConfig={
        "BlueGreenUpdatePolicy": {**blue_green("CANARY", wait=700, CanarySize=count(1))[
            "BlueGreenUpdatePolicy"], "MaximumExecutionTimeoutInSeconds": 900}})
    # Scheduled length 200 + 20 + 700 + 20 + 60 = 1000 > 900.
    expect_timeline(sm, clock, start, [(899, ("Updating", "c1", "Baking")),
                                       (900, ("RollingBack", "c1", "Deleting")),
                                       (1000, ("InService", "c1", None))])
    assert "900" in sm.describe_endpoint(EndpointName="ep")["FailureReason"]


# --- faults: provisioning, errors --------------------------------------------------------------


def test_failed_green_fleet(sm: Any, clock: VirtualClock, emulator: SageMakerEmulator) -> None:
    start = serving(sm, clock)
    emulator.faults.fail_provisioning("ep", reason="ping health check failed")
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2", DeploymentConfig=blue_green())
    expect_timeline(sm, clock, start, [(199, ("Updating", "c1", "Creating")),
                                       (200, ("InService", "c1", None))])
    assert sm.describe_endpoint(EndpointName="ep")["FailureReason"] == "ping health check failed"


def test_failed_create(sm: Any, clock: VirtualClock, emulator: SageMakerEmulator) -> None:
    emulator.faults.fail_provisioning(on="create")
    sm.create_endpoint_config(EndpointConfigName="c1", ProductionVariants=variants())
    sm.create_endpoint(EndpointName="ep", EndpointConfigName="c1")
    clock.advance(300)
    d = sm.describe_endpoint(EndpointName="ep")
    assert d["EndpointStatus"] == "Failed"
    assert "AllTraffic" in d["FailureReason"]
    with pytest.raises(ClientError) as excinfo:
        sm.update_endpoint(EndpointName="ep", EndpointConfigName="c1")
    assert error_of(excinfo)[1].startswith("Cannot update failed endpoint")
    sm.delete_endpoint(EndpointName="ep")
    assert observe(sm)[0] == "Deleting"


def test_resource_limit(sm: Any, clock: VirtualClock, emulator: SageMakerEmulator) -> None:
    sm.create_endpoint_config(EndpointConfigName="c1", ProductionVariants=variants())
    emulator.faults.resource_limit("CreateEndpoint")
    retrying = make_client(emulator, retries={"mode": "standard", "max_attempts": 5})
    with pytest.raises(ClientError) as excinfo:
        retrying.create_endpoint(EndpointName="ep", EndpointConfigName="c1")
    code, message = error_of(excinfo)
    assert code == "ResourceLimitExceeded"
    assert message.startswith(
        "The account-level service limit 'ml.m5.xlarge for endpoint usage' is 0 Instances, ")
    assert emulator.calls_to("CreateEndpoint") == 1  # not retried
    assert emulator.endpoint("ep") is None  # nothing created
    retrying.create_endpoint(EndpointName="ep", EndpointConfigName="c1")


@pytest.fixture
def recorded_sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore's retry back-off, recorded instead of slept."""
    sleeps: list[float] = []
    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=sleeps.append))
    return sleeps


@pytest.mark.parametrize("code", ["ThrottlingException", "InternalFailure", "ServiceUnavailable"])
def test_botocore_retries_transient_faults(emulator: SageMakerEmulator, clock: VirtualClock,
                                           recorded_sleeps: list[float], code: str) -> None:
    sm = make_client(emulator, retries={"mode": "standard", "total_max_attempts": 3})
    if code == "ThrottlingException":
        emulator.faults.throttle("ListEndpoints", times=2)
    elif code == "InternalFailure":
        emulator.faults.server_error("ListEndpoints", times=2, http_status=500)
    else:
        emulator.faults.server_error("ListEndpoints", times=2, http_status=503)
    response = sm.list_endpoints()
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert emulator.calls_to("ListEndpoints") == 3
    assert [c.error_code for c in emulator.calls] == [code, code, None]
    assert len(recorded_sleeps) == 2  # botocore backed off twice (recorded, not slept)


def test_throttle_error_shape(sm: Any, emulator: SageMakerEmulator) -> None:
    emulator.faults.throttle("ListEndpoints")
    with pytest.raises(ClientError) as excinfo:
        sm.list_endpoints()
    assert error_of(excinfo)[0] == "ThrottlingException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert excinfo.value.response["ResponseMetadata"]["RequestId"]


# --- faults: states, out-of-band deletes, invariants --------------------------------------------


def test_system_updating(sm: Any, clock: VirtualClock, emulator: SageMakerEmulator) -> None:
    start = serving(sm, clock)
    emulator.faults.set_system_updating("ep", 600)
    assert observe(sm)[0] == "SystemUpdating"
    for call in (lambda: sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2"),
                 lambda: sm.delete_endpoint(EndpointName="ep")):
        with pytest.raises(ClientError) as excinfo:
            call()
        assert error_of(excinfo)[1] == f'Cannot update in-progress endpoint "{EP_ARN}ep".'
    at(clock, start, 600)
    assert observe(sm) == ("InService", "c1", None)


@pytest.mark.parametrize("status", ["Failed", "UpdateRollbackFailed", "OutOfService"])
def test_forced_status(sm: Any, clock: VirtualClock, emulator: SageMakerEmulator,
                       status: str) -> None:
    serving(sm, clock)
    emulator.faults.set_status("ep", status, failure_reason="forced")
    d = sm.describe_endpoint(EndpointName="ep")
    assert (d["EndpointStatus"], d["FailureReason"]) == (status, "forced")
    assert emulator.endpoint_status("ep") == status
    sm.delete_endpoint(EndpointName="ep")  # allowed in each of them


def test_rolling_back_endpoint_refuses_updates(sm: Any, clock: VirtualClock,
                                               emulator: SageMakerEmulator) -> None:
    serving(sm, clock)
    emulator.faults.trip_alarm("ep", "provisioning")
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2", DeploymentConfig=blue_green())
    assert observe(sm)[0] == "RollingBack"
    with pytest.raises(ClientError) as excinfo:
        sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2")
    assert "in-progress" in error_of(excinfo)[1]


def test_deleting_the_config_in_use(sm: Any, clock: VirtualClock,
                                    emulator: SageMakerEmulator) -> None:
    serving(sm, clock)
    assert emulator.invariant_violations() == []
    sm.delete_endpoint_config(EndpointConfigName="c1")  # not blocked (terraform #40048)
    assert observe(sm) == ("InService", "c1", None)
    [violation] = emulator.invariant_violations()
    assert (violation.endpoint, violation.config, violation.role) == ("ep", "c1", "current")
    with pytest.raises(ClientError) as excinfo:
        sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2")
    assert error_of(excinfo) == (
        "ValidationException", f'Could not find endpoint configuration "{CFG_ARN}c1".')


def test_rollback_to_a_deleted_config_fails(sm: Any, clock: VirtualClock,
                                            emulator: SageMakerEmulator) -> None:
    start = serving(sm, clock)
    emulator.faults.trip_alarm("ep", "final-bake", after=10)
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2",
                       DeploymentConfig=blue_green(termination=300))
    at(clock, start, 100)
    emulator.faults.delete_config_out_of_band("c1")  # the create_before_destroy mistake
    at(clock, start, 330 + 100)
    d = sm.describe_endpoint(EndpointName="ep")
    assert (d["EndpointStatus"], d["EndpointConfigName"]) == ("UpdateRollbackFailed", "c1")
    assert CFG_ARN + "c1" in d["FailureReason"]
    assert [v.time for v in emulator.invariant_violations()] == [start + 100]


def test_deleting_the_pending_config_is_recorded(sm: Any, clock: VirtualClock,
                                                 emulator: SageMakerEmulator) -> None:
    serving(sm, clock)
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2")
    sm.delete_endpoint_config(EndpointConfigName="c2")
    assert [v.role for v in emulator.invariant_violations()] == ["pending"]


def test_delete_endpoint_out_of_band(sm: Any, clock: VirtualClock,
                                     emulator: SageMakerEmulator) -> None:
    serving(sm, clock)
    emulator.faults.delete_endpoint_out_of_band("ep")
    with pytest.raises(ClientError) as excinfo:
        sm.describe_endpoint(EndpointName="ep")
    assert error_of(excinfo)[1] == f'Could not find endpoint "{EP_ARN}ep".'


# --- introspection, determinism, a waiting client ----------------------------------------------


def test_calls_are_recorded(sm: Any, clock: VirtualClock, emulator: SageMakerEmulator) -> None:
    serving(sm, clock)
    with pytest.raises(ClientError):
        sm.describe_endpoint(EndpointName="nope")
    assert emulator.calls_to("DescribeEndpoint") == 2
    call = emulator.calls[-1]
    assert (call.time, call.operation, call.params) == (
        clock.now(), "DescribeEndpoint", {"EndpointName": "nope"})
    assert (call.error_code, call.error_rule) == ("ValidationException", "endpoint-not-found")
    assert [c.operation for c in emulator.calls[:2]] == ["CreateEndpointConfig"] * 2


def test_durations_are_drawn_from_the_seed(clock: VirtualClock) -> None:
    def deployment_length(seed: int) -> float:
        local = VirtualClock()
        with SageMakerEmulator(local, seed=seed) as emulator:
            sm = make_client(emulator)
            sm.create_endpoint_config(EndpointConfigName="c1", ProductionVariants=variants())
            sm.create_endpoint(EndpointName="ep", EndpointConfigName="c1")
            end = emulator.deployment_end("ep")
            assert end is not None
            create = Timings().create
            assert isinstance(create, tuple)
            low, high = create
            assert local.now() + low <= end <= local.now() + high
            return end - local.now()

    assert deployment_length(1) == deployment_length(1)
    assert deployment_length(1) != deployment_length(2)


def test_a_polling_client_waits_out_an_hour_in_virtual_time(
    sm: Any, clock: VirtualClock, emulator: SageMakerEmulator
) -> None:
    start = serving(sm, clock)
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2", DeploymentConfig=blue_green(
        "LINEAR", wait=600, termination=600, LinearStepSize=pct(20)))
    polls = 0
    while observe(sm)[0] == "Updating":
        clock.sleep(30)  # what the handler does with the shared clock
        polls += 1
    assert observe(sm) == ("InService", "c2", None)
    assert clock.now() - start > 3600
    assert polls == emulator.calls_to("DescribeEndpoint") - 3
