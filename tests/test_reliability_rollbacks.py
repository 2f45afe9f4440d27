"""Reliability: SageMaker and CloudFormation roll back (scenarios 1-5).

The scenarios, the invariants checked after each (the autouse fixture ``invariants``) and the
helpers are in tests/reliability_support.py; each scenario runs the real handler over the wire.
"""


from __future__ import annotations

from typing import Any

import pytest
from cfn_harness import (
    CloudFormationStack,
    Harness,
    Invocation,
)
from reliability_support import (  # noqa: F401 - fixtures (invariants is autouse)
    ALARM,
    ALARM_LATENCY,
    CANARY,
    CONFIG_A,
    CONFIG_B,
    ENDPOINT,
    ROLLING,
    Abandoned,
    Invariants,
    assert_names_phase,
    describe,
    exists,
    fire_stale_rules,
    invariants,
    mutations,
    on_a,
    props,
    rollback_to_a,
    successful,
)
from sagemaker_emulator import SageMakerEmulator

# --- 1, 2. An alarm trips: SageMaker rolls back --------------------------------------------------


@pytest.mark.parametrize(("phase", "failure_reason"), [
    ("canary-bake", None),
    ("canary-bake", ""),  # SageMaker may give no FailureReason (terraform-provider-aws #48997)
    ("final-bake", None),
], ids=["canary-bake", "canary-bake-no-failure-reason", "final-bake"])
def test_alarm_in_a_bake_fails_naming_the_alarms_and_the_phase_and_rollback_needs_no_redeploy(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    phase: str, failure_reason: str | None,
) -> None:
    emulator.faults.trip_alarm(ENDPOINT, phase, after=90, alarm_name=ALARM_LATENCY,
                               reason=failure_reason)
    failed = props(CONFIG_B, DeploymentConfig=CANARY)

    response = on_a.update(failed)

    assert response.status == "FAILED"
    for name in (ENDPOINT, CONFIG_B, ALARM, ALARM_LATENCY):
        assert name in response.reason, (name, response.reason)
    assert response.physical_resource_id == ENDPOINT
    assert describe(sagemaker_client) == ("InService", CONFIG_A)

    rollback = rollback_to_a(on_a, failed)

    assert rollback.status == "SUCCESS", rollback.reason
    assert rollback.physical_resource_id == ENDPOINT
    assert emulator.calls_to("UpdateEndpoint") == 1
    assert not rollback.polled
    sagemaker_client.delete_endpoint_config(EndpointConfigName=CONFIG_B)  # rollback cleanup
    assert_names_phase(response.reason, phase)  # last: everything above holds already


