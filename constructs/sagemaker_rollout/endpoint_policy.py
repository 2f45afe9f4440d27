"""The provider's statements on SageMaker endpoints and rollback alarms (docs/security.md).

None names an endpoint or an alarm, so their size does not grow with the stack: the endpoint
statements name ``endpoint/*`` of the stack's account and Region and are conditioned on the
ownership tag ``sagemaker-rollout:stack`` = ``AWS::StackId`` (``contract.OWNER_TAG_KEY``), which
only this stack's provider writes; an adopted endpoint, which does not carry it yet, gets a
statement of its own for the claim.
"""

from __future__ import annotations

from aws_cdk import Aws
from aws_cdk import aws_iam as iam
from sagemaker_rollout_handler.contract import OWNER_TAG_KEY


def owned_endpoint_statements(endpoint_arns: str) -> list[iam.PolicyStatement]:
    """The statements on this stack's endpoints: every one conditioned on the ownership tag.

    :param endpoint_arns: ``arn:...:sagemaker:<region>:<account>:endpoint`` (no ``/name``).
    """
    every_endpoint = f"{endpoint_arns}/*"
    owner = {f"aws:ResourceTag/{OWNER_TAG_KEY}": Aws.STACK_ID}
    owner_in_request = {f"aws:RequestTag/{OWNER_TAG_KEY}": Aws.STACK_ID}
    return [
        iam.PolicyStatement(
            sid="CreateOwnedEndpoints",
            actions=["sagemaker:CreateEndpoint"],
            resources=[every_endpoint],
            conditions={"StringEquals": owner_in_request},
        ),
        # CreateEndpoint with Tags needs AddTags too (Service Authorization Reference: a
        # dependent action), with sagemaker:TaggingAction naming the creating call.
        iam.PolicyStatement(
            sid="TagOwnedEndpointsOnCreate",
            actions=["sagemaker:AddTags"],
            resources=[every_endpoint],
            conditions={
                "StringEquals": {"sagemaker:TaggingAction": "CreateEndpoint", **owner_in_request}
            },
        ),
        iam.PolicyStatement(
            sid="OwnedEndpoints",
            actions=[
                "sagemaker:DescribeEndpoint",
                "sagemaker:UpdateEndpoint",
                "sagemaker:DeleteEndpoint",
                "sagemaker:ListTags",
                # The stack's tags (kept in sync on update) and the handler's request tag.
                "sagemaker:AddTags",
            ],
            resources=[every_endpoint],
            # ...IfExists: only AddTags carries request tags; it may not re-tag the endpoint
            # as another stack's.
            conditions={"StringEquals": owner, "StringEqualsIfExists": owner_in_request},
        ),
        iam.PolicyStatement(
            sid="OwnedEndpointTags",
            actions=["sagemaker:DeleteTags"],
            resources=[every_endpoint],
            conditions={
                "StringEquals": owner,
                "ForAllValues:StringNotEquals": {"aws:TagKeys": [OWNER_TAG_KEY]},
            },
        ),
    ]


def adopt_statement(sid: str, endpoint_arn: str) -> iam.PolicyStatement:
    """What claiming one existing endpoint needs: it does not carry the ownership tag yet."""
    return iam.PolicyStatement(
        sid=sid,
        actions=["sagemaker:DescribeEndpoint", "sagemaker:ListTags", "sagemaker:AddTags"],
        resources=[endpoint_arn],
        conditions={
            "StringEqualsIfExists": {f"aws:RequestTag/{OWNER_TAG_KEY}": Aws.STACK_ID}
        },
    )


def alarms_statement(alarms_arn: str) -> iam.PolicyStatement:
    """DescribeAlarms on the account's and Region's alarms (``alarm:*``): SageMaker reads the
    rollback alarms with the caller's permissions; alarm names are not the construct's to
    prefix, and exact ARNs would grow with every alarm."""
    return iam.PolicyStatement(
        sid="RollbackAlarms", actions=["cloudwatch:DescribeAlarms"], resources=[alarms_arn]
    )
