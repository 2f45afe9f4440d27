"""What the emulator's tests (tests/test_emulator_*.py) share: one HTTP server per module,
reset before each test on the test's virtual clock (the fixture ``emulator``), clients
with and without botocore's validation (``sm``, ``raw``), request builders and
observations. The fixtures are imported by each module, then named as parameters."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from sagemaker_emulator import (
    SageMakerEmulator,
    Timings,
    VirtualClock,
)

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
