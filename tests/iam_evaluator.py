"""A small evaluator of IAM identity policies, for the tests of the provider's policy.

It answers "would this role be allowed to make this request?" for the statements the construct
renders, conditions included, the way IAM's policy evaluation logic documents it (IAM User
Guide, "Policy evaluation logic"; "IAM JSON policy elements: Condition operators"): an explicit
Deny wins, else any matching Allow allows, else the request is denied. An action authorised
against several resources (CreateEndpoint and UpdateEndpoint: the endpoint and the endpoint
config) is allowed only if every resource is. Only what the construct's policies use is
modelled; anything else (another operator, an unknown intrinsic) raises, so a new construct in a
policy fails the tests instead of being judged wrongly.

Intrinsics are resolved with the concrete values of a `Deployment` (partition, region,
account, stack id), as CloudFormation would resolve them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Deployment:
    """The values CloudFormation substitutes for the template's pseudo parameters."""

    partition: str = "aws"
    region: str = "eu-west-1"
    account: str = "123456789012"
    stack_name: str = "Platform"
    stack_uuid: str = "5b0d2e40-1f2a-11ef-9c1d-0a1b2c3d4e5f"

    @property
    def stack_id(self) -> str:
        return (
            f"arn:{self.partition}:cloudformation:{self.region}:{self.account}:stack/"
            f"{self.stack_name}/{self.stack_uuid}"
        )

    def arn(self, service: str, resource: str) -> str:
        return f"arn:{self.partition}:{service}:{self.region}:{self.account}:{resource}"

    def resolve(self, value: Any) -> Any:
        """`value` with every intrinsic function replaced by what CloudFormation makes of it."""
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if "Ref" in value:
            return self._ref(value["Ref"])
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return separator.join(str(self.resolve(part)) for part in parts)
        if "Fn::GetAtt" in value:
            logical_id, attribute = value["Fn::GetAtt"]
            where = f"{self.partition}:getatt:{self.region}:{self.account}"
            return f"arn:{where}:{logical_id}.{attribute}"
            return f"arn:{where}:{logical_id}.{attribute}"
        if any(key.startswith("Fn::") for key in value):
            raise NotImplementedError(f"intrinsic not modelled: {value}")
        return {key: self.resolve(item) for key, item in value.items()}

    def _ref(self, name: str) -> str:
        pseudo = {
            "AWS::Partition": self.partition,
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::StackId": self.stack_id,
            "AWS::StackName": self.stack_name,
            "AWS::URLSuffix": "amazonaws.com",
        }
        if name in pseudo:
            return pseudo[name]
        return f"physical-id-of-{name}"


@dataclass(frozen=True)
class Resource:
    """A resource a request is authorised against, with its tags (`aws:ResourceTag/...`)."""

    arn: str
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    """One API call: its action, the resources it is authorised against, its request context."""

    action: str
    resources: Sequence[Resource]
    #: Tags in the request (`aws:RequestTag/...`, and their keys as `aws:TagKeys`).
    request_tags: Mapping[str, str] = field(default_factory=dict)
    #: Tag keys of a request that carries keys only (DeleteTags): `aws:TagKeys`.
    tag_keys: Sequence[str] | None = None
    #: Other context keys, e.g. `sagemaker:TaggingAction`.
    context: Mapping[str, str | Sequence[str]] = field(default_factory=dict)

    def context_for(self, resource: Resource) -> dict[str, str | Sequence[str]]:
        keys: dict[str, str | Sequence[str]] = dict(self.context)
        for key, value in resource.tags.items():
            keys[f"aws:ResourceTag/{key}"] = value
        for key, value in self.request_tags.items():
            keys[f"aws:RequestTag/{key}"] = value
        tag_keys = self.tag_keys if self.tag_keys is not None else list(self.request_tags)
        if tag_keys:
            keys["aws:TagKeys"] = list(tag_keys)
        return keys


class Policy:
    """The statements of every policy of a role, resolved for one deployment."""

    def __init__(self, documents: Sequence[Mapping[str, Any]], deployment: Deployment) -> None:
        self.statements: list[dict[str, Any]] = []
        for document in documents:
            resolved = deployment.resolve(document)
            self.statements.extend(_as_list(resolved["Statement"]))

    def allows(self, request: Request) -> bool:
        return all(self._allows_one(request, resource) for resource in request.resources)

    def _allows_one(self, request: Request, resource: Resource) -> bool:
        context = request.context_for(resource)
        matching = [
            statement
            for statement in self.statements
            if _matches(statement, request.action, resource.arn, context)
        ]
        if any(statement["Effect"] == "Deny" for statement in matching):
            return False
        return any(statement["Effect"] == "Allow" for statement in matching)


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _glob(pattern: str, value: str, *, case_sensitive: bool) -> bool:
    """IAM's wildcards: `*` any run of characters, `?` one character."""
    regex = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern
    )
    flags = 0 if case_sensitive else re.IGNORECASE
    return re.fullmatch(regex, value, flags) is not None


def _matches(
    statement: Mapping[str, Any], action: str, arn: str, context: Mapping[str, Any]
) -> bool:
    if "NotAction" in statement or "NotResource" in statement or "Principal" in statement:
        raise NotImplementedError(f"statement element not modelled: {statement}")
    actions = _as_list(statement["Action"])
    if not any(_glob(pattern, action, case_sensitive=False) for pattern in actions):
        return False
    resources = _as_list(statement["Resource"])
    if not any(_glob(pattern, arn, case_sensitive=True) for pattern in resources):
        return False
    return all(
        _condition(operator, key, _as_list(expected), context)
        for operator, block in statement.get("Condition", {}).items()
        for key, expected in block.items()
    )


def _condition(operator: str, key: str, expected: list[Any], context: Mapping[str, Any]) -> bool:
    """One condition key of one operator block (IAM: the values of a key are OR-ed)."""
    present = key in context
    if operator == "Null":
        wanted_absent = str(expected[0]).lower() == "true"
        return present != wanted_absent
    qualifier, _, base = operator.rpartition(":")
    if_exists = base.endswith("IfExists")
    base = base.removesuffix("IfExists")
    test = _string_test(base)
    if not present:
        # A missing key: ForAllValues holds (nothing to check), IfExists holds, others fail.
        return qualifier == "ForAllValues" or if_exists
    values = _as_list(context[key])
    if qualifier == "ForAllValues":
        return all(test(value, expected) for value in values)
    if qualifier == "ForAnyValue":
        return any(test(value, expected) for value in values)
    if qualifier:
        raise NotImplementedError(f"condition qualifier not modelled: {operator}")
    if len(values) != 1:
        raise NotImplementedError(f"multi-valued key {key} needs ForAllValues/ForAnyValue")
    return test(values[0], expected)


def _string_test(operator: str) -> Any:
    positive = {
        "StringEquals": lambda value, pattern: value == pattern,
        "StringLike": lambda value, pattern: _glob(pattern, value, case_sensitive=True),
    }
    if operator in positive:
        one = positive[operator]
        return lambda value, expected: any(one(value, str(item)) for item in expected)
    negative = {"StringNotEquals": "StringEquals", "StringNotLike": "StringLike"}
    if operator in negative:
        one = positive[negative[operator]]
        return lambda value, expected: not any(one(value, str(item)) for item in expected)
    raise NotImplementedError(f"condition operator not modelled: {operator}")
