"""The custom resource's life, driven as CloudFormation + Lambda + EventBridge would drive it.

Every request goes through crhelper with a CloudFormation-shaped event (all property values
strings), the real handler (lambda/sagemaker_rollout_handler, ``build_resource``), the SageMaker
emulator over HTTP, moto for the polling rule, and the HTTPS response server; the harness
(tests/cfn_harness) asserts the protocol at every step. EndpointConfigs are created with boto3,
standing in for CloudFormation's AWS::SageMaker::EndpointConfig; CloudFormation's clean-up of
replaced configs is played too, so that the emulator's invariant (no endpoint references a
deleted config) checks that SUCCESS came only once the endpoint stopped using the old one.
"""

from __future__ import annotations

from typing import Any

import pytest
from cfn_harness import (
    FAKE_CREDENTIALS,
    CloudFormationStack,
    Harness,
    Invocation,
    LogCapture,
    Response,
    assert_no_secrets,
)
from cfn_harness.tags import user_tags
from sagemaker_emulator import SageMakerEmulator, VirtualClock

Json = dict[str, Any]
ENDPOINT = "ep"
CONFIG_A = "ep-config-a"
CONFIG_B = "ep-config-b"
ALARM = "ep-5xx-errors-high"
#: Canary: 1 instance, bake 5 min, final bake 2 min; auto-rollback on ALARM.
CANARY: Json = {
    "BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {
            "Type": "CANARY",
            "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1},
            "WaitIntervalInSeconds": 300,
        },
        "TerminationWaitInSeconds": 120,
        "MaximumExecutionTimeoutInSeconds": 1800,
    },
    "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": ALARM}]},
}


def props(config: str, name: str = ENDPOINT, **extra: Any) -> Json:
    return {"EndpointName": name, "EndpointConfigName": config, **extra}


def make_configs(sagemaker: Any, *names: str) -> None:
    """What CloudFormation's AWS::SageMaker::EndpointConfig resources would have created."""
    for name in names:
        sagemaker.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "model",
                                 "InitialInstanceCount": 4, "InstanceType": "ml.m5.xlarge"}],
        )


def describe(sagemaker: Any, name: str = ENDPOINT) -> tuple[str, str]:
    answer = sagemaker.describe_endpoint(EndpointName=name)
    return answer["EndpointStatus"], answer["EndpointConfigName"]


def exists(sagemaker: Any, name: str) -> bool:
    return any(e["EndpointName"] == name
               for e in sagemaker.list_endpoints(MaxResults=100)["Endpoints"])


def assert_clean(emulator: SageMakerEmulator) -> None:
    assert emulator.invariant_violations() == []
    assert emulator.internal_errors == []


@pytest.fixture
def on_a(stack: CloudFormationStack, sagemaker_client: Any) -> CloudFormationStack:
    """A stack whose endpoint was created on config A (config B exists too)."""
    make_configs(sagemaker_client, CONFIG_A, CONFIG_B)
    created = stack.create(props(CONFIG_A))
    assert created.status == "SUCCESS", created.reason
    return stack


def canary_to_b(stack: CloudFormationStack, **options: Any) -> Response:
    return stack.update(props(CONFIG_B, DeploymentConfig=CANARY), **options)


def rolled_back_update(on_a: CloudFormationStack, emulator: SageMakerEmulator) -> Response:
    emulator.faults.trip_alarm(ENDPOINT, "canary-bake", after=60)
    return canary_to_b(on_a)


# --- the lifecycle the issue demands ---------------------------------------------------------


def test_create_brings_the_endpoint_in_service_on_config_a(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any
) -> None:
    make_configs(sagemaker_client, CONFIG_A)
    response = stack.create(props(CONFIG_A))

    assert response.status == "SUCCESS", response.reason
    assert describe(sagemaker_client) == ("InService", CONFIG_A)
    assert response.physical_resource_id == ENDPOINT
    arn = sagemaker_client.describe_endpoint(EndpointName=ENDPOINT)["EndpointArn"]
    assert response.data == {"EndpointName": ENDPOINT, "EndpointArn": arn,
                             "EndpointConfigName": CONFIG_A}
    assert response.polled  # creating takes minutes: answered from a poll
    assert emulator.calls_to("CreateEndpoint") == 1
    assert_clean(emulator)


