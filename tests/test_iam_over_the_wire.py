"""The handler's calls judged by the provider role's synthesized policy, over the wire.

The SageMaker emulator runs with IAM in front of it (``iam_authorizer``): every call the real
handler makes through its boto3 client is evaluated against the statements of the provider
role's policies in a template synthesized by the construct, tag conditions included, and a
denied call is answered AccessDenied as SageMaker answers it. The custom resource's Tags are the
template's, resolved for the harness's stack (the ownership tag = its StackId).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Template
from botocore.config import Config
from botocore.exceptions import ClientError
from cfn_harness import CloudFormationStack, Harness
from cfn_harness.events import stack_id
from iam_authorizer import (
    DENIED_ABSENT_RULE,
    PROVIDER_ACCESS_KEY,
    ProviderPolicyAuthorizer,
    deployment_of,
    policy_of,
)
from rollout_support import make_configs, props, provider_factory
from sagemaker_emulator import SageMakerEmulator, VirtualClock
from sagemaker_rollout import ProductionVariant, RolloutEndpoint
from sagemaker_rollout_handler.contract import OWNER_TAG_KEY

V1, V2 = "fraud-scoring-v1", "fraud-scoring-v2"
CONFIG_A, CONFIG_B = "scoring-config-a", "scoring-config-b"
OTHER_STACK_ID = ("arn:aws:cloudformation:us-east-1:123456789012:stack/other/"
                  "9f1e2d3c-0000-11ef-8888-0a0b0c0d0e0f")


@functools.cache
def synthesized(endpoint_name: str, *, adopt: bool = False,
                team: str = "fraud") -> Template:
    """The construct's template for one endpoint of that name (tags: team=<team>)."""
    app = App(context={"aws:cdk:bundling-stacks": []})
    stack = Stack(app, "Platform")
    RolloutEndpoint(
        stack, "Scoring", endpoint_name=endpoint_name, adopt_existing_endpoint=adopt,
        tags={"team": team},
        variants=[ProductionVariant.instances(model_name="m", instance_type="ml.m5.large")],
    )
    return Template.from_stack(stack)


def properties(template: Template, stack: CloudFormationStack, config: str,
               name: str) -> dict[str, Any]:
    """The custom resource's properties as CloudFormation sends them: the template's Tags and
    AdoptExisting resolved for the stack (the EndpointConfig is one the test made)."""
    (resource,) = template.find_resources("Custom::SageMakerEndpointRollout").values()
    wanted = {key: value for key, value in resource["Properties"].items()
              if key in ("Tags", "AdoptExisting")}
    return props(config, name, **deployment_of(stack.stack_id).resolve(wanted))


@pytest.fixture
def provider_client(emulator_server: SageMakerEmulator) -> Any:
    """The provider function's client: its calls are the ones IAM judges."""
    return boto3.client("sagemaker", endpoint_url=emulator_server.url, region_name="us-east-1",
                        aws_access_key_id=PROVIDER_ACCESS_KEY, aws_secret_access_key="x",
                        config=Config(retries={"mode": "standard", "max_attempts": 8}))


@pytest.fixture
def iam_stack(harness: Harness, emulator: SageMakerEmulator, provider_client: Any,
              clock: VirtualClock) -> Iterator[CloudFormationStack]:
    """The real handler behind a stack, its SageMaker calls judged by IAM (set a policy with
    ``authorize``)."""
    harness.cloud.connect(emulator)
    arn = stack_id("sagemaker-rollout-test", region="us-east-1", account_id="123456789012")
    factory = provider_factory(harness, provider_client, clock, stack_id=arn)
    yield harness.stack(factory(), factory=factory, stack_arn=arn)
    emulator.authorizer = None


def authorize(emulator: SageMakerEmulator, template: Template, stack: CloudFormationStack, *,
              absent_denied: bool = True) -> None:
    emulator.authorizer = ProviderPolicyAuthorizer.of(template, stack.stack_id,
                                                      absent_denied=absent_denied)


#: What IAM answers for a call on an endpoint that does not exist (*unverified*, both offered).
ABSENT_ANSWERS = [pytest.param(True, id="missing-is-denied"),
                  pytest.param(False, id="missing-is-not-found")]


