"""The provider's policy, evaluated: what it allows and what it denies, conditions included.

The statements are read from the synthesized template, resolved for a concrete deployment, and
judged by `iam_evaluator` (IAM's evaluation logic for what the policy uses). Endpoints carry
the ownership tag `sagemaker-rollout:stack` = the stack id when this stack's provider made them.
"""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Template
from iam_evaluator import Deployment, Policy, Request, Resource
from sagemaker_rollout import ProductionVariant, RolloutEndpoint
from sagemaker_rollout_handler.contract import OWNER_TAG_KEY, REQUEST_TAG_KEY

DEPLOYMENT = Deployment()
#: The same account and region, another stack.
OTHER_STACK = Deployment(stack_name="Other", stack_uuid="9f1e2d3c-0000-11ef-8888-0a0b0c0d0e0f")

ENDPOINT_ACTIONS = (
    "sagemaker:DescribeEndpoint",
    "sagemaker:UpdateEndpoint",
    "sagemaker:DeleteEndpoint",
    "sagemaker:ListTags",
    "sagemaker:AddTags",
    "sagemaker:DeleteTags",
    "sagemaker:CreateEndpoint",
)


def synthesized_policy(
    endpoint_name: str, *, adopt: bool = False, alarms: int = 0
) -> tuple[list[dict[str, Any]], Policy]:
    """The documents of every policy of the provider's role, and the evaluator for them."""
    app = App(context={"aws:cdk:bundling-stacks": []})
    stack = Stack(app, "Platform")
    endpoint = RolloutEndpoint(
        stack,
        "Scoring",
        endpoint_name=endpoint_name,
        adopt_existing_endpoint=adopt,
        variants=[ProductionVariant.instances(model_name="m", instance_type="ml.m5.large")],
    )
    for index in range(alarms):
        endpoint.add_rollback_alarm(
            endpoint.metric_invocation_5xx_errors().create_alarm(
                stack, f"Alarm{index}", threshold=1, evaluation_periods=1
            )
        )
    template = Template.from_stack(stack)
    documents = [
        policy["Properties"]["PolicyDocument"]
        for policy in template.find_resources("AWS::IAM::Policy").values()
    ]
    assert not template.find_resources("AWS::IAM::ManagedPolicy")
    return documents, Policy(documents, DEPLOYMENT)


def endpoint(name: str, tags: dict[str, str] | None = None) -> Resource:
    return Resource(DEPLOYMENT.arn("sagemaker", f"endpoint/{name}"), tags or {})


def owned(name: str) -> Resource:
    """An endpoint this stack's provider made (it carries the ownership tag)."""
    return endpoint(name, {OWNER_TAG_KEY: DEPLOYMENT.stack_id, REQUEST_TAG_KEY: "r:update:o"})


CONFIG = Resource(DEPLOYMENT.arn("sagemaker", "endpoint-config/scoringendpointconfig-abc"))


def call(action: str, target: Resource, **extra: Any) -> Request:
    """`action` on `target`; CreateEndpoint and UpdateEndpoint are authorised on the config too."""
    resources = [target]
    if action in ("sagemaker:CreateEndpoint", "sagemaker:UpdateEndpoint"):
        resources.append(CONFIG)
    return Request(action, resources, **extra)


@pytest.fixture(scope="module")
def renamed() -> tuple[list[dict[str, Any]], list[dict[str, Any]], Policy]:
    """The policy before (`fraud-scoring-v1`) and after the rename to `fraud-scoring-v2`."""
    before, _ = synthesized_policy("fraud-scoring-v1")
    after, policy = synthesized_policy("fraud-scoring-v2")
    return before, after, policy


def test_after_a_rename_the_old_endpoint_can_still_be_described_and_deleted(
    renamed: tuple[list[dict[str, Any]], list[dict[str, Any]], Policy],
) -> None:
    *_, policy = renamed
    old = owned("fraud-scoring-v1")
    assert policy.allows(call("sagemaker:DescribeEndpoint", old))
    assert policy.allows(call("sagemaker:DeleteEndpoint", old))
    assert policy.allows(call("sagemaker:ListTags", old))


