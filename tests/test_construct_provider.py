"""The provider: one Lambda function per stack, its settings, its IAM, and its bundled code."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk.assertions import Match, Template
from sagemaker_rollout import ProductionVariant, RolloutEndpoint
from sagemaker_rollout.bundling import package_dir, provider_code

FUNCTION = "AWS::Lambda::Function"


def new_app() -> App:
    return App(context={"aws:cdk:bundling-stacks": []})


def add_endpoint(stack: Stack, construct_id: str = "Endpoint", **props: Any) -> RolloutEndpoint:
    variants = [ProductionVariant.instances(model_name="model-a", instance_type="ml.m5.large")]
    return RolloutEndpoint(stack, construct_id, variants=variants, **props)


def statements(template: Template) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for policy in template.find_resources("AWS::IAM::Policy").values():
        found.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return found


def actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def statement_with(template: Template, action: str) -> list[dict[str, Any]]:
    return [statement for statement in statements(template) if action in actions(statement)]


def arn_suffix(resource: Any) -> str:
    """The literal tail of an ARN built with Fn::Join by format_arn."""
    parts = resource["Fn::Join"][1]
    assert isinstance(parts[-1], str)
    return parts[-1]


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
            "Timeout": 180,
            "Environment": {"Variables": {"LOG_LEVEL": "INFO"}},
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


# --- IAM -------------------------------------------------------------------------------------


def test_each_endpoint_may_manage_its_own_endpoint_and_endpoint_configs() -> None:
    stack = Stack(new_app(), "Stack")
    add_endpoint(stack, "First", endpoint_name="First-Endpoint")
    add_endpoint(stack, "Second", endpoint_name="second-endpoint")
    template = Template.from_stack(stack)
    granted = statement_with(template, "sagemaker:UpdateEndpoint")
    assert len(granted) == 2
    for statement, name in zip(granted, ["first-endpoint", "second-endpoint"], strict=True):
        assert sorted(statement["Action"]) == sorted(
            f"sagemaker:{action}"
            for action in (
                "CreateEndpoint",
                "UpdateEndpoint",
                "DeleteEndpoint",
                "DescribeEndpoint",
                "AddTags",
                "DeleteTags",
                "ListTags",
            )
        )
        assert [arn_suffix(resource) for resource in statement["Resource"]] == [
            f":endpoint/{name}",
            ":endpoint-config/*",
        ]


def test_function_may_describe_the_rollback_alarms() -> None:
    stack = Stack(new_app(), "Stack")
    alarm = cloudwatch.Metric(namespace="AWS/SageMaker", metric_name="ModelLatency").create_alarm(
        stack, "Latency", threshold=1, evaluation_periods=1
    )
    add_endpoint(stack, rollback_alarms=[alarm])
    (statement,) = statement_with(Template.from_stack(stack), "cloudwatch:DescribeAlarms")
    assert statement["Resource"] == stack.resolve(alarm.alarm_arn)


def test_function_may_manage_only_its_own_polling_rules() -> None:
    stack = Stack(new_app(), "Stack")
    add_endpoint(stack)
    (statement,) = statement_with(Template.from_stack(stack), "events:PutRule")
    assert sorted(statement["Action"]) == [
        "events:DeleteRule",
        "events:DescribeRule",
        "events:PutRule",
        "events:PutTargets",
        "events:RemoveTargets",
    ]
    assert arn_suffix(statement["Resource"]) == ":rule/sagemaker-rollout-*"


def test_function_may_change_only_its_own_invoke_permissions() -> None:
    stack = Stack(new_app(), "Stack")
    add_endpoint(stack)
    template = Template.from_stack(stack)
    (function_id,) = template.find_resources(FUNCTION)
    (statement,) = statement_with(template, "lambda:AddPermission")
    assert statement["Action"] == ["lambda:AddPermission", "lambda:RemovePermission"]
    assert statement["Resource"] == {"Fn::GetAtt": [function_id, "Arn"]}


def test_custom_resource_waits_for_the_polling_permissions() -> None:
    stack = Stack(new_app(), "Stack")
    endpoint = add_endpoint(stack)
    template = Template.from_stack(stack)
    (policy_id,) = template.find_resources(
        "AWS::IAM::Policy",
        {"Properties": {"PolicyDocument": {"Statement": [
            Match.object_like({"Action": ["lambda:AddPermission", "lambda:RemovePermission"]})
        ]}}},
    )
    rollout = template.to_json()["Resources"][
        stack.get_logical_id(endpoint.custom_resource.node.default_child)  # type: ignore[arg-type]
    ]
    assert policy_id in rollout["DependsOn"]


def test_no_wildcard_action_and_no_full_access_policy() -> None:
    stack = Stack(new_app(), "Stack")
    add_endpoint(stack)
    template = Template.from_stack(stack)
    for statement in statements(template):
        assert all("*" not in action for action in actions(statement)), statement
    assert "FullAccess" not in json.dumps(template.to_json())


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