def denied(emulator: SageMakerEmulator, since: int = 0) -> list[tuple[str, str, str]]:
    """(operation, endpoint or ARN, rule) of every call IAM denied."""
    return [(call.operation, call.params.get("EndpointName", call.params.get("ResourceArn", "")),
             call.error_rule or "")
            for call in emulator.calls[since:] if call.error_code == "AccessDeniedException"]


def allowed(emulator: SageMakerEmulator, operation: str, name: str) -> bool:
    return any(call.operation == operation and call.params.get("EndpointName") == name
               and call.error_code is None for call in emulator.calls)


def tags_of(client: Any, name: str) -> dict[str, str]:
    arn = client.describe_endpoint(EndpointName=name)["EndpointArn"]
    return {tag["Key"]: tag["Value"] for tag in client.list_tags(ResourceArn=arn)["Tags"]}


def status(client: Any, name: str) -> tuple[str, str] | None:
    try:
        answer = client.describe_endpoint(EndpointName=name)
    except ClientError as error:
        assert "Could not find endpoint" in str(error)
        return None
    return answer["EndpointStatus"], answer["EndpointConfigName"]


def only_absent_endpoints_denied(emulator: SageMakerEmulator, since: int = 0) -> None:
    """IAM denied nothing but calls on endpoints that did not exist (no tags to match): the
    handler made no call the policy refuses on an endpoint that is there."""
    assert all(rule == DENIED_ABSENT_RULE for *_, rule in denied(emulator, since)), denied(
        emulator, since)


@pytest.mark.parametrize("absent_denied", ABSENT_ANSWERS)
def test_create_update_with_new_tags_and_delete_make_only_calls_the_policy_allows(
    iam_stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    absent_denied: bool,
) -> None:
    make_configs(sagemaker_client, CONFIG_A, CONFIG_B)
    authorize(emulator, synthesized(V1), iam_stack, absent_denied=absent_denied)

    created = iam_stack.create(properties(synthesized(V1), iam_stack, CONFIG_A, V1))
    assert created.status == "SUCCESS", created.reason
    assert tags_of(sagemaker_client, V1)[OWNER_TAG_KEY] == iam_stack.stack_id

    # New config and a tag changed: UpdateEndpoint, AddTags and DeleteTags under the policy.
    authorize(emulator, synthesized(V1, team="risk"), iam_stack, absent_denied=absent_denied)
    retagged = {**properties(synthesized(V1, team="risk"), iam_stack, CONFIG_B, V1)}
    retagged["Tags"] = [tag for tag in retagged["Tags"] if tag["Key"] != "team"] + [
        {"Key": "cost-center", "Value": "4711"}]
    updated = iam_stack.update(retagged)
    assert updated.status == "SUCCESS", updated.reason
    tags = tags_of(sagemaker_client, V1)
    assert "team" not in tags and tags["cost-center"] == "4711"
    assert tags[OWNER_TAG_KEY] == iam_stack.stack_id
    assert status(sagemaker_client, V1) == ("InService", CONFIG_B)

    deleted = iam_stack.delete()
    assert deleted.status == "SUCCESS", deleted.reason
    assert status(sagemaker_client, V1) is None

    for operation in ("CreateEndpoint", "UpdateEndpoint", "DeleteEndpoint"):
        assert allowed(emulator, operation, V1), operation
    assert any(call.operation == "DeleteTags" and call.error_code is None
               for call in emulator.calls)
    only_absent_endpoints_denied(emulator)
    assert emulator.invariant_violations() == []


