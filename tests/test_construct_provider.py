"""The provider: one Lambda function per stack, its settings, its IAM, and its bundled code."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Match, Template
from sagemaker_rollout import ProductionVariant, RolloutEndpoint
from sagemaker_rollout.bundling import package_dir, provider_code

FUNCTION = "AWS::Lambda::Function"


def new_app() -> App:
    return App(context={"aws:cdk:bundling-stacks": []})


def add_endpoint(stack: Stack, construct_id: str = "Endpoint", **props: Any) -> RolloutEndpoint:
    variants = [ProductionVariant.instances(model_name="model-a", instance_type="ml.m5.large")]
    return RolloutEndpoint(stack, construct_id, variants=variants, **props)


# --- one function per stack ------------------------------------------------------------------


def test_two_endpoints_in_a_stack_share_one_function() -> None:
    stack = Stack(new_app(), "Stack")
    add_endpoint(stack, "First")
    add_endpoint(stack, "Second")
    template = Template.from_stack(stack)
    template.resource_count_is(FUNCTION, 1)
    template.resource_count_is("AWS::Logs::LogGroup", 1)
    template.resource_count_is("Custom::SageMakerEndpointRollout", 2)


def test_two_stacks_get_one_function_each() -> None:
    app = new_app()
    stacks = [Stack(app, "One"), Stack(app, "Two")]
    for stack in stacks:
        add_endpoint(stack, "First")
        add_endpoint(stack, "Second")
    for stack in stacks:
        Template.from_stack(stack).resource_count_is(FUNCTION, 1)


# --- the function ----------------------------------------------------------------------------


def test_function_runs_the_handler_on_python_3_12_at_info_level() -> None:
    stack = Stack(new_app(), "Stack")
    add_endpoint(stack)
    Template.from_stack(stack).has_resource_properties(
        FUNCTION,
        {
            "Runtime": "python3.12",
            "Handler": "sagemaker_rollout_handler.index.handler",
            "Timeout": 360,
            "Environment": {"Variables": Match.object_like({"LOG_LEVEL": "INFO"})},
        },
    )


def test_function_is_not_retried_by_lambda_and_drops_events_older_than_the_service_timeout() -> (
    None
):
    stack = Stack(new_app(), "Stack")
    add_endpoint(stack)
    Template.from_stack(stack).has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 3600},
    )


def test_function_logs_to_a_log_group_of_the_stack_kept_one_month() -> None:
    stack = Stack(new_app(), "Stack")
    add_endpoint(stack)
    template = Template.from_stack(stack)
    (log_group_id,) = template.find_resources(
        "AWS::Logs::LogGroup", {"Properties": {"RetentionInDays": 30}}
    )
    template.has_resource_properties(
        FUNCTION, {"LoggingConfig": {"LogGroup": {"Ref": log_group_id}}}
    )


# --- IAM (every statement: tests/test_iam.py) ---------------------------------------------------


def test_custom_resource_waits_for_the_permission_that_lets_scheduler_wake_the_function(
) -> None:
    stack = Stack(new_app(), "Stack")
    endpoint = add_endpoint(stack)
    template = Template.from_stack(stack)
    resources = template.to_json()["Resources"]

    def policy_with(action: str) -> str:
        (policy_id,) = template.find_resources(
            "AWS::IAM::Policy",
            {"Properties": {"PolicyDocument": {"Statement": Match.array_with([
                Match.object_like({"Action": action})])}}},
        )
        return policy_id

    rollout = resources[
        stack.get_logical_id(endpoint.custom_resource.node.default_child)  # type: ignore[arg-type]
    ]
    legacy = policy_with("lambda:RemovePermission")
    assert legacy in rollout["DependsOn"]
    assert policy_with("lambda:InvokeFunction") in resources[legacy]["DependsOn"]


def test_the_function_knows_its_schedule_group_the_scheduler_role_and_its_stack() -> None:
    from sagemaker_rollout_handler.contract import (
        SCHEDULE_GROUP_ENV,
        SCHEDULER_ROLE_ENV,
        STACK_ID_ENV,
    )

    template = Template.from_stack(_stack_with_endpoint())
    (group_id,) = template.find_resources("AWS::Scheduler::ScheduleGroup")
    (function,) = template.find_resources("AWS::Lambda::Function").values()
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables[SCHEDULE_GROUP_ENV] == {"Ref": group_id}
    assert "Fn::GetAtt" in variables[SCHEDULER_ROLE_ENV]
    assert variables[STACK_ID_ENV] == {"Ref": "AWS::StackId"}


def _stack_with_endpoint() -> Stack:
    stack = Stack(new_app(), "Stack")
    add_endpoint(stack)
    return stack


# --- the bundled code ------------------------------------------------------------------------


def bundled_asset(outdir: Path) -> Path:
    app = App(outdir=str(outdir))
    stack = Stack(app, "Stack")
    add_endpoint(stack)
    assembly = app.synth()
    function = next(iter(Template.from_stack(stack).find_resources(FUNCTION).values()))
    asset_hash = function["Properties"]["Code"]["S3Key"].removesuffix(".zip")
    return Path(assembly.directory) / f"asset.{asset_hash}"


def test_bundled_asset_holds_the_handler_and_crhelper(tmp_path: Path) -> None:
    asset = bundled_asset(tmp_path)
    assert (asset / "sagemaker_rollout_handler" / "index.py").is_file()
    assert (asset / "crhelper" / "resource_helper.py").is_file()
    top_level = sorted(path.name for path in asset.iterdir())
    assert top_level == ["crhelper", "sagemaker_rollout_handler"]


def test_bundled_asset_has_every_source_file_and_no_bytecode(tmp_path: Path) -> None:
    asset = bundled_asset(tmp_path)
    for package in ("sagemaker_rollout_handler", "crhelper"):
        sources = {
            path.relative_to(package_dir(package)).as_posix()
            for path in package_dir(package).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
        }
        bundled = {
            path.relative_to(asset / package).as_posix()
            for path in (asset / package).rglob("*")
            if path.is_file()
        }
        assert bundled == sources


def test_asset_hash_is_the_same_for_the_same_sources(tmp_path: Path) -> None:
    assert bundled_asset(tmp_path / "one").name == bundled_asset(tmp_path / "two").name


def test_missing_crhelper_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    real_find_spec = importlib.util.find_spec

    def find_spec(name: str, package: str | None = None) -> Any:
        return None if name == "crhelper" else real_find_spec(name, package)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(RuntimeError, match=r"'crhelper' is not installed"):
        provider_code()
