"""The provider's IAM, read from the synthesized template: every statement, exactly.

docs/security.md gives the reason for each statement; these tests pin them down so a new
permission cannot slip in unnoticed.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk import Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Template
from construct_support import new_stack
from sagemaker_rollout import ProductionVariant, RolloutEndpoint, RolloutProvider

PARTITION = {"Ref": "AWS::Partition"}
REGION = {"Ref": "AWS::Region"}
ACCOUNT = {"Ref": "AWS::AccountId"}


def arn(service: str, resource: str) -> dict[str, Any]:
    """An ARN of the stack's partition, region and account, as format_arn renders it."""
    return {
        "Fn::Join": [
            "",
            ["arn:", PARTITION, f":{service}:", REGION, ":", ACCOUNT, f":{resource}"],
        ]
    }


def add_endpoint(stack: Stack, construct_id: str, **props: Any) -> RolloutEndpoint:
    variants = [ProductionVariant.instances(model_name="model-a", instance_type="ml.m5.large")]
    return RolloutEndpoint(stack, construct_id, variants=variants, **props)



def role_statements(template: Template) -> dict[str, dict[str, Any]]:
    """Every statement of every policy in the template, by Sid (each must have one)."""
    found: dict[str, dict[str, Any]] = {}
    for policy in template.find_resources("AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            sid = statement.get("Sid")
            assert sid is not None and sid not in found, statement
            found[sid] = statement
    return found


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


class Built:
    """A synthesized stack and the ids of the resources the statements name."""

    def __init__(self, stack: Stack, alarms: tuple[cloudwatch.IAlarm, ...] = ()) -> None:
        self.stack = stack
        self.alarm_arns = [stack.resolve(alarm.alarm_arn) for alarm in alarms]
        self.template = Template.from_stack(stack)
        self.statements = role_statements(self.template)
        (self.function_id,) = self.template.find_resources("AWS::Lambda::Function")
        (self.log_group_id,) = self.template.find_resources("AWS::Logs::LogGroup")
        (self.group_id,) = self.template.find_resources("AWS::Scheduler::ScheduleGroup")
        roles = self.template.find_resources("AWS::IAM::Role")
        (self.scheduler_role_id,) = [
            logical_id for logical_id, role in roles.items()
            if "scheduler.amazonaws.com" in json.dumps(role["Properties"])]


@pytest.fixture(scope="module")
def minimal() -> Built:
    """One endpoint: no tags, no alarms."""
    stack = new_stack()
    add_endpoint(stack, "Endpoint", endpoint_name="Only-Endpoint")
    return Built(stack)


@pytest.fixture(scope="module")
def full() -> Built:
    """Two endpoints, the first tagged and watched by two alarms, the second bare."""
    stack = new_stack()
    alarms = [
        cloudwatch.Metric(namespace="AWS/SageMaker", metric_name=name).create_alarm(
            stack, name, threshold=1, evaluation_periods=1
        )
        for name in ("ModelLatency", "Invocation5XXErrors")
    ]
    first = add_endpoint(
        stack, "First", endpoint_name="First-Endpoint", tags={"team": "ml"},
        rollback_alarms=alarms[:1],
    )
    first.add_rollback_alarm(alarms[1])
    add_endpoint(stack, "Second", endpoint_name="second-endpoint")
    return Built(stack, tuple(alarms))


def endpoints_arn() -> dict[str, Any]:
    return arn("sagemaker", "endpoint/*")


OWNER = {"aws:ResourceTag/sagemaker-rollout:stack": {"Ref": "AWS::StackId"}}
OWNER_IN_REQUEST = {"aws:RequestTag/sagemaker-rollout:stack": {"Ref": "AWS::StackId"}}


def common_statements(built: Built) -> dict[str, dict[str, Any]]:
    """The statements every stack has, whatever its endpoints: none names an endpoint."""
    function_arn = {"Fn::GetAtt": [built.function_id, "Arn"]}
    return {
        "Logs": {
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [built.log_group_id, "Arn"]},
        },
        "Wakes": {
            "Action": [
                "scheduler:CreateSchedule",
                "scheduler:UpdateSchedule",
                "scheduler:DeleteSchedule",
                "scheduler:GetSchedule",
            ],
            "Effect": "Allow",
            "Resource": {"Fn::Join": ["", [
                "arn:", PARTITION, ":scheduler:", REGION, ":", ACCOUNT, ":schedule/",
                {"Ref": built.group_id}, "/sagemaker-rollout-*"]]},
        },
        "PassSchedulerRole": {
            "Action": "iam:PassRole",
            "Condition": {"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [built.scheduler_role_id, "Arn"]},
        },
        "LegacyPollingRules": {
            "Action": ["events:RemoveTargets", "events:DeleteRule"],
            "Effect": "Allow",
            "Resource": arn("events", "rule/sagemaker-rollout-*"),
        },
        "SageMakerEndpointConfigs": {
            "Action": [
                "sagemaker:CreateEndpoint",
                "sagemaker:UpdateEndpoint",
                "sagemaker:DescribeEndpointConfig",
            ],
            "Effect": "Allow",
            "Resource": arn("sagemaker", "endpoint-config/*"),
        },
        "CreateOwnedEndpoints": {
            "Action": "sagemaker:CreateEndpoint",
            "Condition": {"StringEquals": OWNER_IN_REQUEST},
            "Effect": "Allow",
            "Resource": endpoints_arn(),
        },
        "TagOwnedEndpointsOnCreate": {
            "Action": "sagemaker:AddTags",
            "Condition": {
                "StringEquals": {"sagemaker:TaggingAction": "CreateEndpoint", **OWNER_IN_REQUEST}
            },
            "Effect": "Allow",
            "Resource": endpoints_arn(),
        },
        "OwnedEndpoints": {
            "Action": [
                "sagemaker:DescribeEndpoint",
                "sagemaker:UpdateEndpoint",
                "sagemaker:DeleteEndpoint",
                "sagemaker:ListTags",
                "sagemaker:AddTags",
            ],
            "Condition": {"StringEquals": OWNER, "StringEqualsIfExists": OWNER_IN_REQUEST},
            "Effect": "Allow",
            "Resource": endpoints_arn(),
        },
        "OwnedEndpointTags": {
            "Action": "sagemaker:DeleteTags",
            "Condition": {
                "StringEquals": OWNER,
                "ForAllValues:StringNotEquals": {"aws:TagKeys": ["sagemaker-rollout:stack"]},
            },
            "Effect": "Allow",
            "Resource": endpoints_arn(),
        },
        "LegacyPollingPermission": {
            "Action": "lambda:RemovePermission",
            "Effect": "Allow",
            "Resource": function_arn,
        },
        "InvokeProvider": {
            "Action": "lambda:InvokeFunction",
            "Effect": "Allow",
            "Resource": function_arn,
        },
    }


def test_an_endpoint_without_tags_or_alarms_gets_exactly_the_common_statements(
    minimal: Built,
) -> None:
    expected = common_statements(minimal)
    assert {sid: _without_sid(s) for sid, s in minimal.statements.items()} == expected


def test_rollback_alarms_add_one_statement_on_the_alarms_of_the_account_and_region(
    full: Built,
) -> None:
    expected = common_statements(full)
    expected["RollbackAlarms"] = {
        "Action": "cloudwatch:DescribeAlarms",
        "Effect": "Allow",
        "Resource": {
            "Fn::Join": [
                "",
                ["arn:", PARTITION, ":cloudwatch:", REGION, ":", ACCOUNT, ":alarm:*"],
            ]
        },
    }
    assert {sid: _without_sid(s) for sid, s in full.statements.items()} == expected


def test_an_adopted_endpoint_adds_a_statement_on_its_own_lower_cased_arn() -> None:
    stack = new_stack()
    add_endpoint(stack, "Adopted", endpoint_name="Legacy-Endpoint", adopt_existing_endpoint=True)
    add_endpoint(stack, "Plain", endpoint_name="plain")
    built = Built(stack)
    assert _without_sid(built.statements["AdoptEndpoint1"]) == {
        "Action": ["sagemaker:DescribeEndpoint", "sagemaker:ListTags", "sagemaker:AddTags"],
        "Condition": {"StringEqualsIfExists": OWNER_IN_REQUEST},
        "Effect": "Allow",
        "Resource": arn("sagemaker", "endpoint/legacy-endpoint"),
    }
    assert set(built.statements) == {*common_statements(built), "AdoptEndpoint1"}


def _without_sid(statement: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in statement.items() if key != "Sid"}


@pytest.mark.parametrize("fixture", ["minimal", "full"])
def test_no_statement_has_a_wildcard_action(fixture: str, request: pytest.FixtureRequest) -> None:
    built: Built = request.getfixturevalue(fixture)
    for statement in built.statements.values():
        assert all("*" not in action for action in as_list(statement["Action"])), statement


@pytest.mark.parametrize("fixture", ["minimal", "full"])
def test_no_statement_has_resource_star(fixture: str, request: pytest.FixtureRequest) -> None:
    built: Built = request.getfixturevalue(fixture)
    for statement in built.statements.values():
        assert "*" not in as_list(statement["Resource"]), statement


def test_provider_role_has_no_managed_policy_and_only_lambda_may_assume_it(
    minimal: Built,
) -> None:
    roles = minimal.template.find_resources("AWS::IAM::Role")
    role = next(r for k, r in roles.items() if k != minimal.scheduler_role_id)
    assert "ManagedPolicyArns" not in role["Properties"]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
        }
    ]