def test_a_rename_changes_nothing_in_the_policy(
    renamed: tuple[list[dict[str, Any]], list[dict[str, Any]], Policy],
) -> None:
    before, after, _ = renamed
    assert before == after


def test_the_current_endpoint_can_be_created_with_the_ownership_tag_then_managed(
    renamed: tuple[list[dict[str, Any]], list[dict[str, Any]], Policy],
) -> None:
    *_, policy = renamed
    tags = {OWNER_TAG_KEY: DEPLOYMENT.stack_id, REQUEST_TAG_KEY: "r:create:o", "team": "ml"}
    new = endpoint("fraud-scoring-v2")
    assert policy.allows(call("sagemaker:CreateEndpoint", new, request_tags=tags))
    assert policy.allows(
        call("sagemaker:AddTags", new, request_tags=tags,
             context={"sagemaker:TaggingAction": "CreateEndpoint"})
    )
    current = owned("fraud-scoring-v2")
    for action in ("sagemaker:UpdateEndpoint", "sagemaker:DescribeEndpoint"):
        assert policy.allows(call(action, current)), action
    assert policy.allows(call("sagemaker:AddTags", current, request_tags={"team": "ml"}))
    assert policy.allows(call("sagemaker:DeleteTags", current, tag_keys=["team"]))


@pytest.mark.parametrize(
    "tags",
    [{}, {OWNER_TAG_KEY: OTHER_STACK.stack_id}, {REQUEST_TAG_KEY: "r:create:o"}],
    ids=["untagged", "another-stacks", "request-tag-only"],
)
@pytest.mark.parametrize("action", ENDPOINT_ACTIONS)
def test_no_call_reaches_an_endpoint_this_stack_does_not_own(
    renamed: tuple[list[dict[str, Any]], list[dict[str, Any]], Policy],
    action: str,
    tags: dict[str, str],
) -> None:
    *_, policy = renamed
    foreign = endpoint("fraud-scoring-v2", tags)
    assert not policy.allows(call(action, foreign, request_tags={"team": "ml"}))
    assert not policy.allows(call(action, foreign))


def test_an_endpoint_cannot_be_created_without_this_stacks_ownership_tag(
    renamed: tuple[list[dict[str, Any]], list[dict[str, Any]], Policy],
) -> None:
    *_, policy = renamed
    new = endpoint("anything")
    assert not policy.allows(call("sagemaker:CreateEndpoint", new))
    assert not policy.allows(
        call("sagemaker:CreateEndpoint", new, request_tags={OWNER_TAG_KEY: OTHER_STACK.stack_id})
    )


def test_tagging_outside_create_cannot_claim_an_endpoint(
    renamed: tuple[list[dict[str, Any]], list[dict[str, Any]], Policy],
) -> None:
    *_, policy = renamed
    claim = {OWNER_TAG_KEY: DEPLOYMENT.stack_id}
    assert not policy.allows(call("sagemaker:AddTags", endpoint("someone-elses"),
                                  request_tags=claim))
    # sagemaker:TaggingAction is set by SageMaker for CreateEndpoint's own AddTags only; a
    # tagging call that claims to be one still needs the stack's tag in its request.
    assert not policy.allows(
        call("sagemaker:AddTags", endpoint("someone-elses"), request_tags={"team": "ml"},
             context={"sagemaker:TaggingAction": "CreateEndpoint"})
    )


def test_an_owned_endpoint_cannot_be_given_to_another_stack_or_lose_its_tag(
    renamed: tuple[list[dict[str, Any]], list[dict[str, Any]], Policy],
) -> None:
    *_, policy = renamed
    current = owned("fraud-scoring-v2")
    assert not policy.allows(
        call("sagemaker:AddTags", current, request_tags={OWNER_TAG_KEY: OTHER_STACK.stack_id})
    )
    assert not policy.allows(
        call("sagemaker:DeleteTags", current, tag_keys=["team", OWNER_TAG_KEY])
    )