def test_alarm_in_a_rolling_batch_fails_naming_the_alarm_and_the_batch_and_rollback_succeeds(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    emulator.faults.trip_alarm(ENDPOINT, "rolling-bake", index=1, after=120)
    failed = props(CONFIG_B, DeploymentConfig=ROLLING)

    response = on_a.update(failed)

    assert response.status == "FAILED"
    for name in (ENDPOINT, CONFIG_B, ALARM):
        assert name in response.reason, (name, response.reason)
    assert describe(sagemaker_client) == ("InService", CONFIG_A)
    # SageMaker rolled back batch by batch: the answer came only once it was back on A.
    assert emulator.deployment_end(ENDPOINT) is None

    rollback = rollback_to_a(on_a, failed)

    assert rollback.status == "SUCCESS", rollback.reason
    assert emulator.calls_to("UpdateEndpoint") == 1
    assert not rollback.polled
    sagemaker_client.delete_endpoint_config(EndpointConfigName=CONFIG_B)
    assert_names_phase(response.reason, "rolling-bake#1")  # last: everything above holds already


# --- 3. The new fleet fails to provision ---------------------------------------------------------

CAPACITY = ("Unable to provision requested ML compute capacity. Please retry using a different ML "
            "instance type.")


@pytest.mark.parametrize("cause", ["insufficient-capacity", "resource-limit", "bad-model"])
def test_new_fleet_failing_to_provision_fails_with_sagemakers_reason_and_rollback_succeeds(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any, cause: str,
) -> None:
    if cause == "insufficient-capacity":
        emulator.faults.fail_provisioning(ENDPOINT, reason=CAPACITY)
        said = CAPACITY
    elif cause == "resource-limit":
        emulator.faults.resource_limit("UpdateEndpoint")
        said = "account-level service limit 'ml.m5.xlarge for endpoint usage'"
    else:
        emulator.faults.fail_provisioning(ENDPOINT)  # the model's container fails its ping
        said = "did not pass the ping health check"
    failed = props(CONFIG_B, DeploymentConfig=CANARY)

    response = on_a.update(failed)

    assert response.status == "FAILED"
    assert said in response.reason
    assert ENDPOINT in response.reason and CONFIG_B in response.reason
    if cause == "resource-limit":
        assert "ResourceLimitExceeded" in response.reason
        assert not response.polled
    assert describe(sagemaker_client) == ("InService", CONFIG_A)

    rollback = rollback_to_a(on_a, failed)

    assert rollback.status == "SUCCESS", rollback.reason
    assert emulator.calls_to("UpdateEndpoint") == 1
    assert not rollback.polled
    sagemaker_client.delete_endpoint_config(EndpointConfigName=CONFIG_B)


# --- 4. Our update succeeded, another resource failed --------------------------------------------


def test_rollback_after_another_resource_failed_redeploys_the_previous_config_and_waits_for_it(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    updated = props(CONFIG_B, DeploymentConfig=CANARY)
    assert on_a.update(updated).status == "SUCCESS"
    ends: list[float] = []

    def watch(invocation: Invocation) -> None:
        end = emulator.deployment_end(ENDPOINT)
        if end is not None:
            ends.append(end)

    # Another resource of the stack failed: CloudFormation rolls back. Config A still exists
    # (it is deleted only in UPDATE_COMPLETE_CLEANUP_IN_PROGRESS, which never came).
    rollback = rollback_to_a(on_a, updated, after_each=watch)

    assert rollback.status == "SUCCESS", rollback.reason
    assert rollback.physical_resource_id == ENDPOINT
    assert rollback.data["EndpointConfigName"] == CONFIG_A
    assert describe(sagemaker_client) == ("InService", CONFIG_A)
    updates = successful(emulator, "UpdateEndpoint")
    assert [u.params["EndpointConfigName"] for u in updates] == [CONFIG_B, CONFIG_A]
    assert rollback.polled and ends
    assert ends[-1] <= rollback.arrived_at  # answered only once SageMaker serves A
    sagemaker_client.delete_endpoint_config(EndpointConfigName=CONFIG_B)  # rollback cleanup


# --- 5. CancelUpdateStack while SageMaker is still deploying -------------------------------------


@pytest.mark.parametrize("sagemaker_state", ["Updating", "RollingBack"])
def test_rollback_arriving_while_sagemaker_deploys_waits_for_it_then_restores_the_old_config(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    harness: Harness, invariants: Invariants, sagemaker_state: str,
) -> None:
    if sagemaker_state == "RollingBack":
        emulator.faults.trip_alarm(ENDPOINT, "canary-bake", after=30)
    failed = props(CONFIG_B, DeploymentConfig=CANARY)

    def cancel_update_stack(invocation: Invocation) -> None:
        if emulator.endpoint_status(ENDPOINT) == sagemaker_state:
            raise Abandoned

    with pytest.raises(Abandoned):
        on_a.send("Update", failed, old_properties=props(CONFIG_A),
                  after_each=cancel_update_stack)
    # The cancelled request still waits (its schedule fires on); nothing answered it yet.
    stale = harness.waiting_requests()
    assert len(stale) == 1
    stale_request = stale[0]
    assert harness.responses.puts(stale_request) == []
    invariants.abandoned.append((stale_request, on_a))
    updates_before = emulator.calls_to("UpdateEndpoint")

    rollback = rollback_to_a(on_a, failed)

    assert rollback.status == "SUCCESS", rollback.reason
    assert rollback.physical_resource_id == ENDPOINT
    assert describe(sagemaker_client) == ("InService", CONFIG_A)
    refused = [c for c in emulator.calls if c.operation == "UpdateEndpoint" and c.error_code]
    assert refused == []  # it waited for SageMaker to settle instead of racing it
    expected = 1 if sagemaker_state == "Updating" else 0  # back to A, or already there
    assert emulator.calls_to("UpdateEndpoint") == updates_before + expected
    # The cancelled request's rule fires on: it must change nothing and clean up after itself.
    calls_before = len(emulator.calls)
    fire_stale_rules(on_a, harness)
    assert mutations(emulator, calls_before) == []
    assert describe(sagemaker_client) == ("InService", CONFIG_A)
    sagemaker_client.delete_endpoint_config(EndpointConfigName=CONFIG_B)