def test_only_scheduler_of_the_stacks_own_account_may_assume_the_scheduler_role(
    minimal: Built,
) -> None:
    role = minimal.template.find_resources("AWS::IAM::Role")[minimal.scheduler_role_id]
    assert "ManagedPolicyArns" not in role["Properties"]
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
            "Effect": "Allow",
            "Principal": {"Service": "scheduler.amazonaws.com"},
        }
    ]


def test_one_rule_and_one_permission_per_stack_whatever_the_number_of_endpoints() -> None:
    """No per-request rule on the default bus, no per-request statement in the function's
    policy: what each stack deploys once (issue 11)."""
    stack = new_stack()
    for index in range(30):
        add_endpoint(stack, f"Endpoint{index}", endpoint_name=f"endpoint-{index}")
    template = Template.from_stack(stack)
    (rule,) = template.find_resources("AWS::Events::Rule").values()
    assert len(template.find_resources("AWS::Lambda::Permission")) == 1
    assert len(template.find_resources("AWS::Scheduler::ScheduleGroup")) == 1
    pattern = rule["Properties"]["EventPattern"]
    # Every SageMaker endpoint event of the account and Region: the handler keeps its own (by
    # the endpoint's request tag); naming the endpoints would cost a jsii round trip each.
    assert pattern == {"source": ["aws.sagemaker"], "detail-type": [
        "SageMaker Endpoint State Change", "SageMaker Endpoint Deployment State Change"]}


