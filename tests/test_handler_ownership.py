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

STACK_ID = "arn:aws:cloudformation:eu-west-1:123456789012:stack/Platform/5b0d2e40-1f2a"
ENDPOINT = "ep"
OWNED_TAGS = [{"Key": "team", "Value": "ml"}, {"Key": OWNER_TAG_KEY, "Value": STACK_ID}]


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
                             "Tags": OWNED_TAGS})
    assert response.status == "SUCCESS", response.reason
    assert tags_of(sagemaker_client, ENDPOINT)[OWNER_TAG_KEY] == STACK_ID


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
                             "AdoptExisting": "true", "Tags": OWNED_TAGS})

    assert response.status == "SUCCESS", response.reason
    assert tags_of(sagemaker_client, ENDPOINT)[OWNER_TAG_KEY] == STACK_ID


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
