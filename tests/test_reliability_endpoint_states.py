"""Reliability: the endpoint busy, broken, deleted or throttled (scenarios 6-10).

The scenarios, the invariants checked after each (the autouse fixture ``invariants``) and the
helpers are in tests/reliability_support.py; each scenario runs the real handler over the wire.
"""


from __future__ import annotations

import re
from typing import Any

import pytest
from cfn_harness import (
    CloudFormationStack,
    Harness,
    Invocation,
)
from cfn_harness.tags import user_tags
from reliability_support import (  # noqa: F401 - fixtures (invariants is autouse)
    ALARM,
    CANARY,
    CONFIG_A,
    CONFIG_B,
    CONFIG_C,
    ENDPOINT,
    Invariants,
    _canary,
    describe,
    exists,
    invariants,
    make_configs,
    mutations,
    on_a,
    props,
    rollback_to_a,
    run_until,
    successful,
)
from sagemaker_emulator import SageMakerEmulator, VirtualClock

# --- 6. Update while SageMaker is busy for another reason ----------------------------------------


@pytest.mark.parametrize("busy", ["SystemUpdating", "Updating", "RollingBack"])
def test_update_while_the_endpoint_is_busy_for_another_reason_waits_then_deploys(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    clock: VirtualClock, busy: str,
) -> None:
    if busy == "SystemUpdating":
        emulator.faults.set_system_updating(ENDPOINT, 900)
    elif busy == "Updating":  # someone deploys config C from the console
        sagemaker_client.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=CONFIG_C)
    else:  # someone's canary to config C trips an alarm
        sagemaker_client.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=CONFIG_C,
                                         DeploymentConfig=_canary(ALARM))
        emulator.faults.trip_alarm(ENDPOINT, "canary-bake", after=0)
        run_until(clock, lambda: emulator.endpoint_status(ENDPOINT) == "RollingBack")
    assert emulator.endpoint_status(ENDPOINT) == busy
    busy_until = emulator.deployment_end(ENDPOINT)
    assert busy_until is not None

    response = on_a.update(props(CONFIG_B, DeploymentConfig=CANARY))

    assert response.status == "SUCCESS", response.reason
    assert describe(sagemaker_client) == ("InService", CONFIG_B)
    ours = [c for c in emulator.calls
            if c.operation == "UpdateEndpoint" and c.params["EndpointConfigName"] == CONFIG_B]
    assert len(ours) == 1 and ours[0].error_code is None
    assert ours[0].time >= busy_until  # proceeded only once SageMaker had settled
    sagemaker_client.delete_endpoint_config(EndpointConfigName=CONFIG_A)


def test_update_blocked_beyond_the_time_budget_fails_clearly_in_time_and_rollback_succeeds(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    clock: VirtualClock,
) -> None:
    emulator.faults.set_system_updating(ENDPOINT, 3000)
    failed = props(CONFIG_B, DeploymentConfig=CANARY, ServiceTimeout=900)

    response = on_a.update(failed)

    assert response.status == "FAILED"
    assert response.arrived_at <= response.deadline - 30
    assert ENDPOINT in response.reason and "SystemUpdating" in response.reason
    assert re.search(r"gave up|timed? ?out|time budget|ran out", response.reason, re.I)
    assert emulator.calls_to("UpdateEndpoint") == 0
    run_until(clock, lambda: emulator.endpoint_status(ENDPOINT) == "InService")

    rollback = rollback_to_a(on_a, failed)

    assert rollback.status == "SUCCESS", rollback.reason
    assert emulator.calls_to("UpdateEndpoint") == 0
    sagemaker_client.delete_endpoint_config(EndpointConfigName=CONFIG_B)


# --- 7. Endpoint UpdateRollbackFailed (a Failed one is recreated: test_failed_endpoints.py) -----