def test_custom_resource_waits_for_the_role_policy_with_the_endpoint_statements(
    minimal: Built,
) -> None:
    template = minimal.template.to_json()
    (default_policy,) = (
        logical_id
        for logical_id, resource in template["Resources"].items()
        if resource["Type"] == "AWS::IAM::Policy" and "DefaultPolicy" in logical_id
    )
    function = template["Resources"][minimal.function_id]
    assert default_policy in function["DependsOn"]


# --- log retention ---------------------------------------------------------------------------


def retention_of(stack: Stack) -> Any:
    (log_group,) = Template.from_stack(stack).find_resources("AWS::Logs::LogGroup").values()
    return log_group.get("Properties", {}).get("RetentionInDays")


def test_log_retention_can_be_set_after_the_endpoints_are_added() -> None:
    stack = new_stack()
    add_endpoint(stack, "Endpoint")
    RolloutProvider.of(stack).set_log_retention(logs.RetentionDays.ONE_YEAR)
    assert retention_of(stack) == 365


def test_infinite_log_retention_renders_no_retention() -> None:
    stack = new_stack()
    RolloutProvider.of(stack).set_log_retention(logs.RetentionDays.INFINITE)
    add_endpoint(stack, "Endpoint")
    assert retention_of(stack) is None


def test_the_same_log_retention_may_be_asked_twice() -> None:
    stack = new_stack()
    provider = RolloutProvider.of(stack)
    provider.set_log_retention(logs.RetentionDays.THREE_MONTHS)
    provider.set_log_retention(logs.RetentionDays.THREE_MONTHS)
    assert provider.log_retention == logs.RetentionDays.THREE_MONTHS


def test_two_different_log_retentions_in_one_stack_are_an_error() -> None:
    stack = new_stack()
    provider = RolloutProvider.of(stack)
    provider.set_log_retention(logs.RetentionDays.ONE_WEEK)
    with pytest.raises(ValueError, match=r"log retention ONE_YEAR .* ONE_WEEK was set already"):
        provider.set_log_retention(logs.RetentionDays.ONE_YEAR)


# --- after a first synth -----------------------------------------------------------------------


def test_endpoints_and_alarms_can_be_added_after_the_stack_was_synthesized() -> None:
    stack = new_stack()
    first = add_endpoint(stack, "First", endpoint_name="first")
    Template.from_stack(stack)  # freezes every policy statement rendered so far
    add_endpoint(stack, "Second", endpoint_name="second")
    add_endpoint(stack, "Adopted", endpoint_name="adopted", adopt_existing_endpoint=True)
    first.add_rollback_alarm(
        first.metric_invocation_5xx_errors().create_alarm(
            stack, "Errors", threshold=1, evaluation_periods=1
        )
    )
    # (A second synth of the modified tree is refused by CDK itself:
    # ConstructTreeModifiedAfterSynth.) The policy has the statements the additions need.
    document = stack.resolve(
        RolloutProvider.of(stack).role.node.find_child("DefaultPolicy").document  # type: ignore[attr-defined]
    )
    sids = {statement["Sid"] for statement in document["Statement"]}
    assert {"RollbackAlarms", "AdoptEndpoint1", "OwnedEndpoints"} <= sids
