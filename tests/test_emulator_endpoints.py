"""The SageMaker emulator over HTTP with the real boto3 client, on virtual time: the clock,
the protocol, endpoint configs, create / describe / delete, tags, and introspection."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from botocore.exceptions import ClientError
from emulator_support import (  # noqa: F401 - fixtures, named as parameters
    CFG_ARN,
    EP_ARN,
    Json,
    at,
    blue_green,
    count,
    emulator,
    error_of,
    last_rule,
    make_client,
    module_raw,
    module_sm,
    observe,
    pct,
    raw,
    server,
    serving,
    sm,
    variants,
)
from sagemaker_emulator import (
    DEFAULT_EPOCH,
    SageMakerEmulator,
    Timings,
    VirtualClock,
)
from sagemaker_rollout_handler.clock import Clock as HandlerClock

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
