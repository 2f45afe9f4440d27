"""The cdk-nag findings the provider acknowledges on its own resources, each with its reason
(docs/security.md): the resource wildcards its role's policy must have, and its runtime."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Stack, Validations
from sagemaker_rollout_handler.contract import SCHEDULE_NAME_PREFIX

from constructs import Construct, IConstruct

__all__ = ["acknowledge_alarms", "acknowledge_runtime", "acknowledge_wildcards"]

#: The cdk-nag pack whose findings the provider acknowledges on its own resources.
_NAG_PACK = "AwsSolutions"

_ALARMS_REASON = (
    "cloudwatch:DescribeAlarms on the alarms of this account and region: SageMaker reads the "
    "rollback alarms with the caller's permissions; exact alarm ARNs would make the policy grow "
    "with every alarm past IAM's size limits, alarm names are not the construct's to prefix, "
    "and the action only reads (docs/security.md, RollbackAlarms)."
)
_RUNTIME_REASON = (
    "Python 3.12 on purpose: crhelper 2.0.12, bundled into this function, is in maintenance and "
    "verified on 3.12; later runtimes are not verified with it."
)


def acknowledge_wildcards(
    scope: Construct,
    policy: IConstruct,
    *,
    polling_rules: str,
    schedule_group_ref: str,
    endpoint_arns: str,
) -> None:
    """Acknowledge, on the role's policy only, the resource wildcards it must have."""
    stack = Stack.of(scope)
    schedules = stack.format_arn(
        service="scheduler",
        resource="schedule",
        resource_name=f"{schedule_group_ref}/{SCHEDULE_NAME_PREFIX}*",
    )
    for arn, reason in (
        (
            polling_rules,
            "the previous version's crhelper polling rules (sagemaker-rollout-<hash of the "
            "stack id, logical id and request id>) are only removed, by a wait of that "
            "version still in flight; scoped by their name prefix (docs/waiting.md).",
        ),
        (
            schedules,
            "each waiting request has one schedule sagemaker-rollout-<hash of the endpoint>-"
            "<hash of the request> in the stack's own schedule group; the request ids are "
            "known only at run time, so the schedules are scoped by group and prefix.",
        ),
        (
            f"{endpoint_arns}/*",
            "The endpoint statements name endpoint/* of this account and region, each "
            "conditioned on the ownership tag sagemaker-rollout:stack = this stack's id "
            "(aws:ResourceTag; aws:RequestTag on CreateEndpoint): the stack's endpoints under "
            "any name they had, at a size that does not grow with their number "
            "(docs/security.md).",
        ),
        (
            stack.format_arn(
                service="sagemaker", resource="endpoint-config", resource_name="*"
            ),
            "CreateEndpoint/UpdateEndpoint are authorised against the endpoint-config ARN "
            "too; CloudFormation names each new config in an undocumented format, so configs "
            "are scoped to this account and region; CreateEndpoint/UpdateEndpoint also need "
            "the endpoint, which only this stack's ownership tag opens (docs/security.md).",
        ),
    ):
        Validations.of(policy).acknowledge(
            Acknowledgment(
                id=f"{_NAG_PACK}::{_NAG_PACK}-IAM5[Resource::{_nag_arn(scope, arn)}]",
                reason=reason,
            )
        )


def acknowledge_alarms(scope: Construct, policy: IConstruct, alarms: str) -> None:
    """Acknowledge, on the role's policy, the alarms wildcard of ``RollbackAlarms``."""
    Validations.of(policy).acknowledge(
        Acknowledgment(
            id=f"{_NAG_PACK}::{_NAG_PACK}-IAM5[Resource::{_nag_arn(scope, alarms)}]",
            reason=_ALARMS_REASON,
        )
    )


def acknowledge_runtime(function: IConstruct) -> None:
    """Acknowledge AwsSolutions-L1 ("latest runtime") on the provider's function."""
    Validations.of(function).acknowledge(
        Acknowledgment(id=f"{_NAG_PACK}::{_NAG_PACK}-L1", reason=_RUNTIME_REASON)
    )


def _nag_arn(scope: Construct, arn: str) -> str:
    """An ARN made by ``format_arn`` as cdk-nag spells it in its finding ids: pseudo parameters
    and other references in angle brackets (``arn:<AWS::Partition>:events:<AWS::Region>:...``)."""
    resolved = Stack.of(scope).resolve(arn)
    if isinstance(resolved, str):
        return resolved
    separator, parts = resolved["Fn::Join"]
    words: list[str] = []
    for part in parts:
        if isinstance(part, str):
            words.append(part)
        elif "Ref" in part:
            words.append(f"<{part['Ref']}>")
        else:
            logical_id, attribute = part["Fn::GetAtt"]
            words.append(f"<{logical_id}.{attribute}>")
    return str(separator).join(words)
