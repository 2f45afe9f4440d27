"""A Failed endpoint fixed by deploying, and its stack rollback (issue 13, items 2 and 3).

SageMaker allows only DeleteEndpoint on a Failed endpoint, and a Failed endpoint serves nothing:
an Update (a rollback's included) deletes it, waits until it is gone (the wait engine: woken by
its schedule, not a blocking loop), and creates it again on the requested config, under the same
name and physical id, with its tags. Over the wire: the real handler, the emulator, the harness,
one virtual clock; the invariants of tests/reliability_support.py are checked after each test.
"""

from __future__ import annotations

import json
from typing import Any

from cfn_harness import CloudFormationStack, Harness, Invocation
from cfn_harness.tags import user_tags
from reliability_support import (  # noqa: F401 - fixtures (invariants is autouse)
    CANARY,
    CONFIG_A,
    CONFIG_B,
    ENDPOINT,
    describe,
    exists,
    invariants,
    make_configs,
    props,
    successful,
)
from sagemaker_emulator import SageMakerEmulator, Timings, VirtualClock
from sagemaker_rollout_handler.contract import WAKE_KEY
from sagemaker_rollout_handler.rollout import REQUEST_TAG
from sagemaker_rollout_handler.wakes import Wakes, WakeTarget

TAGS = [{"Key": "team", "Value": "ml"}, {"Key": "cost-center", "Value": "42"}]
CRASHED = "The primary container for production variant AllTraffic did not pass the ping check."


def created_on_a(stack: CloudFormationStack, sagemaker: Any) -> CloudFormationStack:
    make_configs(sagemaker, CONFIG_A, CONFIG_B)
    created = stack.create(props(CONFIG_A, Tags=TAGS))
    assert created.status == "SUCCESS", created.reason
    return stack


def failed_then_recreated(emulator: SageMakerEmulator) -> tuple[Any, Any]:
    """The DeleteEndpoint of the Failed endpoint and the CreateEndpoint that followed it."""
    (delete,) = successful(emulator, "DeleteEndpoint")
    creates = [c for c in successful(emulator, "CreateEndpoint") if c.time >= delete.time]
    assert len(creates) == 1, creates
    return delete, creates[0]


def test_an_update_of_a_failed_endpoint_recreates_it_on_the_new_config_with_its_tags(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    harness: Harness,
) -> None:
    created_on_a(stack, sagemaker_client)
    emulator.faults.set_status(ENDPOINT, "Failed", failure_reason=CRASHED)

    response = stack.update(props(CONFIG_B, DeploymentConfig=CANARY, Tags=TAGS))

    assert response.status == "SUCCESS", response.reason
    assert response.physical_resource_id == ENDPOINT
    assert describe(sagemaker_client) == ("InService", CONFIG_B)
    assert user_tags(sagemaker_client, response.data["EndpointArn"]) == TAGS
    assert f'was Failed: "{CRASHED}"' in response.reason
    assert f'recreated on EndpointConfig "{CONFIG_B}"' in response.reason
    delete, create = failed_then_recreated(emulator)
    assert delete.endpoint_status == "Failed"
    assert create.params["EndpointConfigName"] == CONFIG_B
    assert create.time >= emulator.finished_operations(ENDPOINT)[-2].end  # once it was gone
    assert emulator.calls_to("UpdateEndpoint") == 0  # SageMaker refuses it on a Failed endpoint
    # Through the wait engine (as a Delete waits: SageMaker announces no event when an endpoint
    # is gone), never longer than one watch per invocation.
    assert response.schedules and len(response.invocations) > 1
    assert max(i.duration for i in response.invocations) <= 300
    logged = [line for line in harness.logs.text().splitlines()
              if "recreated a Failed endpoint" in line]
    assert logged and CRASHED in logged[-1] and CONFIG_B in logged[-1]


