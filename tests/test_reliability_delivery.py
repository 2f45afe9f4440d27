"""Reliability: delivery, long waits, malformed input, deletes, adoption and renames
(scenarios 11-16).

The scenarios, the invariants checked after each (the autouse fixture ``invariants``) and the
helpers are in tests/reliability_support.py; each scenario runs the real handler over the wire.
"""


from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from cfn_harness import (
    CloudFormationStack,
    Harness,
    Invocation,
)
from reliability_support import (  # noqa: F401 - fixtures (invariants is autouse)
    ALARM,
    CANARY,
    CONFIG_A,
    CONFIG_B,
    ENDPOINT,
    LINEAR,
    LOGICAL_ID,
    Abandoned,
    Invariants,
    Json,
    _canary,
    describe,
    exists,
    fire_stale_rules,
    invariants,
    make_configs,
    make_stack,
    mutations,
    on_a,
    props,
    rollback_to_a,
    run_until,
    successful,
)
from sagemaker_emulator import SageMakerEmulator, Timings, VirtualClock

# --- 11. The same event twice ---------------------------------------------------------------------


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_the_first_event_delivered_again_while_waiting_makes_one_call_and_one_answer(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    request_type: str,
) -> None:
    make_configs(sagemaker_client, CONFIG_A, CONFIG_B)
    if request_type == "Update":
        assert stack.create(props(CONFIG_A)).succeeded
    operation = "CreateEndpoint" if request_type == "Create" else "UpdateEndpoint"
    before = emulator.calls_to(operation)

    def deliver_again(invocation: Invocation) -> None:
        if invocation.kind == "request":  # Lambda / CloudFormation at-least-once delivery
            stack.invoke(invocation.event, "request")

    if request_type == "Create":
        response = stack.create(props(CONFIG_A), after_each=deliver_again)
        wanted = CONFIG_A
    else:
        response = stack.update(props(CONFIG_B, DeploymentConfig=CANARY),
                                after_each=deliver_again)
        wanted = CONFIG_B

    assert response.status == "SUCCESS", response.reason
    assert response.physical_resource_id == ENDPOINT
    assert emulator.calls_to(operation) == before + 1
    assert describe(sagemaker_client) == ("InService", wanted)


@pytest.mark.parametrize("case", ["create", "update", "update-rolled-back"])
def test_the_first_event_delivered_again_after_the_answer_changes_nothing_and_contradicts_nothing(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    harness: Harness, case: str,
) -> None:
    make_configs(sagemaker_client, CONFIG_A, CONFIG_B)
    if case == "create":
        response = stack.create(props(CONFIG_A), allow_multiple_responses=True)
        serving = CONFIG_A
    else:
        assert stack.create(props(CONFIG_A)).succeeded
        if case == "update-rolled-back":
            emulator.faults.trip_alarm(ENDPOINT, "canary-bake", after=60)
        response = stack.update(props(CONFIG_B, DeploymentConfig=CANARY),
                                allow_multiple_responses=True)
        serving = CONFIG_A if case == "update-rolled-back" else CONFIG_B
    assert response.status == ("FAILED" if case == "update-rolled-back" else "SUCCESS")
    calls_before = len(emulator.calls)

    stack.invoke(response.event, "request")  # the same event, again
    fire_stale_rules(stack, harness)  # whatever it set up runs to its end

    answers = [(p.body or {}).get("Status") for p in harness.responses.puts(response.request_id)]
    assert set(answers) == {response.status}, answers  # a repeat may only say the same
    assert mutations(emulator, calls_before) == []
    assert describe(sagemaker_client) == ("InService", serving)


# --- 12. A deployment longer than one Lambda invocation -------------------------------------------


@pytest.mark.parametrize(("outcome", "lambda_timeout"), [
    ("deployed", 60.0), ("rolled-back", 180.0)])