def test_canary_update_succeeds_only_once_sagemaker_serves_config_b(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any
) -> None:
    deployment_ends: list[float] = []

    def watch(invocation: Invocation) -> None:
        end = emulator.deployment_end(ENDPOINT)
        if end is not None:
            deployment_ends.append(end)

    response = canary_to_b(on_a, after_each=watch)

    assert response.status == "SUCCESS", response.reason
    assert describe(sagemaker_client) == ("InService", CONFIG_B)
    assert response.data["EndpointConfigName"] == CONFIG_B
    assert response.physical_resource_id == ENDPOINT
    assert emulator.calls_to("UpdateEndpoint") == 1
    update = next(c for c in emulator.calls if c.operation == "UpdateEndpoint")
    assert update.params["DeploymentConfig"] == CANARY  # the API's types, not CloudFormation's
    # The deployment's end per the emulator's timeline: the answer comes after it, and soon.
    end = deployment_ends[-1]
    assert len(set(deployment_ends)) == 1
    assert end <= response.arrived_at <= end + 10, (end, response.arrived_at)
    # CloudFormation's UPDATE_COMPLETE_CLEANUP_IN_PROGRESS deletes the replaced config A.
    sagemaker_client.delete_endpoint_config(EndpointConfigName=CONFIG_A)
    assert_clean(emulator)


def test_canary_update_rolled_back_by_sagemaker_answers_failed(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any
) -> None:
    response = rolled_back_update(on_a, emulator)

    assert response.status == "FAILED"
    assert ENDPOINT in response.reason
    assert CONFIG_B in response.reason
    assert ALARM in response.reason
    assert response.physical_resource_id == ENDPOINT
    assert describe(sagemaker_client) == ("InService", CONFIG_A)
    assert emulator.calls_to("UpdateEndpoint") == 1
    assert_clean(emulator)


def test_cloudformation_rollback_after_a_sagemaker_rollback_needs_no_second_update(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any
) -> None:
    assert rolled_back_update(on_a, emulator).status == "FAILED"

    response = on_a.rollback()  # properties back to A, old properties B

    assert response.event["ResourceProperties"]["EndpointConfigName"] == CONFIG_A
    assert response.event["OldResourceProperties"]["EndpointConfigName"] == CONFIG_B
    assert response.status == "SUCCESS", response.reason
    assert response.physical_resource_id == ENDPOINT
    assert describe(sagemaker_client) == ("InService", CONFIG_A)
    assert emulator.calls_to("UpdateEndpoint") == 1  # SageMaker had rolled back already
    assert len(response.invocations) == 1
    assert not response.schedules  # answered in the first invocation: no schedule
    # UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS deletes the failed config B.
    sagemaker_client.delete_endpoint_config(EndpointConfigName=CONFIG_B)
    assert_clean(emulator)


def test_delete_removes_the_endpoint(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    handler_logs: LogCapture,
) -> None:
    response = on_a.delete()

    assert response.status == "SUCCESS", response.reason
    assert response.physical_resource_id == ENDPOINT
    assert not exists(sagemaker_client, ENDPOINT)
    assert emulator.endpoint(ENDPOINT) is None
    assert emulator.calls_to("DeleteEndpoint") == 1
    assert_clean(emulator)
    assert any("answering CloudFormation" in r.message for r in handler_logs.records)
    assert_no_secrets(handler_logs, response_urls=on_a.response_urls,
                      credentials=FAKE_CREDENTIALS.values())


# --- more behaviours ---------------------------------------------------------------------------


def test_update_changing_only_deployment_config_and_tags_does_not_redeploy(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any
) -> None:
    make_configs(sagemaker_client, CONFIG_A)
    assert stack.create(props(CONFIG_A, Tags=[{"Key": "team", "Value": "a"}])).succeeded

    response = stack.update(props(CONFIG_A, DeploymentConfig=CANARY,
                                  Tags=[{"Key": "team", "Value": "b"}]))

    assert response.status == "SUCCESS", response.reason
    assert emulator.calls_to("UpdateEndpoint") == 0
    assert not response.polled
    assert describe(sagemaker_client) == ("InService", CONFIG_A)
    arn = response.data["EndpointArn"]
    assert user_tags(sagemaker_client, arn) == [{"Key": "team", "Value": "b"}]
    assert_clean(emulator)


def test_delete_of_an_endpoint_that_does_not_exist_answers_success_at_once(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any
) -> None:
    emulator.faults.delete_endpoint_out_of_band(ENDPOINT)

    response = on_a.delete()

    assert response.status == "SUCCESS", response.reason
    assert emulator.calls_to("DeleteEndpoint") == 0
    assert len(response.invocations) == 1
    assert not response.schedules
    assert_clean(emulator)


def test_malformed_property_answers_failed_naming_it_without_calling_sagemaker(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any
) -> None:
    broken = {**CANARY, "BlueGreenUpdatePolicy": {
        **CANARY["BlueGreenUpdatePolicy"],
        "TrafficRoutingConfiguration": {"Type": "CANARY", "WaitIntervalInSeconds": "soon"}}}
    calls_before = len(emulator.calls)

    response = on_a.update(props(CONFIG_B, DeploymentConfig=broken))

    assert response.status == "FAILED"
    assert "WaitIntervalInSeconds" in response.reason
    assert "soon" in response.reason
    assert emulator.calls[calls_before:] == []
    assert not response.polled
    assert response.physical_resource_id == ENDPOINT
    assert describe(sagemaker_client) == ("InService", CONFIG_A)
    assert_clean(emulator)


