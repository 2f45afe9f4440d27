"""IAM's size limits, checked at synth on every policy the provider's role gets.

IAM quotas page ("IAM and AWS STS quotas"): a managed policy holds at most 6,144 characters, the
inline policies of a role 10,240 in all, whitespace not counted; a role has at most 10 managed
policies attached by default. CDK moves whole statements of a role's default policy into
``OverflowPolicyN`` managed policies when it grows too large, but never splits one statement, so
a template can pass synth and still fail at deploy with CREATE_FAILED on a policy. This module
measures what CloudFormation will send to IAM, before any deploy.

Values CloudFormation substitutes at deploy time are counted at their longest (or at their value
when the stack knows it): the measure is an upper bound, never an underestimate.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import jsii
from aws_cdk import Stack, Token
from aws_cdk import aws_iam as iam

from constructs import IConstruct, IValidation

from .rules import Rule, refusal

#: All inline policies of one role, together (IAM quotas: "Role policy size").
INLINE_POLICIES_LIMIT = 10_240
#: One managed policy (IAM quotas: "Managed policy size").
MANAGED_POLICY_LIMIT = 6_144
#: Managed policies attached to one role: 10 by default (a quota increase allows 20).
MANAGED_POLICIES_PER_ROLE = 10

#: The longest value of each pseudo parameter: aws-us-gov / aws-iso-b partitions, Regions such
#: as ap-southeast-5 (14) with room, 12-digit accounts, stack names of up to 128 characters.
_PSEUDO_LENGTHS = {
    "AWS::Partition": 10,
    "AWS::Region": 16,
    "AWS::AccountId": 12,
    "AWS::StackName": 128,
    "AWS::URLSuffix": 16,
    "AWS::NoValue": 0,
}
#: A stack id is arn:<partition>:cloudformation:<region>:<account>:stack/<name>/<uuid of 36>.
_STACK_ID_FIXED = len("arn::cloudformation:::stack//") + 36
#: Any other reference (a resource's Ref or attribute, an import): an ARN of a generous length.
_REFERENCE_LENGTH = 256


@dataclass(frozen=True)
class MeasuredPolicy:
    """One policy of the role, as IAM counts it."""

    path: str
    managed: bool
    characters: int


class PolicyMeasure:
    """Measures policy documents of one stack as IAM counts them."""

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self._lengths = dict(_PSEUDO_LENGTHS)
        for name, value in (("AWS::Region", stack.region), ("AWS::AccountId", stack.account),
                            ("AWS::StackName", stack.stack_name)):
            if not Token.is_unresolved(value):
                self._lengths[name] = len(value)
        self._lengths["AWS::StackId"] = (
            _STACK_ID_FIXED
            + self._lengths["AWS::Partition"]
            + self._lengths["AWS::Region"]
            + self._lengths["AWS::AccountId"]
            + self._lengths["AWS::StackName"]
        )

    def characters(self, document: Any) -> int:
        """The length of a policy document (or of a part of one) without whitespace, tokens
        counted at their longest."""
        text = json.dumps(self._estimate(self._stack.resolve(document)), separators=(",", ":"))
        return sum(1 for char in text if not char.isspace())

    def _estimate(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self._estimate(item) for item in value]
        if not isinstance(value, dict):
            return value
        if "Ref" in value:
            return "x" * self._lengths.get(str(value["Ref"]), _REFERENCE_LENGTH)
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            estimated = [self._estimate(part) for part in parts]
            return str(separator).join(
                part if isinstance(part, str) else "x" * _REFERENCE_LENGTH for part in estimated
            )
        if any(key.startswith("Fn::") for key in value):
            return "x" * _REFERENCE_LENGTH
        return {key: self._estimate(item) for key, item in value.items()}


def role_policies(role: iam.Role, extra: Sequence[iam.Policy]) -> list[tuple[str, bool, Any]]:
    """(path, managed?, document) of the role's default and overflow policies and `extra`."""
    found: list[tuple[str, bool, Any]] = []
    for child in role.node.find_all():
        if isinstance(child, iam.CfnPolicy):
            found.append((child.node.path, False, child.policy_document))
        elif isinstance(child, iam.CfnManagedPolicy):
            found.append((child.node.path, True, child.policy_document))
    for policy in extra:
        found.append((policy.node.path, False, policy.document))
    return found


