"""Adopting an existing endpoint, and the removal policy: the construct's side of the contract
with the handler (AdoptExisting, RemovalPolicy) and the EndpointConfig a retained endpoint keeps."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import RemovalPolicy, Stack
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk.assertions import Annotations, Match, Template
from construct_support import new_stack
from sagemaker_rollout import ProductionVariant, RolloutEndpoint

ROLLOUT = "Custom::SageMakerEndpointRollout"
ENDPOINT_CONFIG = "AWS::SageMaker::EndpointConfig"



def variant() -> ProductionVariant:
    return ProductionVariant.instances(model_name="model-a", instance_type="ml.m5.large")


def synth(**props: Any) -> tuple[Stack, Template]:
    stack = new_stack()
    RolloutEndpoint(stack, "Endpoint", variants=[variant()], **props)
    return stack, Template.from_stack(stack)


def only(template: Template, resource_type: str) -> dict[str, Any]:
    (resource,) = template.find_resources(resource_type).values()
    return resource  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def default() -> Template:
    return synth()[1]


@pytest.fixture(scope="module")
def adopted_and_retained() -> Template:
    return synth(
        endpoint_name="legacy-endpoint",
        adopt_existing_endpoint=True,
        removal_policy=RemovalPolicy.RETAIN,
    )[1]


def test_adoption_is_rendered_as_adopt_existing_true(adopted_and_retained: Template) -> None:
    assert only(adopted_and_retained, ROLLOUT)["Properties"]["AdoptExisting"] == "true"


def test_adoption_targets_the_given_endpoint_name(adopted_and_retained: Template) -> None:
    assert only(adopted_and_retained, ROLLOUT)["Properties"]["EndpointName"] == "legacy-endpoint"


def test_retain_is_rendered_as_removal_policy_retain(adopted_and_retained: Template) -> None:
    assert only(adopted_and_retained, ROLLOUT)["Properties"]["RemovalPolicy"] == "Retain"


def test_retained_endpoint_keeps_its_endpoint_config_on_stack_delete(
    adopted_and_retained: Template,
) -> None:
    config = only(adopted_and_retained, ENDPOINT_CONFIG)
    assert config["DeletionPolicy"] == "Retain"
    # A config replaced by an update is no longer in use: still deleted after the update.
    assert config["UpdateReplacePolicy"] == "Delete"


def test_defaults_render_neither_adoption_nor_removal_policy(default: Template) -> None:
    properties = only(default, ROLLOUT)["Properties"]
    assert "AdoptExisting" not in properties
    assert "RemovalPolicy" not in properties


def test_default_endpoint_config_is_deleted_with_the_stack(default: Template) -> None:
    config = only(default, ENDPOINT_CONFIG)
    assert config.get("DeletionPolicy", "Delete") == "Delete"


def test_destroy_is_the_default_removal_policy() -> None:
    _, template = synth(removal_policy=RemovalPolicy.DESTROY)
    assert "RemovalPolicy" not in only(template, ROLLOUT)["Properties"]


@pytest.mark.parametrize(
    "policy", [RemovalPolicy.SNAPSHOT, RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE]
)
def test_removal_policies_other_than_destroy_and_retain_are_refused(
    policy: RemovalPolicy,
) -> None:
    refusal = (r"\[sagemaker-rollout:removal-policy\] removal_policy = RemovalPolicy\.\w+; "
               r"the limit is RemovalPolicy.DESTROY .* or RemovalPolicy.RETAIN")
    with pytest.raises(ValueError, match=refusal):
        synth(removal_policy=policy)


def test_adopting_with_a_generated_name_warns() -> None:
    stack, _ = synth(adopt_existing_endpoint=True)
    Annotations.from_stack(stack).has_warning(
        "/Stack/Endpoint", Match.string_like_regexp("Pass endpoint_name=")
    )


def test_adopting_a_named_endpoint_does_not_warn() -> None:
    stack, _ = synth(endpoint_name="legacy-endpoint", adopt_existing_endpoint=True)
    Annotations.from_stack(stack).has_no_warning("*", Match.string_like_regexp("endpoint_name="))


def test_migration_from_cfn_endpoint_keeps_the_name_and_retains_the_old_resource() -> None:
    # The README's migration: step 1 retains the CfnEndpoint (and its config); step 2 removes it
    # and adopts the endpoint by name. Step 2's template has no AWS::SageMaker::Endpoint left.
    step1 = new_stack()
    config = sagemaker.CfnEndpointConfig(step1, "Config", production_variants=[variant().render()])
    old = sagemaker.CfnEndpoint(step1, "Endpoint", endpoint_name="legacy-endpoint",
                                endpoint_config_name=config.attr_endpoint_config_name)
    old.apply_removal_policy(RemovalPolicy.RETAIN)
    config.apply_removal_policy(RemovalPolicy.RETAIN)
    before = Template.from_stack(step1)
    assert only(before, "AWS::SageMaker::Endpoint")["DeletionPolicy"] == "Retain"

    _, after = synth(endpoint_name="legacy-endpoint", adopt_existing_endpoint=True)
    after.resource_count_is("AWS::SageMaker::Endpoint", 0)
    assert only(after, ROLLOUT)["Properties"]["EndpointName"] == "legacy-endpoint"
