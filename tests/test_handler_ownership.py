"""The ownership tag on the handler's side (contract.OWNER_TAG_KEY): the endpoint carries it from
CreateEndpoint on, an adopted endpoint gets it with the claim, and an AccessDenied answer on an
endpoint (IAM's answer for one that is not there, or not this stack's) means "not there"."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from cfn_harness import CloudFormationStack
from sagemaker_emulator import SageMakerEmulator, VirtualClock
from sagemaker_rollout_handler.contract import OWNER_TAG_KEY
from sagemaker_rollout_handler.sagemaker import Endpoints, SageMakerError

ENDPOINT = "ep"


def owned_tags(stack: CloudFormationStack) -> list[dict[str, str]]:
    """The Tags the construct renders: the user's and the ownership tag (AWS::StackId)."""
    return [{"Key": "team", "Value": "ml"}, {"Key": OWNER_TAG_KEY, "Value": stack.stack_id}]


def tags_of(sagemaker_client: Any, name: str) -> dict[str, str]:
    arn = sagemaker_client.describe_endpoint(EndpointName=name)["EndpointArn"]
    return {tag["Key"]: tag["Value"]
            for tag in sagemaker_client.list_tags(ResourceArn=arn)["Tags"]}


def make_config(sagemaker_client: Any, name: str) -> None:
    sagemaker_client.create_endpoint_config(
        EndpointConfigName=name,
        ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "m",
                             "InstanceType": "ml.m5.large", "InitialInstanceCount": 1}],
    )


def test_a_created_endpoint_carries_the_ownership_tag_from_create_endpoint_on(
    stack: CloudFormationStack, sagemaker_client: Any,
) -> None:
    make_config(sagemaker_client, "config-a")
    response = stack.create({"EndpointName": ENDPOINT, "EndpointConfigName": "config-a",
                             "Tags": owned_tags(stack)})
    assert response.status == "SUCCESS", response.reason
    assert tags_of(sagemaker_client, ENDPOINT)[OWNER_TAG_KEY] == stack.stack_id


def test_the_handler_writes_the_ownership_tag_from_the_request_stack_id_at_create_endpoint(
    stack: CloudFormationStack, sagemaker_client: Any,
) -> None:
    # Properties without it (a template of the previous version): CreateEndpoint still carries
    # it, since the provider's policy allows CreateEndpoint only with it.
    make_config(sagemaker_client, "config-a")
    response = stack.create({"EndpointName": ENDPOINT, "EndpointConfigName": "config-a",
                             "Tags": [{"Key": "team", "Value": "ml"}]})
    assert response.status == "SUCCESS", response.reason
    tags = tags_of(sagemaker_client, ENDPOINT)
    assert tags[OWNER_TAG_KEY] == stack.stack_id
    assert tags["team"] == "ml"


def test_an_ownership_tag_of_another_stack_is_refused_before_any_call(
    stack: CloudFormationStack, sagemaker_client: Any,
) -> None:
    make_config(sagemaker_client, "config-a")
    other = "arn:aws:cloudformation:eu-west-1:123456789012:stack/Platform/5b0d2e40-1f2a"
    response = stack.create({"EndpointName": ENDPOINT, "EndpointConfigName": "config-a",
                             "Tags": [{"Key": OWNER_TAG_KEY, "Value": other}]})
    assert response.status == "FAILED"
    assert f"Property Tags sets {OWNER_TAG_KEY!r} to {other!r}" in response.reason
    assert stack.stack_id in response.reason
    assert sagemaker_client.list_endpoints()["Endpoints"] == []


def test_an_adopted_endpoint_gets_the_ownership_tag_with_the_claim(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    clock: VirtualClock,
) -> None:
    make_config(sagemaker_client, "config-a")
    make_config(sagemaker_client, "config-b")
    sagemaker_client.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName="config-b")
    while emulator.endpoint_status(ENDPOINT) != "InService":
        clock.advance(5)
    assert OWNER_TAG_KEY not in tags_of(sagemaker_client, ENDPOINT)

    response = stack.create({"EndpointName": ENDPOINT, "EndpointConfigName": "config-a",
                             "AdoptExisting": "true", "Tags": owned_tags(stack)})

    assert response.status == "SUCCESS", response.reason
    assert tags_of(sagemaker_client, ENDPOINT)[OWNER_TAG_KEY] == stack.stack_id


def access_denied_client(operation: str) -> tuple[Any, Stubber]:
    client = boto3.client("sagemaker", region_name="eu-west-1",
                          aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(client)
    stubber.add_client_error(operation, service_error_code="AccessDeniedException",
                             service_message="User is not authorized to perform this action",
                             http_status_code=400)
    stubber.activate()
    return client, stubber


def test_access_denied_on_a_first_look_means_the_endpoint_is_not_there_for_this_stack() -> None:
    client, stubber = access_denied_client("describe_endpoint")
    assert Endpoints(client).describe("renamed-away", denied_means_absent=True) is None
    stubber.assert_no_pending_responses()


def test_access_denied_after_the_request_changed_the_endpoint_stays_an_error() -> None:
    client, _ = access_denied_client("describe_endpoint")
    with pytest.raises(SageMakerError, match="AccessDeniedException"):
        Endpoints(client).describe("ours")


def test_access_denied_on_delete_means_there_is_nothing_of_this_stack_to_delete() -> None:
    client, stubber = access_denied_client("delete_endpoint")
    Endpoints(client).delete("not-ours")
    stubber.assert_no_pending_responses()
