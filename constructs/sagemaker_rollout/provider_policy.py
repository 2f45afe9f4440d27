"""The provider role's statements besides those on endpoints and alarms (endpoint_policy.py):
its logs, its wakes, the previous version's polling rules and the endpoint configs
(docs/security.md says why each is needed and how it is scoped)."""

from __future__ import annotations

from aws_cdk import Aws
from aws_cdk import aws_iam as iam

__all__ = [
    "endpoint_configs_statement",
    "legacy_polling_rules_statement",
    "logs_statement",
    "pass_scheduler_role_statement",
    "retained_configs_statement",
    "wakes_statement",
]


def logs_statement(log_group_arn: str) -> iam.PolicyStatement:
    """``Logs``: write to the provider's own log group (no AWS managed policy)."""
    return iam.PolicyStatement(
        sid="Logs",
        actions=["logs:CreateLogStream", "logs:PutLogEvents"],
        resources=[log_group_arn],
    )


def wakes_statement(schedules: str) -> iam.PolicyStatement:
    """``Wakes``: create, move, read and delete the stack's schedules (`schedules`: their ARN,
    by group and prefix)."""
    return iam.PolicyStatement(
        sid="Wakes",
        actions=[
            "scheduler:CreateSchedule",
            "scheduler:UpdateSchedule",
            "scheduler:DeleteSchedule",
            "scheduler:GetSchedule",
        ],
        resources=[schedules],
    )


def pass_scheduler_role_statement(scheduler_role_arn: str) -> iam.PolicyStatement:
    """``PassSchedulerRole``: hand Scheduler its execution role (only to Scheduler)."""
    return iam.PolicyStatement(
        sid="PassSchedulerRole",
        actions=["iam:PassRole"],
        resources=[scheduler_role_arn],
        conditions={"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
    )


def legacy_polling_rules_statement(polling_rules: str) -> iam.PolicyStatement:
    """``LegacyPollingRules``: remove the previous version's polling rules."""
    return iam.PolicyStatement(
        sid="LegacyPollingRules",
        actions=["events:RemoveTargets", "events:DeleteRule"],
        resources=[polling_rules],
    )


def endpoint_configs_statement(configs: str) -> iam.PolicyStatement:
    """``SageMakerEndpointConfigs``: UpdateEndpoint and CreateEndpoint are authorised against
    the endpoint-config ARN as well as the endpoint ARN. The configs are named by
    CloudFormation, in a format it does not document, and replaced on every change: see
    docs/security.md."""
    return iam.PolicyStatement(
        sid="SageMakerEndpointConfigs",
        actions=[
            "sagemaker:CreateEndpoint",
            "sagemaker:UpdateEndpoint",
            "sagemaker:DescribeEndpointConfig",
        ],
        resources=[configs],
    )


def retained_configs_statement(configs: str) -> iam.PolicyStatement:
    """``RetainedEndpointConfigs``: delete the EndpointConfigs CloudFormation retains in the
    WaitCondition mode, those of this stack only (CloudFormation tags every config it creates
    with ``aws:cloudformation:stack-id``)."""
    return iam.PolicyStatement(
        sid="RetainedEndpointConfigs",
        actions=["sagemaker:DeleteEndpointConfig"],
        resources=[configs],
        conditions={
            "StringEquals": {"aws:ResourceTag/aws:cloudformation:stack-id": Aws.STACK_ID}
        },
    )