@pytest.mark.parametrize(("status", "what_to_do"), [
    ("UpdateRollbackFailed", r"UpdateEndpoint|console|InService"),
])
def test_update_of_a_broken_endpoint_fails_saying_its_state_and_what_to_do_and_delete_deletes_it(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    status: str, what_to_do: str,
) -> None:
    emulator.faults.set_status(ENDPOINT, status, failure_reason="the model server crashed")

    response = on_a.update(props(CONFIG_B, DeploymentConfig=CANARY))

    assert response.status == "FAILED"
    assert ENDPOINT in response.reason and status in response.reason
    assert "the model server crashed" in response.reason
    assert re.search(what_to_do, response.reason, re.I), response.reason
    assert mutations(emulator).count("UpdateEndpoint") == 0
    assert describe(sagemaker_client)[0] == status

    delete = on_a.delete()

    assert delete.status == "SUCCESS", delete.reason
    assert not exists(emulator, ENDPOINT)
    assert emulator.calls_to("DeleteEndpoint") == 1


# --- 8. Endpoint deleted out of band --------------------------------------------------------------


def test_update_of_an_endpoint_deleted_out_of_band_recreates_it_and_a_later_rollback_succeeds(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    """Decision: recreate. CloudFormation believes the endpoint exists; recreating it on the
    requested config restores the stack's declared state, so the next update, a rollback, and
    the final Delete all work; failing would leave a stack that can neither update nor roll
    back until someone recreates the endpoint by hand."""
    make_configs(sagemaker_client, CONFIG_A, CONFIG_B)
    tags = [{"Key": "team", "Value": "ml"}]
    assert stack.create(props(CONFIG_A, Tags=tags)).succeeded
    emulator.faults.delete_endpoint_out_of_band(ENDPOINT)
    updated = props(CONFIG_B, DeploymentConfig=CANARY, Tags=tags)

    response = stack.update(updated)

    assert response.status == "SUCCESS", response.reason
    assert response.physical_resource_id == ENDPOINT
    assert describe(sagemaker_client) == ("InService", CONFIG_B)
    arn = response.data["EndpointArn"]
    assert user_tags(sagemaker_client, arn) == tags
    assert [c.params["EndpointConfigName"] for c in successful(emulator, "CreateEndpoint")] == [
        CONFIG_A, CONFIG_B]

    rollback = stack.update(props(CONFIG_A, Tags=tags), old_properties=updated)

    assert rollback.status == "SUCCESS", rollback.reason
    assert describe(sagemaker_client) == ("InService", CONFIG_A)
    delete = stack.delete()
    assert delete.status == "SUCCESS", delete.reason
    assert not exists(emulator, ENDPOINT)


# --- 9. The endpoint's config deleted out of band -------------------------------------------------


@pytest.mark.parametrize("case", ["update-to-b", "tags-only-update", "rollback-target"])
def test_a_config_deleted_out_of_band_fails_clearly_and_never_silently_succeeds(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    invariants: Invariants, case: str,
) -> None:
    if case == "rollback-target":
        updated = props(CONFIG_B, DeploymentConfig=CANARY)
        assert on_a.update(updated).succeeded
        invariants.deleted_out_of_band.add(CONFIG_A)
        emulator.faults.delete_config_out_of_band(CONFIG_A)  # someone "cleans up" A
        response = rollback_to_a(on_a, updated)
        serving = CONFIG_B
    else:
        invariants.deleted_out_of_band.add(CONFIG_A)
        emulator.faults.delete_config_out_of_band(CONFIG_A)  # the config the endpoint serves
        wanted = CONFIG_B if case == "update-to-b" else CONFIG_A
        response = on_a.update(props(wanted, Tags=[{"Key": "team", "Value": "ml"}]))
        serving = CONFIG_A

    assert response.status == "FAILED"
    assert ENDPOINT in response.reason and CONFIG_A in response.reason
    assert re.search(r"does not exist|could not find|deleted", response.reason, re.I)
    assert describe(sagemaker_client) == ("InService", serving)
    assert [c for c in emulator.calls if c.operation == "UpdateEndpoint" and c.error_code is None
            and c.params["EndpointConfigName"] != CONFIG_B] == []


# --- 10. Throttling and transient 5xx on every API -----------------------------------------------

TRANSIENT = {"throttle": "ThrottlingException", "500": "InternalFailure",
             "503": "ServiceUnavailable"}


def _inject(emulator: SageMakerEmulator, operation: str, server_error: str) -> None:
    """Two throttles, then one 5xx: three failed attempts before one that works (botocore's
    standard mode allows 8 here)."""
    emulator.faults.throttle(operation, times=2)
    emulator.faults.server_error(operation, http_status=500 if server_error == "500" else 503)


@pytest.mark.parametrize(("operation", "kind"), [
    ("DescribeEndpointConfig", "500"),
    ("CreateEndpoint", "503"),
    ("UpdateEndpoint", "500"),
    ("DescribeEndpoint", "503"),  # during the wait (throttling alone: test_lifecycle)
    ("DeleteEndpoint", "500"),
    ("AddTags", "503"),
    ("DeleteTags", "500"),
])
def test_throttling_and_5xx_on_every_api_are_retried_with_backoff_and_never_fail_the_request(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    harness: Harness, operation: str, kind: str,
) -> None:
    make_configs(sagemaker_client, CONFIG_A, CONFIG_B)
    tags = [{"Key": "team", "Value": "a"}]
    if operation in ("DescribeEndpointConfig", "CreateEndpoint"):
        _inject(emulator, operation, kind)
    response = stack.create(props(CONFIG_A, Tags=tags))
    assert response.status == "SUCCESS", response.reason
    if operation == "UpdateEndpoint":
        _inject(emulator, operation, kind)
        response = stack.update(props(CONFIG_B, Tags=tags))
    elif operation == "DescribeEndpoint":
        def during_the_wait(invocation: Invocation) -> None:
            if invocation.kind == "request":
                _inject(emulator, operation, kind)
        response = stack.update(props(CONFIG_B, Tags=tags), after_each=during_the_wait)
    elif operation == "DeleteEndpoint":
        _inject(emulator, operation, kind)
        response = stack.delete()
    elif operation == "AddTags":
        _inject(emulator, operation, kind)
        response = stack.update(props(CONFIG_A, Tags=[{"Key": "team", "Value": "b"}]))
    elif operation == "DeleteTags":
        _inject(emulator, operation, kind)
        response = stack.update(props(CONFIG_A))

    assert response.status == "SUCCESS", response.reason
    transient = [c for c in emulator.calls if c.error_code in TRANSIENT.values()]
    assert [(c.operation, c.error_code) for c in transient] == [
        (operation, "ThrottlingException")] * 2 + [(operation, TRANSIENT[kind])]
    assert [where for where, _ in harness.sleeps] == ["botocore retry"] * 3  # virtual back-off
    if operation not in ("DescribeEndpointConfig", "DescribeEndpoint"):
        assert len(successful(emulator, operation)) == 1
    if operation == "DeleteEndpoint":
        assert not exists(emulator, ENDPOINT)
    elif operation in ("AddTags", "DeleteTags"):
        expected = [{"Key": "team", "Value": "b"}] if operation == "AddTags" else []
        assert user_tags(sagemaker_client, response.data["EndpointArn"]) == expected
    else:
        wanted = CONFIG_B if operation in ("UpdateEndpoint", "DescribeEndpoint") else CONFIG_A
        assert describe(sagemaker_client) == ("InService", wanted)


@pytest.mark.parametrize("operation", ["CreateEndpoint", "UpdateEndpoint", "DeleteEndpoint"])
def test_a_5xx_whose_call_took_effect_is_retried_without_failing_or_repeating_the_change(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    operation: str,
) -> None:
    """A 500 can come after SageMaker did the work (the answer was lost): botocore's retry then
    meets "already existing" / "in-progress" — a consequence of our own call, not a failure."""
    make_configs(sagemaker_client, CONFIG_A, CONFIG_B)
    if operation == "CreateEndpoint":
        emulator.faults.server_error(operation, applied=True)
        response = stack.create(props(CONFIG_A))
        wanted: str | None = CONFIG_A
    else:
        assert stack.create(props(CONFIG_A)).succeeded
        emulator.faults.server_error(operation, applied=True)
        if operation == "UpdateEndpoint":
            response = stack.update(props(CONFIG_B, DeploymentConfig=CANARY))
            wanted = CONFIG_B
        else:
            response = stack.delete()
            wanted = None

    assert response.status == "SUCCESS", response.reason
    if wanted is None:
        assert not exists(emulator, ENDPOINT)
    else:
        assert describe(sagemaker_client) == ("InService", wanted)
        assert response.physical_resource_id == ENDPOINT
    assert len(successful(emulator, operation)) == 0  # the one that worked answered 500
    first = next(c for c in emulator.calls if c.operation == operation)
    assert first.error_code == "InternalFailure"