@pytest.mark.parametrize("absent_denied", ABSENT_ANSWERS)
def test_rename_then_the_cleanup_delete_under_the_new_policy_removes_the_old_endpoint(
    iam_stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    absent_denied: bool,
) -> None:
    make_configs(sagemaker_client, CONFIG_A)
    authorize(emulator, synthesized(V1), iam_stack, absent_denied=absent_denied)
    old = properties(synthesized(V1), iam_stack, CONFIG_A, V1)
    assert iam_stack.create(old).status == "SUCCESS"

    # The stack update replaces the role's policy before the resources are updated, and the
    # clean-up Delete of the old name runs last: both under the new template's policy, which
    # names neither endpoint (the ownership tag reaches both).
    new_template = synthesized(V2)
    assert V1 not in json.dumps(new_template.to_json())
    authorize(emulator, new_template, iam_stack, absent_denied=absent_denied)
    renamed = iam_stack.update(properties(new_template, iam_stack, CONFIG_A, V2))
    assert renamed.status == "SUCCESS", renamed.reason
    assert renamed.physical_resource_id == V2
    since = len(emulator.calls)
    cleanup = iam_stack.delete(old, physical_id=V1)

    assert cleanup.status == "SUCCESS", cleanup.reason
    assert status(sagemaker_client, V1) is None
    assert status(sagemaker_client, V2) == ("InService", CONFIG_A)
    assert allowed(emulator, "DeleteEndpoint", V1)
    assert ("DeleteEndpoint", V1) not in [(op, name) for op, name, _ in denied(emulator, since)]
    only_absent_endpoints_denied(emulator)


def foreign_endpoint(emulator: SageMakerEmulator, client: Any, clock: VirtualClock,
                     name: str, tags: dict[str, str]) -> None:
    """An endpoint made outside this stack (by the test's own, unjudged client)."""
    client.create_endpoint(EndpointName=name, EndpointConfigName=CONFIG_B,
                           Tags=[{"Key": key, "Value": value} for key, value in tags.items()])
    while emulator.endpoint_status(name) != "InService":
        clock.advance(5)


@pytest.fixture
def made_outside(emulator: SageMakerEmulator, sagemaker_client: Any, clock: VirtualClock) -> str:
    """Endpoint V1 on config B, made outside the library (no ownership tag); config A exists."""
    make_configs(sagemaker_client, CONFIG_A, CONFIG_B)
    foreign_endpoint(emulator, sagemaker_client, clock, V1, {"team": "fraud"})
    return V1


FOREIGN_TAGS = [
    pytest.param({"team": "payments"}, id="made-outside-the-library"),
    pytest.param({OWNER_TAG_KEY: OTHER_STACK_ID, "team": "payments"}, id="another-stacks"),
]


@pytest.mark.parametrize("tags", FOREIGN_TAGS)
def test_every_call_on_a_foreign_endpoint_is_denied_over_the_wire(
    iam_stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    provider_client: Any, clock: VirtualClock, tags: dict[str, str],
) -> None:
    make_configs(sagemaker_client, CONFIG_A, CONFIG_B)
    foreign_endpoint(emulator, sagemaker_client, clock, V1, tags)
    authorize(emulator, synthesized(V1), iam_stack)
    arn = sagemaker_client.describe_endpoint(EndpointName=V1)["EndpointArn"]
    attempts = [
        lambda: provider_client.describe_endpoint(EndpointName=V1),
        lambda: provider_client.update_endpoint(EndpointName=V1, EndpointConfigName=CONFIG_A),
        lambda: provider_client.delete_endpoint(EndpointName=V1),
        lambda: provider_client.list_tags(ResourceArn=arn),
        lambda: provider_client.add_tags(
            ResourceArn=arn, Tags=[{"Key": OWNER_TAG_KEY, "Value": iam_stack.stack_id}]),
        lambda: provider_client.delete_tags(ResourceArn=arn, TagKeys=["team"]),
    ]
    for attempt in attempts:
        with pytest.raises(ClientError) as error:
            attempt()
        assert error.value.response["Error"]["Code"] == "AccessDeniedException"
        assert "is not authorized to perform: sagemaker:" in str(error.value)
    assert status(sagemaker_client, V1) == ("InService", CONFIG_B)
    assert tags_of(sagemaker_client, V1) == tags