def test_a_long_deployment_waits_across_invocations_and_always_removes_its_schedule(
    make_stack: Callable[..., CloudFormationStack], emulator: SageMakerEmulator,
    sagemaker_client: Any, outcome: str, lambda_timeout: float,
) -> None:
    stack = make_stack(lambda_timeout=lambda_timeout)
    make_configs(sagemaker_client, CONFIG_A, CONFIG_B)
    assert stack.create(props(CONFIG_A)).succeeded
    if outcome == "rolled-back":
        emulator.faults.trip_alarm(ENDPOINT, "linear-bake", index=3, after=300)

    response = stack.update(props(CONFIG_B, DeploymentConfig=LINEAR))

    assert response.status == ("SUCCESS" if outcome == "deployed" else "FAILED"), response.reason
    assert response.elapsed > 2000  # ~40 minutes of SageMaker, many invocations
    assert len(response.invocations) > 10
    assert all(i.remaining_ms >= 5000 for i in response.invocations)  # crhelper's timer never
    assert "Execution timed out" not in response.reason
    calls = [c.operation for c in response.api_calls]
    assert calls.count("CreateSchedule") == 1 and calls.count("DeleteSchedule") == 1, calls
    assert not {"PutRule", "AddPermission"} & set(calls)  # no per-request rule or permission
    assert emulator.calls_to("UpdateEndpoint") == 1
    assert describe(sagemaker_client) == (
        "InService", CONFIG_B if outcome == "deployed" else CONFIG_A)


def test_a_deployment_outlasting_the_service_timeout_fails_in_time_and_the_rollback_restores_a(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    failed = props(CONFIG_B, DeploymentConfig=LINEAR, ServiceTimeout=1200)

    response = on_a.update(failed)

    assert response.status == "FAILED"
    assert response.arrived_at <= response.deadline - 30
    assert ENDPOINT in response.reason and CONFIG_B in response.reason
    assert emulator.endpoint_status(ENDPOINT) == "Updating"  # SageMaker goes on

    rollback = rollback_to_a(on_a, failed)

    assert rollback.status == "SUCCESS", rollback.reason
    assert describe(sagemaker_client) == ("InService", CONFIG_A)
    assert [c.params["EndpointConfigName"] for c in successful(emulator, "UpdateEndpoint")] == [
        CONFIG_B, CONFIG_A]
    sagemaker_client.delete_endpoint_config(EndpointConfigName=CONFIG_B)


# --- 13. Malformed properties --------------------------------------------------------------------

_OVERSIZED_TAGS = [{"Key": f"k{i:02d}-" + "x" * 120, "Value": "v" * 256} for i in range(50)]


@pytest.mark.parametrize(("broken", "named"), [
    ({"EndpointName": None}, "EndpointName"),
    ({"DeploymentConfig": _canary(termination_wait="ten minutes")},  # type: ignore[arg-type]
     "TerminationWaitInSeconds"),
    ({"DeploymentConfig": {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
        "Type": "BLUE_GREEN_SPLIT", "WaitIntervalInSeconds": 60}}}}, "Type"),
    ({"Tags": _OVERSIZED_TAGS}, "Tags"),
], ids=["missing-EndpointName", "non-numeric-wait", "unknown-strategy-type", "too-many-tags"])
def test_malformed_create_fails_naming_the_property_with_no_sagemaker_call_and_delete_is_a_noop(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    broken: Json, named: str,
) -> None:
    make_configs(sagemaker_client, CONFIG_A)
    properties = {k: v for k, v in {**props(CONFIG_A), **broken}.items() if v is not None}
    calls_before = len(emulator.calls)

    response = stack.create(properties)

    assert response.status == "FAILED"
    assert named in response.reason, response.reason
    assert emulator.calls[calls_before:] == []
    assert not response.polled
    assert response.physical_resource_id != ENDPOINT
    delete = stack.delete()

    assert delete.status == "SUCCESS", delete.reason
    assert emulator.calls[calls_before:] == []
    assert not exists(emulator, ENDPOINT)