def measure(scope: IConstruct, policies: Sequence[tuple[str, bool, Any]]) -> list[MeasuredPolicy]:
    measure_ = PolicyMeasure(Stack.of(scope))
    return [MeasuredPolicy(path, managed, measure_.characters(document))
            for path, managed, document in policies]


@dataclass(frozen=True)
class GrowthPerItem:
    """What one more of something adds to the inline policies: to tell how many fit."""

    what: str
    count: int
    #: The most one of them adds.
    characters_each: int
    #: What all of them add together.
    characters_total: int


def limit_refusals(
    measured: Sequence[MeasuredPolicy],
    growth: Callable[[], Sequence[GrowthPerItem]] = tuple,
) -> list[str]:
    """One refusal naming every IAM limit the measured policies break, and how many fit."""
    problems: list[str] = []
    inline = [policy for policy in measured if not policy.managed]
    managed = [policy for policy in measured if policy.managed]
    total = sum(policy.characters for policy in inline)
    if total > INLINE_POLICIES_LIMIT:
        problems.append(
            f"its inline policies ({', '.join(p.path for p in inline)}) are {total:,} characters; "
            f"the limit is {INLINE_POLICIES_LIMIT:,} for all inline policies of a role")
    problems.extend(
        f"managed policy {policy.path} is {policy.characters:,} characters; the limit is "
        f"{MANAGED_POLICY_LIMIT:,} per managed policy (CDK never splits one statement)"
        for policy in managed
        if policy.characters > MANAGED_POLICY_LIMIT
    )
    if len(managed) > MANAGED_POLICIES_PER_ROLE:
        problems.append(
            f"it has {len(managed)} managed policies (CDK's overflow of its default policy); the "
            f"limit is {MANAGED_POLICIES_PER_ROLE} per role by default")
    if not problems:
        return []
    everything = sum(policy.characters for policy in measured)
    return [refusal(
        Rule.IAM_POLICY_SIZE,
        "the provider role's policies do not fit IAM's limits (IAM quotas; counted as IAM "
        "counts them, without whitespace, values known only at deploy at their longest): "
        f"{'; '.join(problems)}. {_fit(growth(), everything)}")]


def _fit(growth: Sequence[GrowthPerItem], size: int) -> str:
    """Which of the stack's items make the policies grow, and how many of them fit in the
    role's inline policies (where CDK puts every statement until it overflows)."""
    parts = []
    for item in growth:
        if item.count and item.characters_each:
            base = size - item.characters_total
            fitting = max(0, (INLINE_POLICIES_LIMIT - base) // item.characters_each)
            parts.append(f"each {item.what} adds about {item.characters_each} characters: "
                         f"{fitting} fit, this stack has {item.count}")
    grows = "; ".join(parts) if parts else "none of this stack's endpoints adds to them"
    return (
        "Endpoints and rollback alarms add nothing to the provider's policies, but "
        f"{grows}. Fix: split the endpoints over more stacks, or remove statements added to "
        "the provider's role (kms_key grants of distinct keys, your own add_to_policy)."
    )


@jsii.implements(IValidation)
class RolePolicyLimits:
    """The synth-time check of a role's policies against IAM's limits (``node.add_validation``).

    :param role: the role whose default and overflow policies are measured.
    :param extra: other inline policies of the role.
    :param growth: what makes the policies grow, for the "how many fit" of the message.
    """

    def __init__(
        self,
        role: iam.Role,
        extra: Sequence[iam.Policy],
        growth: Callable[[], Sequence[GrowthPerItem]],
    ) -> None:
        self._role = role
        self._extra = list(extra)
        self._growth = growth

    def validate(self) -> list[str]:
        measured = measure(self._role, role_policies(self._role, self._extra))
        return limit_refusals(measured, self._growth)


def statement_sizes(role: iam.Role) -> dict[str, int]:
    """What each statement with a Sid adds to the role's policies, as IAM counts it (its comma
    included), wherever CDK put it (default or overflow policy)."""
    measure_ = PolicyMeasure(Stack.of(role))
    sizes: dict[str, int] = {}
    for _, _, document in role_policies(role, ()):
        for statement in _statements(Stack.of(role).resolve(document)):
            if isinstance(statement, dict) and "Sid" in statement:
                sizes[str(statement["Sid"])] = measure_.characters(statement) + 1
    return sizes


def _statements(document: Any) -> list[Any]:
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    return statements if isinstance(statements, list) else [statements]