@pytest.mark.parametrize("tags", FOREIGN_TAGS)
def test_a_create_onto_a_foreign_endpoint_fails_and_its_delete_leaves_it_alone(
    iam_stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    clock: VirtualClock, tags: dict[str, str],
) -> None:
    make_configs(sagemaker_client, CONFIG_A, CONFIG_B)
    foreign_endpoint(emulator, sagemaker_client, clock, V1, tags)
    authorize(emulator, synthesized(V1), iam_stack)
    since = len(emulator.calls)

    created = iam_stack.create(properties(synthesized(V1), iam_stack, CONFIG_A, V1))
    assert created.status == "FAILED"
    assert "Cannot create already existing endpoint" in created.reason
    # The Delete of a resource whose physical id names it (what a stack that once owned the
    # name would send): AccessDenied is "nothing of this stack's to delete".
    gone = iam_stack.delete(physical_id=V1)
    assert gone.status == "SUCCESS", gone.reason

    assert status(sagemaker_client, V1) == ("InService", CONFIG_B)
    assert tags_of(sagemaker_client, V1) == tags
    changed = [call for call in emulator.calls[since:] if call.error_code is None
               and call.operation in ("UpdateEndpoint", "DeleteEndpoint", "AddTags",
                                      "DeleteTags")]
    assert changed == []


def test_an_adopted_endpoint_is_claimed_under_its_own_statement_then_owned(
    iam_stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    made_outside: str,
) -> None:
    template = synthesized(V1, adopt=True)
    authorize(emulator, template, iam_stack)

    adopted = iam_stack.create(properties(template, iam_stack, CONFIG_A, V1))

    assert adopted.status == "SUCCESS", adopted.reason
    assert status(sagemaker_client, V1) == ("InService", CONFIG_A)
    assert tags_of(sagemaker_client, V1)[OWNER_TAG_KEY] == iam_stack.stack_id
    assert allowed(emulator, "UpdateEndpoint", V1)
    only_absent_endpoints_denied(emulator)


def test_the_policy_without_the_adopt_statement_cannot_claim_an_endpoint(
    iam_stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    made_outside: str,
) -> None:
    # AdoptExisting in the request, but a policy synthesized without adopt_existing_endpoint.
    emulator.authorizer = ProviderPolicyAuthorizer(policy_of(synthesized(V1), iam_stack.stack_id))
    request = properties(synthesized(V1, adopt=True), iam_stack, CONFIG_A, V1)

    refused = iam_stack.create(request)

    assert refused.status == "FAILED"
    assert status(sagemaker_client, V1) == ("InService", CONFIG_B)
    assert OWNER_TAG_KEY not in tags_of(sagemaker_client, V1)