def test_a_recreation_whose_create_fails_again_fails_with_both_reasons_and_the_rollback_recreates(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    """Item 3 too: the stack's rollback onto the endpoint that is now Failed recreates it on the
    previous config, within the hour, instead of ending in UPDATE_ROLLBACK_FAILED."""
    created_on_a(stack, sagemaker_client)
    emulator.faults.set_status(ENDPOINT, "Failed", failure_reason=CRASHED)
    emulator.faults.fail_provisioning(ENDPOINT, on="create", reason="ResourceLimitExceeded: no "
                                      "ml.m5.xlarge capacity")
    failed = props(CONFIG_B, Tags=TAGS)

    response = stack.update(failed)

    assert response.status == "FAILED"
    assert response.physical_resource_id == ENDPOINT
    assert CRASHED in response.reason and "no ml.m5.xlarge capacity" in response.reason
    assert "recreated" in response.reason and CONFIG_B in response.reason
    assert describe(sagemaker_client)[0] == "Failed"

    rollback = stack.update(props(CONFIG_A, Tags=TAGS), old_properties=failed)

    assert rollback.status == "SUCCESS", rollback.reason
    assert rollback.physical_resource_id == ENDPOINT
    assert rollback.elapsed < 3600
    assert describe(sagemaker_client) == ("InService", CONFIG_A)
    assert "was Failed" in rollback.reason and CONFIG_A in rollback.reason
    assert user_tags(sagemaker_client, rollback.data["EndpointArn"]) == TAGS
    assert stack.delete().status == "SUCCESS"
    assert not exists(emulator, ENDPOINT)


def test_a_stack_rollback_onto_a_failed_endpoint_recreates_it_on_the_previous_config(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    created_on_a(stack, sagemaker_client)
    updated = props(CONFIG_B, DeploymentConfig=CANARY, Tags=TAGS)
    assert stack.update(updated).status == "SUCCESS"
    # Another resource of the stack fails; meanwhile the endpoint's instances fail for good.
    emulator.faults.set_status(ENDPOINT, "Failed", failure_reason=CRASHED)

    rollback = stack.update(props(CONFIG_A, Tags=TAGS), old_properties=updated)

    assert rollback.status == "SUCCESS", rollback.reason
    assert rollback.physical_resource_id == ENDPOINT
    assert describe(sagemaker_client) == ("InService", CONFIG_A)
    assert f'recreated on EndpointConfig "{CONFIG_A}"' in rollback.reason
    _, create = failed_then_recreated(emulator)
    assert create.params["EndpointConfigName"] == CONFIG_A


def test_a_failed_endpoint_another_resource_owns_is_left_alone(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    created_on_a(stack, sagemaker_client)
    # Another resource (another stack's AdoptExisting) claimed the endpoint since.
    arn = sagemaker_client.describe_endpoint(EndpointName=ENDPOINT)["EndpointArn"]
    sagemaker_client.add_tags(ResourceArn=arn, Tags=[
        {"Key": REQUEST_TAG, "Value": "0c8e4f7a-request:claim:0123456789abcdef"}])
    emulator.faults.set_status(ENDPOINT, "Failed", failure_reason=CRASHED)

    response = stack.update(props(CONFIG_B, Tags=TAGS))

    assert response.status == "FAILED"
    assert ENDPOINT in response.reason and "Failed" in response.reason
    assert CRASHED in response.reason
    assert emulator.calls_to("DeleteEndpoint") == 0
    assert emulator.calls_to("CreateEndpoint") == 1  # the stack's own Create only
    assert describe(sagemaker_client)[0] == "Failed"


def test_a_failed_endpoint_on_a_delete_is_deleted(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    created_on_a(stack, sagemaker_client)
    emulator.faults.set_status(ENDPOINT, "Failed", failure_reason=CRASHED)

    delete = stack.delete()

    assert delete.status == "SUCCESS", delete.reason
    assert not exists(emulator, ENDPOINT)
    assert emulator.calls_to("DeleteEndpoint") == 1
    assert emulator.calls_to("CreateEndpoint") == 1


def test_a_recreation_counts_against_the_requests_deadline(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    clock: VirtualClock,
) -> None:
    """ServiceTimeout 300 s: the delete and the new endpoint's creation (4-8 minutes) do not
    fit; the request gives up in time, saying what it saw."""
    created_on_a(stack, sagemaker_client)
    emulator.faults.set_status(ENDPOINT, "Failed", failure_reason=CRASHED)
    failed = props(CONFIG_B, Tags=TAGS, ServiceTimeout=300)

    response = stack.update(failed)

    assert response.status == "FAILED"
    assert response.arrived_at <= response.deadline - 30
    assert ENDPOINT in response.reason and "gave up" in response.reason
    while emulator.endpoint_status(ENDPOINT) == "Creating":
        clock.advance(10)
    rollback = stack.update(props(CONFIG_A, Tags=TAGS), old_properties=failed)
    assert rollback.status == "SUCCESS", rollback.reason
    assert describe(sagemaker_client) == ("InService", CONFIG_A)


# --- a rename whose Create fails leaves nothing behind (issue 13; issue 17.4) --------------------

RENAMED = "ep-v2"


def rename_fails(stack: CloudFormationStack, sagemaker: Any, **extra: Any) -> tuple[Any, Any]:
    created_on_a(stack, sagemaker)
    failed = props(CONFIG_B, RENAMED, Tags=TAGS, **extra)
    return stack.update(failed), failed


def test_a_rename_whose_create_fails_deletes_the_new_endpoint_and_its_rollback_succeeds(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    clock: VirtualClock,
) -> None:
    """Issue 17.4: the FAILED answer kept the old physical id and CloudFormation never deleted
    the new endpoint: it stayed Failed, billed and unknown to the stack. (Fails before the
    change: ep-v2 is still there, Failed, after the rollback.)"""
    emulator.faults.fail_provisioning(RENAMED, on="create", reason="no ml.m5.xlarge capacity")

    response, failed = rename_fails(stack, sagemaker_client)

    assert response.status == "FAILED"
    assert response.physical_resource_id == ENDPOINT
    assert RENAMED in response.reason and "no ml.m5.xlarge capacity" in response.reason
    assert "was deleted" in response.reason
    (delete,) = successful(emulator, "DeleteEndpoint")
    assert delete.params["EndpointName"] == RENAMED and delete.endpoint_status == "Failed"
    assert delete.time <= response.arrived_at  # removed before the answer

    rollback = stack.update(props(CONFIG_A, Tags=TAGS), old_properties=failed)

    assert rollback.status == "SUCCESS", rollback.reason
    assert describe(sagemaker_client) == ("InService", CONFIG_A)
    clock.advance(120)  # SageMaker finishes deleting
    assert not exists(emulator, RENAMED)
    assert emulator.calls_to("DeleteEndpoint") == 1


def test_a_rename_whose_create_outlasts_the_deadline_is_removed_by_the_stacks_rollback(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    clock: VirtualClock,
) -> None:
    """ServiceTimeout 300 s: the new endpoint is still Creating when the rename gives up, and
    SageMaker refuses to delete an endpoint in progress. The rollback that follows waits for it
    to settle and deletes it (it would else turn InService, billed, unknown to the stack)."""
    response, failed = rename_fails(stack, sagemaker_client, ServiceTimeout=300)

    assert response.status == "FAILED"
    assert RENAMED in response.reason and "rollback deletes it" in response.reason
    assert emulator.endpoint_status(RENAMED) == "Creating"

    rollback = stack.update(props(CONFIG_A, Tags=TAGS), old_properties=failed)

    assert rollback.status == "SUCCESS", rollback.reason
    assert RENAMED in rollback.reason and "was deleted" in rollback.reason
    (delete,) = successful(emulator, "DeleteEndpoint")
    assert delete.params["EndpointName"] == RENAMED and delete.endpoint_status == "InService"
    assert describe(sagemaker_client) == ("InService", CONFIG_A)
    clock.advance(120)
    assert not exists(emulator, RENAMED)


def test_a_rollback_never_deletes_an_endpoint_of_the_old_name_it_did_not_create(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    """The rename was refused because "ep-v2" exists and is someone else's: the rollback's
    OldResourceProperties name it, but its request tag is not this resource's."""
    make_configs(sagemaker_client, CONFIG_A, CONFIG_B)
    sagemaker_client.create_endpoint(EndpointName=RENAMED, EndpointConfigName=CONFIG_A)
    created = stack.create(props(CONFIG_A, Tags=TAGS))
    assert created.status == "SUCCESS", created.reason
    failed = props(CONFIG_B, RENAMED, Tags=TAGS)

    response = stack.update(failed)

    assert response.status == "FAILED" and "already exists" in response.reason
    rollback = stack.update(props(CONFIG_A, Tags=TAGS), old_properties=failed)
    assert rollback.status == "SUCCESS", rollback.reason
    assert emulator.calls_to("DeleteEndpoint") == 0
    assert exists(emulator, RENAMED)


def test_a_rollback_whose_deadline_comes_first_succeeds_and_names_what_is_left(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    clock: VirtualClock,
) -> None:
    """A rollback never fails because of what a failed rename left: the new endpoint is still
    Creating (25 minutes) when the rollback's deadline comes."""
    emulator.reset(clock, timings=Timings(create=1500.0))
    response, failed = rename_fails(stack, sagemaker_client, ServiceTimeout=300)
    assert response.status == "FAILED"

    rollback = stack.update(props(CONFIG_A, Tags=TAGS, ServiceTimeout=300),
                            old_properties=failed)

    assert rollback.status == "SUCCESS", rollback.reason
    assert rollback.arrived_at <= rollback.deadline - 30
    assert RENAMED in rollback.reason and "still Creating" in rollback.reason
    assert "delete it" in rollback.reason
    assert emulator.calls_to("DeleteEndpoint") == 0


def test_a_wait_armed_by_the_handler_before_recreation_and_sweeps_still_finishes(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    harness: Harness,
) -> None:
    """A deploy of this version while a rollout waits: the schedule's state was written without
    ``foreign``, ``was_failed`` and ``stray``; the new handler reads it and finishes."""
    created_on_a(stack, sagemaker_client)
    wakes = Wakes(harness.scheduler_client, WakeTarget(harness.schedule_group,
                                                        harness.scheduler_role,
                                                        harness.function_arn))
    rewritten: list[str] = []

    def as_before(invocation: Invocation) -> None:
        if invocation.kind != "request":
            return
        (name,) = harness.aws.schedules()
        found = wakes.read(name)
        assert found is not None
        payload = json.loads(found[0])
        state = payload[WAKE_KEY]["state"]
        del state["stray"], state["progress"]["foreign"], state["progress"]["was_failed"]
        assert wakes.rearm(name, found[1], json.dumps(payload))
        rewritten.append(name)

    response = stack.update(props(CONFIG_B, DeploymentConfig=CANARY, Tags=TAGS),
                            after_each=as_before)

    assert rewritten and response.status == "SUCCESS", response.reason
    assert describe(sagemaker_client) == ("InService", CONFIG_B)
    assert emulator.calls_to("UpdateEndpoint") == 1
