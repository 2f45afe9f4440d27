"""The SageMaker emulator over HTTP with the real boto3 client, on virtual time: its faults
(alarms, provisioning, errors, forced states, out-of-band deletes) and the invariants."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import botocore.endpoint
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
    make_client,
    module_sm,
    observe,
    pct,
    rolling,
    server,
    serving,
    sm,
    variants,
)
from sagemaker_emulator import (
    Messages,
    SageMakerEmulator,
    VirtualClock,
)

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
