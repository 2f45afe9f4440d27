"""The WaitCondition mode in the template: rollouts longer than the custom resource's hour.

A new WaitConditionHandle and WaitCondition for every change that deploys (none for a change
that does not), Count 1, Timeout = MaximumExecutionTimeout + rollback allowance + handler margin,
the refusal above 43200 s, the automatic switch and its info annotation, forced modes, what
depends on what, and the EndpointConfig's retention.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk.assertions import Annotations, Match, Template
from click.testing import CliRunner
from construct_support import dependency_graph, depends_on, instance_variant, new_stack, only
from sagemaker_rollout import (
    CapacitySize,
    DeploymentStrategy,
    RolloutEndpoint,
    TrafficRouting,
    WaitMode,
)
from sagemaker_rollout.cli.main import cli
from sagemaker_rollout.deployment import VariantFacts
from sagemaker_rollout.endpoint import WAIT_HANDLE_PROPERTY
from sagemaker_rollout.rendered_timeline import rollout_timeline

HANDLE = "AWS::CloudFormation::WaitConditionHandle"
CONDITION = "AWS::CloudFormation::WaitCondition"
ROLLOUT = "Custom::SageMakerEndpointRollout"
ENDPOINT_CONFIG = "AWS::SageMaker::EndpointConfig"


def linear_2h() -> DeploymentStrategy:
    """10% steps with 10-minute bakes: on 10 instances, 600 + 10 x 600 = 6600 s worst case."""
    return DeploymentStrategy.blue_green(traffic_routing=TrafficRouting.linear(
        step_size=CapacitySize.percent(10), interval=Duration.minutes(10)))


def canary() -> DeploymentStrategy:
    return DeploymentStrategy.blue_green(traffic_routing=TrafficRouting.canary(
        size=CapacitySize.count(1), bake_time=Duration.minutes(5)))


def build(**props: Any) -> tuple[Stack, RolloutEndpoint]:
    stack = new_stack()
    props.setdefault("variants", [instance_variant(initial_instance_count=10)])
    props.setdefault("deployment", linear_2h())
    return stack, RolloutEndpoint(stack, "Endpoint", **props)


def synth(**props: Any) -> Template:
    return Template.from_stack(build(**props)[0])


def wait_ids(template: Template) -> tuple[str, str]:
    """The logical ids of the one handle and the one condition."""
    return only(template, HANDLE)[0], only(template, CONDITION)[0]


# --- the automatic switch ------------------------------------------------------------------------


def test_a_rollout_longer_than_the_hour_gets_a_handle_and_a_condition() -> None:
    template = synth()
    handle_id, _condition_id = wait_ids(template)
    condition = only(template, CONDITION)[1]
    assert condition["Properties"]["Count"] == 1
    assert condition["Properties"]["Handle"] == {"Ref": handle_id}
    rollout_id, rollout = only(template, ROLLOUT)
    assert rollout["Properties"][WAIT_HANDLE_PROPERTY] == {"Ref": handle_id}
    assert condition["DependsOn"] == [rollout_id]


def test_the_switch_is_an_info_annotation_with_the_arithmetic() -> None:
    stack, endpoint = build()
    assert endpoint.wait_mode is WaitMode.WAIT_CONDITION
    Annotations.from_stack(stack).has_info("/Stack/Endpoint", Match.string_like_regexp(
        r"600 s provisioning allowance \+ 10 x 600 s linear interval = 6600 s \(1 h 50 min\) "
        r"does not fit the custom resource's hour \(the largest MaximumExecutionTimeout it can "
        r"wait out is 3210 s\), so a WaitCondition waits for the deployment: Timeout 29190 s"))


def test_a_rollout_that_fits_the_hour_has_no_wait_condition_and_no_note() -> None:
    stack, endpoint = build(deployment=canary())
    template = Template.from_stack(stack)
    template.resource_count_is(HANDLE, 0)
    template.resource_count_is(CONDITION, 0)
    assert WAIT_HANDLE_PROPERTY not in only(template, ROLLOUT)[1]["Properties"]
    assert endpoint.wait_mode is WaitMode.CUSTOM_RESOURCE
    assert endpoint.deployment_complete is endpoint.custom_resource
    assert Annotations.from_stack(stack).find_info("*", Match.any_value()) == []


def test_the_custom_resource_depends_on_nothing_new() -> None:
    long = only(synth(), ROLLOUT)[1]
    short = only(synth(wait_mode=WaitMode.CUSTOM_RESOURCE, deployment=canary()), ROLLOUT)[1]
    assert long.get("DependsOn") == short.get("DependsOn")


# --- a new handle and condition per deploying change ---------------------------------------------


def ids_after(change: Callable[[dict[str, Any]], None]) -> tuple[tuple[str, str], tuple[str, str]]:
    """The handle and condition ids before and after `change` to the endpoint's props."""
    props: dict[str, Any] = {}
    before = wait_ids(synth(**props))
    change(props)
    return before, wait_ids(synth(**props))


