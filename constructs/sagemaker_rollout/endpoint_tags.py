"""The endpoint's tags: the ``tags`` prop, ``Tags.of(...)`` and the ownership tag.

CloudFormation does not propagate stack tags to what a custom resource creates, so the endpoint
gets its tags from the custom resource's ``Tags`` property, rendered by a ``TagManager`` as
aws-cdk-lib's own resources do: ``Tags.of(app | stack | construct).add(...)`` reaches it with
CDK's precedence rules (priorities, the nearer ``add`` wins at equal priority,
``include_resource_types`` / ``exclude_resource_types`` with ``Custom::SageMakerEndpointRollout``,
``Tags.of(...).remove``). The ``tags`` prop are the manager's initial tags (CDK's priority for
them; a ``Tags.of`` of the same key overrides them, as on any L1).

The ownership tag (``contract.OWNER_TAG_KEY`` = the stack id) is set at a priority no aspect
reaches: the provider's policy depends on it. A change of tags only changes the ``Tags`` property,
which the handler syncs without a deployment.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

import jsii
from aws_cdk import Aws, IResolvable, Stack, TagManager, TagType
from sagemaker_rollout_handler.contract import (
    MAX_USER_TAGS,
    OWNER_TAG_KEY,
    RESERVED_TAG_PREFIX,
)

from constructs import IConstruct, IValidation

from .rules import Rule, refusal

#: Above any priority ``Tags.of(...).add/remove`` is given in practice (their defaults: 100, 200).
OWNER_TAG_PRIORITY = 1_000_000


class EndpointTags:
    """The ``TagManager`` of one endpoint, with its ownership tag."""

    def __init__(self, resource_type: str, tags: Mapping[str, str] | None) -> None:
        self.manager = TagManager(
            TagType.KEY_VALUE, resource_type, dict(tags or {}), tag_property_name="Tags"
        )
        self.manager.set_tag(OWNER_TAG_KEY, _stack_id(), OWNER_TAG_PRIORITY)
        #: The ``Tags`` property: ``[{Key, Value}]`` sorted by key, resolved at synth.
        self.rendered: IResolvable = self.manager.rendered_tags


@functools.cache
def _stack_id() -> str:
    """``AWS::StackId`` as a token (one jsii round trip, once)."""
    return Aws.STACK_ID


@jsii.implements(IValidation)
class TagLimits:
    """Every endpoint's tags in one stack, once every ``Tags.of`` has been applied (aspects run
    before validation): one callback and one resolve for the whole stack, not per endpoint."""

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self._endpoints: list[tuple[IConstruct, IResolvable]] = []

    def add(self, endpoint: IConstruct, tags: EndpointTags) -> None:
        self._endpoints.append((endpoint, tags.rendered))

    def validate(self) -> list[str]:
        if not self._endpoints:
            return []
        rendered = self._stack.resolve([tags for _, tags in self._endpoints])
        errors: list[str] = []
        for (endpoint, _), pairs in zip(self._endpoints, rendered, strict=True):
            keys = [str(pair["Key"]) for pair in pairs or [] if pair["Key"] != OWNER_TAG_KEY]
            errors.extend(_refusals(endpoint, keys))
        return errors


def _refusals(endpoint: IConstruct, keys: list[str]) -> list[str]:
    errors = []
    reserved = sorted(key for key in keys if key.startswith(RESERVED_TAG_PREFIX))
    if reserved:
        errors.append(refusal(
            Rule.ENDPOINT_TAGS,
            f"endpoint {endpoint.node.path} has the tag key(s) {', '.join(reserved)} (from tags= "
            f"or Tags.of(...).add); keys starting with {RESERVED_TAG_PREFIX!r} are reserved for "
            "the rollout handler's request and ownership tags. Fix: rename the key(s)."))
    if len(keys) > MAX_USER_TAGS:
        errors.append(refusal(
            Rule.ENDPOINT_TAGS,
            f"endpoint {endpoint.node.path} has {len(keys)} tags from tags= and Tags.of(...).add; "
            f"the limit is {MAX_USER_TAGS} (SageMaker's 50 per endpoint, less the handler's "
            f"request and ownership tags). Fix: drop {len(keys) - MAX_USER_TAGS} of them, or keep "
            "a Tags.of(...).add off the endpoint with exclude_resource_types="
            "['Custom::SageMakerEndpointRollout']."))
    return errors
