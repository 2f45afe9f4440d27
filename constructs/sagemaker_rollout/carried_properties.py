"""The custom resource's properties as a wait carries them, checked at synth: what the construct
accepts can be waited for (rule ``properties-fit-wait``).

The handler carries the CloudFormation request from one invocation to the next in the input of
an EventBridge Scheduler wake (the handler's ``state.carried_request``), next to CloudFormation's
presigned ResponseURL and its own state. The request's ResourceProperties, tags included (a
Failed endpoint being recreated is created in a later wake), may take
``contract.CARRIED_PROPERTIES_LIMIT`` characters, measured by ``contract.carried_size`` as the
handler writes them; the contract derives that limit from the wake's limit, a real ResponseURL's
length and what the request's ids and state take at their longest.

A token is counted at the longest value it can stand for (``TOKEN_LENGTHS``). The check runs once
per stack, for every endpoint in it: one callback and one resolve at synth, whatever the number of
endpoints (``tests/test_construct_synth_cost.py``). The limit holds in any stack
(``CARRIED_PROPERTIES_LIMIT``: the longest stack name and logical id); only properties above it
cost the round trips to learn the stack's name and the resource's logical id, whose room is
then theirs (``contract.carried_properties_limit``).
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Callable, Iterator
from typing import Any

import jsii
from aws_cdk import CfnResource, Stack
from sagemaker_rollout_handler.contract import (
    CARRIED_PROPERTIES_LIMIT,
    ENDPOINT_NAME_MAX_LENGTH,
    MAX_LOGICAL_ID_LENGTH,
    MAX_STACK_NAME_LENGTH,
    RESERVED_TAG_PREFIX,
    RESPONSE_URL_LENGTH,
    WAKE_INPUT_LIMIT,
    carried_properties_limit,
    carried_size,
)

from constructs import Construct, IConstruct, IValidation

from .rules import Rule, refuse

#: The longest value a token can stand for, by the property key it is the value of.
TOKEN_LENGTHS = {
    # A Lambda function's ARN (Lambda API reference, Invoke: FunctionName 1..140 characters as a
    # full ARN).
    "ServiceToken": 140,
    # The botocore SageMaker model: EndpointName and EndpointConfigName patterns, 1..63.
    "EndpointName": ENDPOINT_NAME_MAX_LENGTH,
    "EndpointConfigName": ENDPOINT_NAME_MAX_LENGTH,
    # CloudWatch PutMetricAlarm: AlarmName 1..255.
    "AlarmName": 255,
    # The WaitCondition handle's presigned S3 URL, as long as a ResponseURL (the handler carries
    # it in the wait's state instead of the properties: the same characters).
    "WaitHandle": RESPONSE_URL_LENGTH,
    # The botocore SageMaker model, Tag: Key 1..128, Value 0..256.
    "Key": 128,
    "Value": 256,
}
#: Pseudo parameters by their longest: a StackId with a 128-character stack name in the longest
#: partition and Region (the ownership tag's value).
PSEUDO_PARAMETER_LENGTHS = {
    "AWS::StackId": len("arn:aws-us-gov:cloudformation:us-gov-west-1:123456789012:stack/")
    + 128 + len("/") + 36,
}
#: Any other token (no other property of the construct is one today).
DEFAULT_TOKEN_LENGTH = 256

#: The properties of an endpoint's custom resource as CloudFormation sends them, overrides
#: included; called at synth.
PropertiesSource = Callable[[], dict[str, Any]]
#: The lengths of the stack's name and of the custom resource's logical id (round trips to
#: jsii: called only for properties above ``CARRIED_PROPERTIES_LIMIT``). A token counts as the
#: longest name.
NamesSource = Callable[[], tuple[int, int]]


def as_sent(value: Any, key: str = "") -> Any:
    """``value`` resolved (``Stack.resolve``) as the handler receives it: every scalar a string
    (CloudFormation's custom resource requests), every intrinsic the longest value it can be."""
    if isinstance(value, dict):
        intrinsic = any(k == "Ref" or k.startswith("Fn::") for k in value)
        if intrinsic and len(value) == 1:
            length = PSEUDO_PARAMETER_LENGTHS.get(str(value.get("Ref")))
            return "x" * (length or TOKEN_LENGTHS.get(key, DEFAULT_TOKEN_LENGTH))
        return {k: as_sent(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [as_sent(item, key) for item in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def refusal(endpoint: IConstruct, properties: dict[str, Any], names: NamesSource
            ) -> str | None:
    """The refusal of ``endpoint`` whose properties (``as_sent``) a wake cannot carry, with a
    fix: the fewest tags whose removal makes them fit, or by how much the rollback alarms' names
    must shrink. None when they fit (and then, below ``CARRIED_PROPERTIES_LIMIT``, no round trip
    to jsii: not even the names)."""
    size = carried_size(properties)
    if size <= CARRIED_PROPERTIES_LIMIT:
        return None
    stack_name_length, logical_id_length = names()
    limit = carried_properties_limit(stack_name_length=stack_name_length,
                                     logical_id_length=logical_id_length)
    over = size - limit
    if over <= 0:
        return None
    tags = properties.get("Tags") or []
    alarms = (properties.get("DeploymentConfig") or {}).get(
        "AutoRollbackConfiguration", {}).get("Alarms", [])
    tag_size = carried_size(tags) if tags else 0
    alarm_size = carried_size(alarms) if alarms else 0
    return refuse(
        Rule.PROPERTIES_FIT_WAIT, f"the tags and properties of endpoint {endpoint.node.path}",
        f"{size} characters as a wait carries them (tags {tag_size}, rollback alarm names "
        f"{alarm_size}, the rest {size - tag_size - alarm_size}; a token counted at its longest)",
        f"{limit} characters (a wake carries {WAKE_INPUT_LIMIT}: {RESPONSE_URL_LENGTH} are "
        f"CloudFormation's ResponseURL, {limit_rest(limit)} the request's ids, with this stack's "
        "name and this resource's logical id, and the wait's state)",
        _fix(over, tags, alarm_size),
    )


def limit_rest(limit: int) -> int:
    """What the rest of the wake may take beside properties of ``limit``."""
    return WAKE_INPUT_LIMIT - RESPONSE_URL_LENGTH - limit


def _fix(over: int, tags: list[dict[str, str]], alarm_size: int) -> str:
    dropped = list(_largest_first(tags, over))
    saved = sum(carried_size(tag) + 1 for tag in dropped)
    if saved >= over:
        keys = ", ".join(repr(tag["Key"]) for tag in dropped)
        return (f"drop the tag(s) {keys} ({saved} characters), or shorten keys and values by "
                f"{over} characters in all.")
    fix = f"shorten the rollback alarms' names by {over - saved} characters in all"
    if alarm_size < over - saved:
        fix = f"shorten endpoint_name and the rollback alarms' names by {over - saved} in all"
    return f"drop every tag of yours ({saved} characters) and {fix}." if dropped else f"{fix}."


def _largest_first(tags: list[dict[str, str]], over: int) -> Iterator[dict[str, str]]:
    """The largest of the user's tags (not the handler's own), until their removal saves
    ``over`` characters (or all of them)."""
    saved = 0
    users = [tag for tag in tags if not str(tag["Key"]).startswith(RESERVED_TAG_PREFIX)]
    for tag in sorted(users, key=carried_size, reverse=True):
        if saved >= over:
            return
        saved += carried_size(tag) + 1  # its comma
        yield tag


@jsii.implements(IValidation)
class CarriedProperties:
    """Every endpoint of one stack, checked at synth (``node.add_validation`` of the stack's
    provider), once aspects (``Tags.of``) and overrides (``add_rollback_alarm``) have applied."""

    @staticmethod
    def of(provider: Construct) -> CarriedProperties:
        """The check of the stack of ``provider`` (its RolloutProvider), added on first use."""
        known = _BY_PROVIDER.get(provider)
        if known is None:
            known = CarriedProperties(Stack.of(provider))
            provider.node.add_validation(known)
            _BY_PROVIDER[provider] = known
        return known

    def __init__(self, stack: Stack) -> None:
        self._stack = stack
        self._endpoints: list[tuple[IConstruct, PropertiesSource, Callable[[], CfnResource]]] = []

    def add(self, endpoint: IConstruct, properties: PropertiesSource,
            resource: Callable[[], CfnResource]) -> None:
        """``resource``: the endpoint's custom resource, asked for only when its logical id is
        needed."""
        self._endpoints.append((endpoint, properties, resource))

    def validate(self) -> list[str]:
        resolved = self._stack.resolve([properties() for _, properties, _ in self._endpoints])
        errors = []
        for (endpoint, _, resource), properties in zip(self._endpoints, resolved, strict=True):
            refused = refusal(endpoint, as_sent(properties), functools.partial(self._names,
                                                                               resource))
            if refused is not None:
                errors.append(refused)
        return errors

    def _names(self, resource: Callable[[], CfnResource]) -> tuple[int, int]:
        names = self._stack.resolve([self._stack.stack_name, resource().logical_id])
        stack_name, logical_id = (str(name) if isinstance(name, str) else "" for name in names)
        return (len(stack_name) or MAX_STACK_NAME_LENGTH,
                len(logical_id) or MAX_LOGICAL_ID_LENGTH)


#: The check of each stack, by its provider. Weak keys: the cache never keeps a stack alive.
_BY_PROVIDER: weakref.WeakKeyDictionary[Construct, CarriedProperties] = (
    weakref.WeakKeyDictionary())