def test_a_new_variant_gets_a_new_handle_and_condition() -> None:
    def change(props: dict[str, Any]) -> None:
        props["variants"] = [instance_variant(initial_instance_count=10, model_name="model-b")]

    before, after = ids_after(change)
    assert before[0] != after[0] and before[1] != after[1]


def test_a_new_strategy_gets_a_new_handle_and_condition() -> None:
    def change(props: dict[str, Any]) -> None:
        props["deployment"] = DeploymentStrategy.blue_green(
            traffic_routing=TrafficRouting.linear(step_size=CapacitySize.percent(20),
                                                  interval=Duration.minutes(20)))

    before, after = ids_after(change)
    assert before[0] != after[0] and before[1] != after[1]


def test_a_renamed_endpoint_gets_a_new_handle_and_condition() -> None:
    def change(props: dict[str, Any]) -> None:
        props["endpoint_name"] = "renamed"

    before, after = ids_after(change)
    assert before != after


def test_a_tags_only_change_keeps_the_handle_and_condition() -> None:
    def change(props: dict[str, Any]) -> None:
        props["tags"] = {"team": "ml"}

    before, after = ids_after(change)
    assert before == after


def test_alarms_keep_the_handle_and_condition() -> None:
    def with_alarm(stack: Stack, endpoint: RolloutEndpoint) -> None:
        endpoint.add_rollback_alarm(cloudwatch.Alarm.from_alarm_arn(
            stack, "Alarm", "arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors"))

    stack, endpoint = build()
    before = wait_ids(Template.from_stack(stack))
    stack, endpoint = build()
    with_alarm(stack, endpoint)
    assert wait_ids(Template.from_stack(stack)) == before


def model_stack(image: str) -> Template:
    """An endpoint serving a CfnModel of this image: a new image replaces the model, whose new
    name replaces the config at deploy time; the config's template properties do not change."""
    stack = new_stack()
    model = sagemaker.CfnModel(
        stack, "Model", execution_role_arn="arn:aws:iam::123456789012:role/sagemaker",
        primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(image=image))
    RolloutEndpoint(stack, "Endpoint", deployment=linear_2h(), variants=[instance_variant(
        initial_instance_count=10, model_name=model.attr_model_name)])
    return Template.from_stack(stack)


def test_a_new_model_image_gets_a_new_handle_and_condition() -> None:
    v1, v2 = model_stack("repo:v1"), model_stack("repo:v2")
    assert only(v1, ENDPOINT_CONFIG)[1] == only(v2, ENDPOINT_CONFIG)[1]
    assert wait_ids(v1)[0] != wait_ids(v2)[0] and wait_ids(v1)[1] != wait_ids(v2)[1]
    assert wait_ids(model_stack("repo:v1")) == wait_ids(v1)


# --- the Timeout ---------------------------------------------------------------------------------


def timeout_of(template: Template) -> int:
    return int(only(template, CONDITION)[1]["Properties"]["Timeout"])


def test_timeout_is_the_maximum_execution_timeout_plus_the_allowances() -> None:
    template = synth()
    policy = only(template, ROLLOUT)[1]["Properties"]["DeploymentConfig"]["BlueGreenUpdatePolicy"]
    # The largest that fits: SageMaker's 8 h; + rollback allowance 300 s + handler margin 90 s.
    assert policy["MaximumExecutionTimeoutInSeconds"] == 28800
    assert timeout_of(template) == 28800 + 300 + 90


def test_timeout_counts_a_rolling_rollback_batch_by_batch() -> None:
    # 2 rollback batches of 5: 300 s + 2 x 600 s re-provisioning.
    rolling = DeploymentStrategy.rolling(
        batch_size=CapacitySize.count(1), bake_time=Duration.minutes(10),
        rollback_batch_size=CapacitySize.count(5),
        maximum_execution_timeout=Duration.hours(4))
    template = synth(deployment=rolling)
    assert timeout_of(template) == 14400 + 300 + 2 * 600 + 90


def test_timeout_above_43200_s_is_refused_with_the_fix() -> None:
    rolling = DeploymentStrategy.rolling(
        batch_size=CapacitySize.count(2), bake_time=Duration.minutes(10),
        rollback_batch_size=CapacitySize.count(1),
        maximum_execution_timeout=Duration.hours(8))
    with pytest.raises(ValueError, match=r"\[sagemaker-rollout:timeout-fits-wait-condition\] "
                       r"maximum_execution_timeout = 28800 s \(8 h\).* = 44190 s > WaitCondition "
                       r"Timeout limit 43200 s; the limit is 27810 s\. Fix: any one of leave "
                       r"maximum_execution_timeout out \(the largest that fits, 27810 s\)"):
        synth(deployment=rolling, variants=[instance_variant(initial_instance_count=25)])


# --- forced modes --------------------------------------------------------------------------------