def test_an_update_with_too_many_tags_fails_naming_tags_with_no_sagemaker_call(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    calls_before = len(emulator.calls)

    response = on_a.update(props(CONFIG_B, DeploymentConfig=CANARY, Tags=_OVERSIZED_TAGS))

    assert response.status == "FAILED"
    assert "Tags" in response.reason
    assert emulator.calls[calls_before:] == []
    assert describe(sagemaker_client) == ("InService", CONFIG_A)


# --- 14. Delete after a failed Create -------------------------------------------------------------


def test_delete_after_a_create_that_made_nothing_succeeds_with_no_call(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    make_configs(sagemaker_client, CONFIG_A)
    emulator.faults.resource_limit("CreateEndpoint")

    response = stack.create(props(CONFIG_A))

    assert response.status == "FAILED"
    assert "ResourceLimitExceeded" in response.reason and ENDPOINT in response.reason
    # Not crhelper's generated "<stack>_<logical id>_<random>", and not the endpoint's name.
    assert response.physical_resource_id != ENDPOINT
    assert LOGICAL_ID + "_" not in response.physical_resource_id
    calls_before = len(emulator.calls)

    delete = stack.delete()

    assert delete.event["PhysicalResourceId"] == response.physical_resource_id
    assert delete.status == "SUCCESS", delete.reason
    assert emulator.calls[calls_before:] == []
    assert not delete.polled


def test_delete_after_a_create_that_timed_out_while_creating_removes_what_it_made(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    clock: VirtualClock,
) -> None:
    emulator.reset(clock, timings=Timings(create=900.0))
    make_configs(sagemaker_client, CONFIG_A)

    response = stack.create(props(CONFIG_A, ServiceTimeout=600))

    assert response.status == "FAILED"
    assert response.arrived_at <= response.deadline - 30
    assert ENDPOINT in response.reason and "Creating" in response.reason
    assert response.physical_resource_id == ENDPOINT  # it made the endpoint: Delete removes it
    delete = stack.delete()

    assert delete.status == "SUCCESS", delete.reason
    assert not exists(emulator, ENDPOINT)
    assert len(successful(emulator, "DeleteEndpoint")) == 1


# --- 15. Create over an existing endpoint: adoption, Retain ---------------------------------------


@pytest.mark.parametrize("deploy", ["succeeds", "rolled-back"])
def test_create_adopting_an_existing_endpoint_deploys_onto_it(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    clock: VirtualClock, deploy: str,
) -> None:
    make_configs(sagemaker_client, CONFIG_A, CONFIG_B)
    sagemaker_client.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=CONFIG_B)
    run_until(clock, lambda: emulator.endpoint_status(ENDPOINT) == "InService")
    if deploy == "rolled-back":
        emulator.faults.trip_alarm(ENDPOINT, "canary-bake", after=60)

    response = stack.create(props(CONFIG_A, AdoptExisting="true", DeploymentConfig=CANARY))

    if deploy == "succeeds":
        assert response.status == "SUCCESS", response.reason
        assert response.physical_resource_id == ENDPOINT
        assert describe(sagemaker_client) == ("InService", CONFIG_A)
    else:
        assert response.status == "FAILED"
        assert ALARM in response.reason
        # The endpoint was someone else's: the failed Create must not hand it to the Delete.
        assert response.physical_resource_id != ENDPOINT
        assert describe(sagemaker_client) == ("InService", CONFIG_B)
    assert emulator.calls_to("CreateEndpoint") == 1  # the test's own
    assert emulator.calls_to("UpdateEndpoint") == 1

    delete = stack.delete()

    assert delete.status == "SUCCESS", delete.reason
    assert exists(emulator, ENDPOINT) == (deploy == "rolled-back")


def test_delete_with_removal_policy_retain_keeps_the_endpoint(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    make_configs(sagemaker_client, CONFIG_A)
    assert stack.create(props(CONFIG_A, RemovalPolicy="Retain")).succeeded

    delete = stack.delete()

    assert delete.status == "SUCCESS", delete.reason
    assert not delete.polled
    assert emulator.calls_to("DeleteEndpoint") == 0
    assert describe(sagemaker_client) == ("InService", CONFIG_A)


# --- 16. Endpoint name changed, then the stack rolls back -----------------------------------------


def test_rename_rolled_back_by_the_stack_deletes_only_the_new_endpoint(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    renamed = props(CONFIG_A, name="ep-renamed")
    response = on_a.update(renamed)
    assert response.status == "SUCCESS", response.reason
    assert response.physical_resource_id == "ep-renamed"

    # Another resource failed: CloudFormation goes back to the old physical resource ("ep", never
    # touched) and, in UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS, deletes the new one.
    cleanup = on_a.delete(renamed, physical_id="ep-renamed")

    assert cleanup.status == "SUCCESS", cleanup.reason
    assert not exists(emulator, "ep-renamed")
    assert describe(sagemaker_client, ENDPOINT) == ("InService", CONFIG_A)
    assert [c.params["EndpointName"] for c in emulator.calls
            if c.operation == "DeleteEndpoint"] == ["ep-renamed"]


def test_rename_rolled_back_by_the_stack_goes_back_to_the_old_endpoint_and_cleanup_removes_the_new(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    renamed = props(CONFIG_A, name="ep-renamed")
    assert on_a.update(renamed).status == "SUCCESS"

    # Another resource failed: the rollback Update names the old endpoint ("ep", still there: it
    # is deleted only in cleanup after a success) under the new physical id. It is this
    # resource's own endpoint, not a conflict.
    rollback = on_a.update(props(CONFIG_A), old_properties=renamed, physical_id="ep-renamed")
    assert rollback.status == "SUCCESS", rollback.reason
    assert rollback.physical_resource_id == ENDPOINT

    cleanup = on_a.delete(renamed, physical_id="ep-renamed")
    assert cleanup.status == "SUCCESS", cleanup.reason
    assert not exists(emulator, "ep-renamed")
    assert describe(sagemaker_client, ENDPOINT) == ("InService", CONFIG_A)


def test_a_change_of_case_only_in_the_name_keeps_the_physical_id_so_nothing_is_deleted(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    response = on_a.update(props(CONFIG_A, name=ENDPOINT.upper()))
    assert response.status == "SUCCESS", response.reason
    assert response.physical_resource_id == ENDPOINT  # no replacement, so no cleanup Delete
    assert emulator.calls_to("DeleteEndpoint") == 0
    assert describe(sagemaker_client, ENDPOINT) == ("InService", CONFIG_A)


def test_a_delete_for_an_endpoint_another_resource_has_claimed_leaves_it_alone(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    arn = sagemaker_client.describe_endpoint(EndpointName=ENDPOINT)["EndpointArn"]
    # The endpoint was adopted under a new logical id (the construct moved): its request tag
    # now names another owner.
    sagemaker_client.add_tags(ResourceArn=arn, Tags=[
        {"Key": "sagemaker-rollout:request", "Value": "other-request:claim:0123456789abcdef"}])

    response = on_a.delete(props(CONFIG_A))

    assert response.status == "SUCCESS", response.reason
    assert emulator.calls_to("DeleteEndpoint") == 0
    assert describe(sagemaker_client, ENDPOINT) == ("InService", CONFIG_A)


def test_a_call_refused_for_good_after_create_answers_with_the_endpoint_so_delete_removes_it(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    make_configs(sagemaker_client, CONFIG_A)

    injected: list[bool] = []

    def refuse_describe_once_created(invocation: Any) -> None:
        if exists(emulator, ENDPOINT) and not injected:
            injected.append(True)
            emulator.faults.error("DescribeEndpoint", "AccessDeniedException",
                                  "User is not authorized to perform: sagemaker:DescribeEndpoint",
                                  times=100)

    response = stack.create(props(CONFIG_A), after_each=refuse_describe_once_created)

    assert response.status == "FAILED"
    assert response.physical_resource_id == ENDPOINT  # it made the endpoint: Delete removes it
    assert f'"{ENDPOINT}"' in response.reason and "AccessDeniedException" in response.reason
    assert "permissions" in response.reason


def test_a_cancelled_update_still_waiting_never_deploys_after_the_stack_rolled_back(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    harness: Harness, invariants: Invariants, clock: VirtualClock,
) -> None:
    # The update to B waits for a maintenance window; CancelUpdateStack comes meanwhile.
    emulator.faults.set_system_updating(ENDPOINT, 600)
    failed = props(CONFIG_B, DeploymentConfig=CANARY)

    def cancel_update_stack(invocation: Invocation) -> None:
        raise Abandoned

    with pytest.raises(Abandoned):
        on_a.send("Update", failed, old_properties=props(CONFIG_A),
                  after_each=cancel_update_stack)
    stale = harness.waiting_requests()
    assert len(stale) == 1
    invariants.abandoned.append((stale[0], on_a))

    # The rollback Update finds the endpoint on A (SystemUpdating, then InService) and is done.
    rollback = rollback_to_a(on_a, failed)
    assert rollback.status == "SUCCESS", rollback.reason

    # Maintenance ends; the cancelled request's rule fires on. It must not deploy B now
    # (CloudFormation deletes config B in cleanup: the endpoint would point at nothing).
    run_until(clock, lambda: emulator.endpoint_status(ENDPOINT) == "InService")
    calls_before = len(emulator.calls)
    fire_stale_rules(on_a, harness)
    assert [c for c in emulator.calls[calls_before:] if c.operation == "UpdateEndpoint"] == []
    assert describe(sagemaker_client) == ("InService", CONFIG_A)
    sagemaker_client.delete_endpoint_config(EndpointConfigName=CONFIG_B)