def test_an_endpoint_made_before_the_ownership_tag_is_taken_over_by_one_adopting_update(
    iam_stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    # Made by this resource with an earlier version: its request tag, no ownership tag.
    make_configs(sagemaker_client, CONFIG_A, CONFIG_B)
    assert iam_stack.create(props(CONFIG_A, V1)).status == "SUCCESS"
    arn = sagemaker_client.describe_endpoint(EndpointName=V1)["EndpointArn"]
    sagemaker_client.delete_tags(ResourceArn=arn, TagKeys=[OWNER_TAG_KEY])

    authorize(emulator, synthesized(V1), iam_stack)
    unreachable = iam_stack.update(properties(synthesized(V1), iam_stack, CONFIG_B, V1))
    assert unreachable.status == "FAILED"
    assert "adopt_existing_endpoint=True" in unreachable.reason
    assert status(sagemaker_client, V1) == ("InService", CONFIG_A)

    adopting = synthesized(V1, adopt=True)
    authorize(emulator, adopting, iam_stack)
    adopted = iam_stack.update(properties(adopting, iam_stack, CONFIG_B, V1),
                               props(CONFIG_A, V1))
    assert adopted.status == "SUCCESS", adopted.reason
    assert tags_of(sagemaker_client, V1)[OWNER_TAG_KEY] == iam_stack.stack_id

    # The flag may go again: the endpoint is this stack's by its tag.
    authorize(emulator, synthesized(V1), iam_stack)
    after = iam_stack.update(properties(synthesized(V1), iam_stack, CONFIG_A, V1))
    assert after.status == "SUCCESS", after.reason
    assert status(sagemaker_client, V1) == ("InService", CONFIG_A)


@pytest.mark.parametrize(("tags", "looked_into"), [
    pytest.param({OWNER_TAG_KEY: OTHER_STACK_ID}, False, id="another-stacks"),
    pytest.param({"team": "payments"}, True, id="made-outside-the-library"),
])
def test_events_of_a_foreign_endpoint_wake_nothing_and_another_stacks_cost_no_denied_call(
    iam_stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    tags: dict[str, str], looked_into: bool,
) -> None:
    # The stack's rule takes every SageMaker endpoint event of the account: a foreign endpoint
    # changing while our request waits invokes our function too.
    make_configs(sagemaker_client, CONFIG_A, CONFIG_B)
    authorize(emulator, synthesized(V2), iam_stack)
    sagemaker_client.create_endpoint(
        EndpointName=V1, EndpointConfigName=CONFIG_B,
        Tags=[{"Key": key, "Value": value} for key, value in tags.items()])

    created = iam_stack.create(properties(synthesized(V2), iam_stack, CONFIG_A, V2))

    assert created.status == "SUCCESS", created.reason
    assert status(sagemaker_client, V1) in (("Creating", CONFIG_B), ("InService", CONFIG_B))
    foreign_arn = sagemaker_client.describe_endpoint(EndpointName=V1)["EndpointArn"]
    denied_reads = [name for operation, name, _ in denied(emulator) if operation == "ListTags"]
    # Its own tags say another stack's: not even asked (the event carries them). Made outside:
    # one denied read, then nothing.
    assert (foreign_arn in denied_reads) is looked_into
    assert tags_of(sagemaker_client, V1) == tags


@pytest.mark.parametrize("absent_denied", ABSENT_ANSWERS)
def test_a_failed_endpoint_is_recreated_under_the_policy_and_keeps_its_ownership_tag(
    iam_stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    absent_denied: bool,
) -> None:
    make_configs(sagemaker_client, CONFIG_A, CONFIG_B)
    authorize(emulator, synthesized(V1), iam_stack, absent_denied=absent_denied)
    assert iam_stack.create(properties(synthesized(V1), iam_stack, CONFIG_A, V1)).status == (
        "SUCCESS")
    emulator.faults.set_status(V1, "Failed", failure_reason="the container crashed")

    # DeleteEndpoint, the reads while it is gone (AccessDenied or not found), CreateEndpoint.
    recreated = iam_stack.update(properties(synthesized(V1), iam_stack, CONFIG_B, V1))

    assert recreated.status == "SUCCESS", recreated.reason
    assert "recreated on" in recreated.reason
    assert status(sagemaker_client, V1) == ("InService", CONFIG_B)
    assert tags_of(sagemaker_client, V1)[OWNER_TAG_KEY] == iam_stack.stack_id
    only_absent_endpoints_denied(emulator)


@pytest.mark.parametrize("absent_denied", ABSENT_ANSWERS)
@pytest.mark.parametrize("failure", ["create-failed", "create-outlasts-the-deadline"])
def test_a_failed_renames_new_endpoint_is_removed_under_the_policy_and_rollback_succeeds(
    iam_stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    clock: VirtualClock, absent_denied: bool, failure: str,
) -> None:
    """Issue 17.4 under least privilege: the failed request (its CreateEndpoint ended Failed)
    or the stack's rollback (it was still Creating at the deadline) deletes the new endpoint,
    by its ownership tag, under the new template's policy and the old one's."""
    make_configs(sagemaker_client, CONFIG_A, CONFIG_B)
    authorize(emulator, synthesized(V1), iam_stack, absent_denied=absent_denied)
    old = properties(synthesized(V1), iam_stack, CONFIG_A, V1)
    assert iam_stack.create(old).status == "SUCCESS"
    authorize(emulator, synthesized(V2), iam_stack, absent_denied=absent_denied)
    failed = properties(synthesized(V2), iam_stack, CONFIG_B, V2)
    if failure == "create-failed":
        emulator.faults.fail_provisioning(V2, on="create", reason="no capacity")
    else:
        failed["ServiceTimeout"] = 300

    renamed = iam_stack.update(failed)

    assert renamed.status == "FAILED" and renamed.physical_resource_id == V1
    authorize(emulator, synthesized(V1), iam_stack, absent_denied=absent_denied)
    rollback = iam_stack.update(old, old_properties=failed)

    assert rollback.status == "SUCCESS", rollback.reason
    assert allowed(emulator, "DeleteEndpoint", V2)
    clock.advance(120)
    assert status(sagemaker_client, V2) is None
    assert status(sagemaker_client, V1) == ("InService", CONFIG_A)
    only_absent_endpoints_denied(emulator)
