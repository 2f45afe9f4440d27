"""`Tags.of(...)` reaches the endpoint (the custom resource's Tags), with CDK's precedence rules,
within the endpoint's tag limit, and a tags-only change deploys nothing new."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import App, Stack, Tags
from aws_cdk.assertions import Template
from construct_support import instance_variant
from sagemaker_rollout import RolloutEndpoint

OWNER = {"Key": "sagemaker-rollout:stack", "Value": {"Ref": "AWS::StackId"}}


def build(tags: dict[str, str] | None = None) -> tuple[App, Stack, RolloutEndpoint]:
    app = App(context={"aws:cdk:bundling-stacks": []})
    stack = Stack(app, "Stack")
    endpoint = RolloutEndpoint(
        stack, "Endpoint", endpoint_name="scoring", variants=[instance_variant()], tags=tags
    )
    return app, stack, endpoint


def endpoint_tags(stack: Stack) -> dict[str, Any]:
    (resource,) = Template.from_stack(stack).find_resources(
        "Custom::SageMakerEndpointRollout"
    ).values()
    return {pair["Key"]: pair["Value"] for pair in resource["Properties"]["Tags"]}


def without_owner(tags: dict[str, Any]) -> dict[str, Any]:
    assert tags.pop(OWNER["Key"]) == OWNER["Value"]
    return tags


@pytest.mark.parametrize("level", ["app", "stack", "construct"])
def test_tags_of_any_level_reach_the_endpoint(level: str) -> None:
    app, stack, endpoint = build()
    scope = {"app": app, "stack": stack, "construct": endpoint}[level]
    Tags.of(scope).add("CostCenter", "4711")
    assert without_owner(endpoint_tags(stack)) == {"CostCenter": "4711"}


def test_the_nearer_tags_of_wins_at_equal_priority() -> None:
    app, stack, endpoint = build()
    Tags.of(app).add("team", "platform")
    Tags.of(stack).add("team", "ml")
    Tags.of(endpoint).add("env", "prod")
    Tags.of(stack).add("env", "dev")
    assert without_owner(endpoint_tags(stack)) == {"team": "ml", "env": "prod"}


def test_a_higher_priority_wins_over_a_nearer_tags_of() -> None:
    app, stack, endpoint = build()
    Tags.of(app).add("team", "platform", priority=300)
    Tags.of(endpoint).add("team", "ml")
    assert without_owner(endpoint_tags(stack))["team"] == "platform"


def test_tags_of_overrides_the_tags_prop_as_on_any_cdk_resource() -> None:
    app, stack, _ = build(tags={"team": "prop", "kept": "yes"})
    Tags.of(app).add("team", "app")
    assert without_owner(endpoint_tags(stack)) == {"team": "app", "kept": "yes"}


def test_tags_of_remove_removes_a_tag_but_never_the_ownership_tag() -> None:
    app, stack, _ = build(tags={"team": "ml", "temporary": "x"})
    Tags.of(app).remove("temporary")
    Tags.of(app).remove("sagemaker-rollout:stack", priority=10_000)
    assert without_owner(endpoint_tags(stack)) == {"team": "ml"}


def test_tags_of_can_leave_the_endpoint_out_by_resource_type() -> None:
    app, stack, _ = build()
    Tags.of(app).add("only-configs", "x",
                     exclude_resource_types=["Custom::SageMakerEndpointRollout"])
    Tags.of(app).add("only-endpoints", "y",
                     include_resource_types=["Custom::SageMakerEndpointRollout"])
    assert without_owner(endpoint_tags(stack)) == {"only-endpoints": "y"}


def test_tags_of_the_stack_still_tag_the_endpoint_config_and_the_function() -> None:
    app, stack, _ = build()
    Tags.of(app).add("CostCenter", "4711")
    template = Template.from_stack(stack)
    for kind in ("AWS::SageMaker::EndpointConfig", "AWS::Lambda::Function"):
        (resource,) = template.find_resources(kind).values()
        assert {"Key": "CostCenter", "Value": "4711"} in resource["Properties"]["Tags"], kind


def synth_error(stack: Stack) -> str:
    with pytest.raises(RuntimeError) as raised:
        Template.from_stack(stack)
    return str(raised.value)


def test_more_tags_than_the_endpoint_may_carry_are_refused_at_synth() -> None:
    app, stack, _ = build(tags={f"prop-{i}": "v" for i in range(40)})
    for index in range(9):
        Tags.of(app).add(f"app-{index}", "v")
    message = synth_error(stack)
    assert "[sagemaker-rollout:endpoint-tags] endpoint Stack/Endpoint has 49 tags" in message
    assert "the limit is 48" in message
    assert "Fix: drop 1 of them" in message


def test_the_tag_limit_fix_passes() -> None:
    app, stack, _ = build(tags={f"prop-{i}": "v" for i in range(40)})
    for index in range(9):
        Tags.of(app).add(f"app-{index}", "v",
                         exclude_resource_types=["Custom::SageMakerEndpointRollout"]
                         if index == 0 else None)
    assert len(endpoint_tags(stack)) == 48 + 1


def test_a_reserved_key_from_tags_of_is_refused_at_synth() -> None:
    app, stack, _ = build()
    Tags.of(app).add("sagemaker-rollout:request", "mine")
    message = synth_error(stack)
    assert "[sagemaker-rollout:endpoint-tags]" in message
    assert "sagemaker-rollout:request" in message


def test_a_tags_only_change_changes_nothing_but_the_tags_property() -> None:
    def template(cost_center: str) -> dict[str, Any]:
        app, stack, _ = build()
        Tags.of(app).add("CostCenter", cost_center,
                         include_resource_types=["Custom::SageMakerEndpointRollout"])
        return Template.from_stack(stack).to_json()["Resources"]

    before, after = template("1"), template("2")
    assert before.keys() == after.keys()
    changed = {logical_id for logical_id in before if before[logical_id] != after[logical_id]}
    (rollout,) = changed
    assert before[rollout]["Type"] == "Custom::SageMakerEndpointRollout"
    del before[rollout]["Properties"]["Tags"], after[rollout]["Properties"]["Tags"]
    assert before[rollout] == after[rollout]