def test_wait_condition_can_be_forced_for_a_short_rollout() -> None:
    stack, _endpoint = build(deployment=canary(), wait_mode=WaitMode.WAIT_CONDITION)
    template = Template.from_stack(stack)
    assert timeout_of(template) == 28800 + 300 + 90
    assert Annotations.from_stack(stack).find_info("*", Match.any_value()) == []


def test_the_custom_resource_can_be_forced_and_then_refuses_a_long_rollout() -> None:
    with pytest.raises(ValueError, match=r"timeout-exceeds-waits.*6000 s.*"
                       r"wait_mode left out or WaitMode.WAIT_CONDITION"):
        synth(wait_mode=WaitMode.CUSTOM_RESOURCE)


def test_reusing_the_last_deployment_config_waits_in_the_custom_resource_by_default() -> None:
    template = synth(deployment=None, reuse_last_deployment_config=True)
    template.resource_count_is(CONDITION, 0)


def test_a_forced_wait_condition_of_an_unknown_deployment_waits_the_longest() -> None:
    template = synth(deployment=None, reuse_last_deployment_config=True,
                     wait_mode=WaitMode.WAIT_CONDITION)
    assert timeout_of(template) == 43200


# --- what depends on the deployment's end --------------------------------------------------------


def test_what_depends_on_deployment_complete_waits_for_the_condition() -> None:
    stack, endpoint = build()
    bucket = s3.Bucket(stack, "After")
    bucket.node.add_dependency(endpoint.deployment_complete)
    template = Template.from_stack(stack)
    graph = dependency_graph(template.to_json())
    bucket_id = only(template, "AWS::S3::Bucket")[0]
    assert depends_on(graph, bucket_id, wait_ids(template)[1])


def test_autoscaling_registers_once_the_condition_completed() -> None:
    stack, endpoint = build()
    endpoint.auto_scale_instance_count(max_capacity=20)
    template = Template.from_stack(stack)
    graph = dependency_graph(template.to_json())
    target = only(template, "AWS::ApplicationAutoScaling::ScalableTarget")[0]
    assert depends_on(graph, target, wait_ids(template)[1])


# --- the EndpointConfig outlives CloudFormation's rollback clean-up ------------------------------


def test_the_endpoint_config_is_retained_in_the_wait_condition_mode() -> None:
    config = only(synth(), ENDPOINT_CONFIG)[1]
    assert config["DeletionPolicy"] == "Retain"
    assert config["UpdateReplacePolicy"] == "Delete"


def test_the_endpoint_config_is_deleted_in_the_custom_resource_mode() -> None:
    config = only(synth(deployment=canary()), ENDPOINT_CONFIG)[1]
    assert "DeletionPolicy" not in config


def retire_statements(template: Template) -> list[dict[str, Any]]:
    return [statement for policy in template.find_resources("AWS::IAM::Policy").values()
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            if statement.get("Sid") == "RetainedEndpointConfigs"]


def test_the_provider_may_delete_the_retained_configs_of_its_own_stack_only() -> None:
    (statement,) = retire_statements(synth())
    assert statement["Action"] == "sagemaker:DeleteEndpointConfig"
    assert statement["Condition"] == {"StringEquals": {
        "aws:ResourceTag/aws:cloudformation:stack-id": {"Ref": "AWS::StackId"}}}


def test_the_custom_resource_mode_may_delete_no_config() -> None:
    assert retire_statements(synth(deployment=canary())) == []


# --- seen by `sagemaker-rollout plan` ------------------------------------------------------------


def test_plan_holds_the_rollout_against_its_wait_condition(tmp_path: Path) -> None:
    app = App(outdir=str(tmp_path), context={"aws:cdk:bundling-stacks": []})
    stack = Stack(app, "Long")
    RolloutEndpoint(stack, "Endpoint", endpoint_name="long", deployment=linear_2h(),
                    variants=[instance_variant(initial_instance_count=10)])
    condition_id = wait_ids(Template.from_stack(stack))[1]
    result = CliRunner().invoke(cli, ["plan", app.synth().directory, "--json"])
    assert result.exit_code == 0, result.output
    (item,) = json.loads(result.stdout)
    assert item["worst_case_seconds"] == 6600
    assert item["budget_seconds"] == 29190
    assert item["budget_source"] == f"WaitCondition {condition_id}"


def test_a_running_long_rollout_has_a_timeline_in_the_wait_condition_mode() -> None:
    # What `sagemaker-rollout watch` asks of a deployment it sees running.
    template = synth()
    config = only(template, ROLLOUT)[1]["Properties"]["DeploymentConfig"]
    variants = [VariantFacts("AllTraffic", "ml.m5.large", 10, False)]
    timeline = rollout_timeline(config, variants, check_timeout=False, wait_mode=None)
    assert timeline.budget.wait_condition
    assert timeline.budget.worst_case == 6600
    with pytest.raises(ValueError, match="timeout-exceeds-waits"):
        rollout_timeline(config, variants, check_timeout=False)