def test_endpoints_of_another_account_or_region_are_out_of_reach(
    renamed: tuple[list[dict[str, Any]], list[dict[str, Any]], Policy],
) -> None:
    *_, policy = renamed
    tags = {OWNER_TAG_KEY: DEPLOYMENT.stack_id}
    for other in (Deployment(account="210987654321"), Deployment(region="us-east-1")):
        far = Resource(other.arn("sagemaker", "endpoint/fraud-scoring-v1"), tags)
        assert not policy.allows(Request("sagemaker:DeleteEndpoint", [far]))


def test_an_adopted_endpoint_can_be_claimed_only_for_this_stack() -> None:
    _, policy = synthesized_policy("legacy-endpoint", adopt=True)
    legacy = endpoint("legacy-endpoint", {"team": "ml"})
    assert policy.allows(call("sagemaker:DescribeEndpoint", legacy))
    assert policy.allows(call("sagemaker:ListTags", legacy))
    assert policy.allows(
        call("sagemaker:AddTags", legacy,
             request_tags={OWNER_TAG_KEY: DEPLOYMENT.stack_id, REQUEST_TAG_KEY: "r:claim:o"})
    )
    assert not policy.allows(
        call("sagemaker:AddTags", legacy, request_tags={OWNER_TAG_KEY: OTHER_STACK.stack_id})
    )
    # Until it is claimed, nothing changes it.
    for action in ("sagemaker:UpdateEndpoint", "sagemaker:DeleteEndpoint"):
        assert not policy.allows(call(action, legacy)), action
    # Another untagged endpoint is not opened by the adoption.
    assert not policy.allows(call("sagemaker:DescribeEndpoint", endpoint("legacy-endpoint-2")))


def test_the_rollback_alarms_of_the_account_and_region_can_be_described() -> None:
    _, policy = synthesized_policy("scoring", alarms=2)
    alarm = Resource(DEPLOYMENT.arn("cloudwatch", "alarm:Platform-Alarm0-1A2B3C4D5E6F"))
    assert policy.allows(Request("cloudwatch:DescribeAlarms", [alarm]))
    far = Resource(Deployment(region="us-east-1").arn("cloudwatch", "alarm:x"))
    assert not policy.allows(Request("cloudwatch:DescribeAlarms", [far]))
    assert not policy.allows(Request("cloudwatch:PutMetricAlarm", [alarm]))


def test_without_alarms_no_alarm_can_be_described() -> None:
    _, policy = synthesized_policy("scoring")
    alarm = Resource(DEPLOYMENT.arn("cloudwatch", "alarm:any"))
    assert not policy.allows(Request("cloudwatch:DescribeAlarms", [alarm]))


def test_the_evaluator_refuses_a_condition_it_does_not_model() -> None:
    document = {"Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*",
                               "Condition": {"DateGreaterThan": {"aws:CurrentTime": "2020"}}}]}
    with pytest.raises(NotImplementedError, match="DateGreaterThan"):
        Policy([document], DEPLOYMENT).allows(Request("s3:GetObject", [Resource("arn:x")]))


def test_the_evaluator_lets_an_explicit_deny_win() -> None:
    document = {"Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::b/*"},
    ]}
    policy = Policy([document], DEPLOYMENT)
    assert policy.allows(Request("s3:GetObject", [Resource("arn:aws:s3:::b/k")]))
    assert not policy.allows(Request("s3:DeleteObject", [Resource("arn:aws:s3:::b/k")]))


def test_the_evaluator_needs_every_resource_of_a_call_allowed() -> None:
    document = {"Statement": [{"Effect": "Allow", "Action": "sagemaker:UpdateEndpoint",
                               "Resource": "arn:aws:sagemaker:eu-west-1:1:endpoint/*"}]}
    policy = Policy([document], DEPLOYMENT)
    resources = [Resource("arn:aws:sagemaker:eu-west-1:1:endpoint/e"),
                 Resource("arn:aws:sagemaker:eu-west-1:1:endpoint-config/c")]
    assert not policy.allows(Request("sagemaker:UpdateEndpoint", resources))
    assert policy.allows(Request("sagemaker:UpdateEndpoint", resources[:1]))
