"""The custom resource's `Rollout` property: what the deployment deploys and how, for `cdk diff`.
It changes with the model, the variants and the strategy, and not with the tags alone."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk.assertions import Template
from construct_support import instance_variant, new_stack, only
from sagemaker_rollout import (
    CapacitySize,
    DeploymentStrategy,
    ProductionVariant,
    RolloutEndpoint,
    TrafficRouting,
)
from sagemaker_rollout_handler.contract import ROLLOUT_PROPERTY

ROLLOUT = "Custom::SageMakerEndpointRollout"


def canary(bake: int = 10) -> DeploymentStrategy:
    return DeploymentStrategy.blue_green(traffic_routing=TrafficRouting.canary(
        size=CapacitySize.percent(25), bake_time=Duration.minutes(bake)))


def rollout_of(image: str = "repo:1", count: int = 4, deployment: DeploymentStrategy | None = None,
               tags: dict[str, str] | None = None) -> str:
    """The Rollout property of an endpoint serving a CfnModel of `image`."""
    stack = new_stack()
    model = sagemaker.CfnModel(
        stack, "Model", execution_role_arn="arn:aws:iam::123456789012:role/model",
        primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(image=image))
    RolloutEndpoint(stack, "Endpoint", deployment=deployment or canary(), tags=tags,
                    variants=[ProductionVariant.instances(
                        model=model, instance_type="ml.m5.large", initial_instance_count=count)])
    return str(only(Template.from_stack(stack), ROLLOUT)[1]["Properties"][ROLLOUT_PROPERTY])


def test_the_rollout_says_the_strategy_and_a_digest_of_the_config() -> None:
    rollout = rollout_of()
    strategy, digest = rollout.rsplit(" / config ", 1)
    assert strategy == "canary 25% / bake 10 min"
    assert len(digest) == 12 and int(digest, 16) >= 0


def test_the_same_endpoint_renders_the_same_rollout() -> None:
    assert rollout_of() == rollout_of()


CHANGES: dict[str, Callable[[], str]] = {
    "a new model image": lambda: rollout_of(image="repo:2"),
    "another instance count": lambda: rollout_of(count=6),
    "another strategy": lambda: rollout_of(deployment=canary(bake=5)),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_the_rollout_changes_with_what_deploys(change: str) -> None:
    assert CHANGES[change]() != rollout_of()


def test_a_strategy_change_alone_keeps_the_config_digest() -> None:
    # The strategy part changes; the digest, which tells whether a rollout runs, does not.
    assert rollout_of().rsplit(" ", 1)[1] == rollout_of(deployment=canary(bake=5)).rsplit(
        " ", 1)[1]


def test_a_change_of_tags_alone_keeps_the_rollout() -> None:
    assert rollout_of(tags={"team": "a"}) == rollout_of(tags={"team": "b"}) == rollout_of()


def test_a_model_tag_change_keeps_the_digest() -> None:
    def with_model_tags(value: str) -> str:
        stack = new_stack()
        model = sagemaker.CfnModel(
            stack, "Model", execution_role_arn="arn:aws:iam::123456789012:role/model",
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(image="repo:1"),
            tags=[{"key": "team", "value": value}])
        RolloutEndpoint(stack, "Endpoint", variants=[ProductionVariant.instances(
            model=model, instance_type="ml.m5.large")])
        return str(only(Template.from_stack(stack), ROLLOUT)[1]["Properties"][ROLLOUT_PROPERTY])

    assert with_model_tags("a") == with_model_tags("b")


@pytest.mark.parametrize(("deployment", "words"), [
    (DeploymentStrategy.all_at_once(), "all at once"),
    (DeploymentStrategy.all_at_once(termination_wait=Duration.seconds(90)),
     "all at once / termination wait 1 min 30 s"),
    (DeploymentStrategy.blue_green(traffic_routing=TrafficRouting.linear(
        step_size=CapacitySize.count(1), interval=Duration.minutes(5))),
     "linear 1 instance / interval 5 min"),
    (DeploymentStrategy.rolling(batch_size=CapacitySize.count(2), bake_time=Duration.minutes(5),
                                rollback_batch_size=CapacitySize.percent(50)),
     "rolling 2 instances / bake 5 min / rollback 50%"),
])
def test_the_rollout_names_each_strategy(deployment: DeploymentStrategy, words: str) -> None:
    assert rollout_of(deployment=deployment).startswith(f"{words} / config ")


def test_a_reused_deployment_config_says_so() -> None:
    stack = new_stack()
    RolloutEndpoint(stack, "Endpoint", variants=[instance_variant()],
                    reuse_last_deployment_config=True)
    rollout = only(Template.from_stack(stack), ROLLOUT)[1]["Properties"][ROLLOUT_PROPERTY]
    assert rollout.startswith("last deployment config / config ")


def _alpha_rollout(stack: Stack, image: str, alpha: Any) -> str:
    from aws_cdk import aws_ecr as ecr
    repository = ecr.Repository.from_repository_name(stack, "Repo", "my-model")
    model = alpha.Model(stack, "Model", containers=[alpha.ContainerDefinition(
        image=alpha.ContainerImage.from_ecr_repository(repository, image))])
    RolloutEndpoint(stack, "Endpoint", variants=[ProductionVariant.instances(
        model=model, instance_type="ml.m5.large")])
    return str(only(Template.from_stack(stack), ROLLOUT)[1]["Properties"][ROLLOUT_PROPERTY])


def test_the_digest_follows_an_alpha_models_image() -> None:
    alpha = pytest.importorskip("aws_cdk.aws_sagemaker_alpha")
    assert _alpha_rollout(new_stack(), "v1", alpha) != _alpha_rollout(new_stack(), "v2", alpha)