def test_rename_creates_a_new_endpoint_and_the_cleanup_delete_removes_only_the_old_one(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any
) -> None:
    old = props(CONFIG_A)
    response = on_a.update(props(CONFIG_A, name="ep-renamed"))

    assert response.status == "SUCCESS", response.reason
    assert response.physical_resource_id == "ep-renamed"  # replacement
    assert describe(sagemaker_client, "ep-renamed") == ("InService", CONFIG_A)
    # UPDATE_COMPLETE_CLEANUP_IN_PROGRESS: Delete of the OLD physical id, with old properties.
    cleanup = on_a.delete(old, physical_id=ENDPOINT)

    assert cleanup.status == "SUCCESS", cleanup.reason
    assert not exists(sagemaker_client, ENDPOINT)
    assert describe(sagemaker_client, "ep-renamed") == ("InService", CONFIG_A)
    assert emulator.calls_to("UpdateEndpoint") == 0
    assert_clean(emulator)


def test_failed_create_reports_sagemakers_reason_and_the_delete_removes_the_failed_endpoint(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any
) -> None:
    make_configs(sagemaker_client, CONFIG_A)
    emulator.faults.fail_provisioning(ENDPOINT, on="create", reason="ping health check failed")

    response = stack.create(props(CONFIG_A))

    assert response.status == "FAILED"
    assert "ping health check failed" in response.reason
    assert ENDPOINT in response.reason
    assert describe(sagemaker_client)[0] == "Failed"
    # CloudFormation deletes the failed resource with the physical id the answer gave.
    delete = stack.delete()

    assert delete.event["PhysicalResourceId"] == response.physical_resource_id
    assert delete.status == "SUCCESS", delete.reason
    assert not exists(sagemaker_client, ENDPOINT)
    assert_clean(emulator)


def test_create_over_an_existing_endpoint_fails_and_its_delete_leaves_that_endpoint_alone(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    clock: VirtualClock,
) -> None:
    make_configs(sagemaker_client, CONFIG_A, CONFIG_B)
    sagemaker_client.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=CONFIG_B)
    clock.advance(600)
    assert describe(sagemaker_client) == ("InService", CONFIG_B)

    response = stack.create(props(CONFIG_A))

    assert response.status == "FAILED"
    assert ENDPOINT in response.reason
    assert "already exists" in response.reason
    assert response.physical_resource_id != ENDPOINT
    delete = stack.delete()

    assert delete.event["PhysicalResourceId"] == response.physical_resource_id
    assert delete.status == "SUCCESS", delete.reason
    assert emulator.calls_to("DeleteEndpoint") == 0
    assert emulator.calls_to("UpdateEndpoint") == 0
    assert describe(sagemaker_client) == ("InService", CONFIG_B)
    assert_clean(emulator)


@pytest.mark.parametrize("kind", ["event", "schedule"])
def test_a_wake_delivered_again_after_the_answer_changes_nothing(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any, kind: str,
) -> None:
    """EventBridge and Scheduler deliver at least once: a second delivery of the last event, or
    of a schedule's wake, after the answer and the schedule's removal, must neither answer again
    nor touch the endpoint."""
    response = canary_to_b(on_a)
    assert response.status == "SUCCESS", response.reason
    wakes = [i for i in response.invocations if i.kind == kind]
    assert wakes, [i.kind for i in response.invocations]
    calls_before = len(emulator.calls)

    on_a.invoke(wakes[-1].event, kind)  # type: ignore[arg-type]

    on_a.check_history()  # still exactly one answer
    assert [c.operation for c in emulator.calls[calls_before:]
            if not c.operation.startswith(("Describe", "List"))] == []
    assert describe(sagemaker_client) == ("InService", CONFIG_B)
    assert_clean(emulator)


def test_throttling_of_describe_endpoint_during_the_wait_does_not_fail_the_deployment(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    harness: Harness,
) -> None:
    def throttle_once_polling(invocation: Invocation) -> None:
        if invocation.kind == "request":
            emulator.faults.throttle("DescribeEndpoint", times=3)

    response = canary_to_b(on_a, after_each=throttle_once_polling)

    assert response.status == "SUCCESS", response.reason
    assert describe(sagemaker_client) == ("InService", CONFIG_B)
    throttled = [c for c in emulator.calls if c.error_code == "ThrottlingException"]
    assert len(throttled) == 3
    assert [where for where, _ in harness.sleeps] == ["botocore retry"] * 3  # virtual back-off
    assert emulator.calls_to("UpdateEndpoint") == 1
    assert_clean(emulator)
