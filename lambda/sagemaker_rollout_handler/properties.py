"""CloudFormation's properties -> SageMaker API parameters, checked before any SageMaker call.

CloudFormation delivers every property value as a string ("600", "true"). The shapes of
UpdateEndpoint and CreateEndpoint in botocore's SageMaker model say what each member really is,
so the conversion walks those shapes instead of a hand-written list of fields, then checks what
botocore's client-side validator does not (maximums, enums, patterns: the fact sheet, "Where
validation happens"). A malformed property fails the request with a message naming the property
path, the value and what is allowed, and no SageMaker call is made.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import botocore.session
from botocore.model import OperationModel, Shape

from .contract import (
    MAX_USER_TAGS,
    OWNER_TAG_KEY,
    RESERVED_TAG_PREFIX,
    ROLLOUT_PROPERTY,
    WAIT_HANDLE_PROPERTY,
)

# Properties CloudFormation adds to every custom resource; not ours to interpret.
_CLOUDFORMATION_PROPERTIES = frozenset({"ServiceToken", "ServiceTimeout"})
_UPDATE_ONLY = ("RetainAllVariantProperties", "ExcludeRetainedVariantProperties",
                "RetainDeploymentConfig")
_CREATE_ONLY = ("Tags",)
_COMMON = ("EndpointName", "EndpointConfigName", "DeploymentConfig")
#: Ours, not SageMaker's: take over an endpoint that exists; keep the endpoint on Delete; what
#: the deployment deploys, in words for `cdk diff` (ignored); the WaitCondition handle's URL of
#: a deployment longer than the custom resource's hour (handoff.py).
_ROLLOUT_OPTIONS = ("AdoptExisting", "RemovalPolicy", ROLLOUT_PROPERTY, WAIT_HANDLE_PROPERTY)
KNOWN_PROPERTIES = frozenset((*_COMMON, *_UPDATE_ONLY, *_CREATE_ONLY, *_ROLLOUT_OPTIONS))

#: AWS::CloudFormation::CustomResource ServiceTimeout: 1..3600 s, default 3600.
DEFAULT_SERVICE_TIMEOUT = 3600
_TRUE = {"true"}
_FALSE = {"false"}


class PropertyError(ValueError):
    """A resource property that cannot be turned into a valid SageMaker request."""


@dataclass(frozen=True)
class RolloutRequest:
    """What one CloudFormation request asks of the endpoint, in the API's types."""

    endpoint_name: str
    endpoint_config_name: str
    #: UpdateEndpoint parameters (EndpointName, EndpointConfigName, DeploymentConfig, retain...).
    update_params: dict[str, Any]
    #: CreateEndpoint parameters (EndpointName, EndpointConfigName, DeploymentConfig, Tags).
    create_params: dict[str, Any]
    tags: dict[str, str] = field(default_factory=dict)
    alarm_names: tuple[str, ...] = ()
    service_timeout: int = DEFAULT_SERVICE_TIMEOUT
    #: "Delete" (default) or "Retain": what a Delete does to the endpoint.
    removal_policy: str = "Delete"
    #: On Create, take over an endpoint of that name that already exists instead of failing.
    adopt_existing: bool = False
    #: The WaitConditionHandle's URL (the WaitCondition mode), "" otherwise. A bearer
    #: credential: never logged, never in a message.
    wait_handle: str = ""


@cache
def _operation(name: str) -> OperationModel:
    model = botocore.session.get_session().get_service_model("sagemaker")
    return model.operation_model(name)


def parse_request(properties: Mapping[str, Any], *, stack_id: str = "") -> RolloutRequest:
    """Convert and check CloudFormation's ResourceProperties. Raises PropertyError.

    :param stack_id: the request's ``StackId``: the only value the ownership tag may have."""
    unknown = sorted(set(properties) - KNOWN_PROPERTIES - _CLOUDFORMATION_PROPERTIES)
    if unknown:
        raise PropertyError(
            f"Unknown propert{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)}: "
            f"allowed are {', '.join(sorted(KNOWN_PROPERTIES))}."
        )
    for required in ("EndpointName", "EndpointConfigName"):
        if not properties.get(required):
            raise PropertyError(f"Property {required} is missing or empty: it is required.")

    update_params = _convert(
        "UpdateEndpoint", {k: properties[k] for k in (*_COMMON, *_UPDATE_ONLY) if k in properties}
    )
    create_params = _convert(
        "CreateEndpoint", {k: properties[k] for k in (*_COMMON, *_CREATE_ONLY) if k in properties}
    )
    if update_params.get("ExcludeRetainedVariantProperties") and not update_params.get(
        "RetainAllVariantProperties"
    ):
        raise PropertyError(
            "Property ExcludeRetainedVariantProperties is set but RetainAllVariantProperties is "
            "not true: exclusions only apply when variant properties are retained."
        )
    _check_tags(create_params.get("Tags", []), stack_id)
    rollback = update_params.get("DeploymentConfig", {}).get("AutoRollbackConfiguration", {})
    alarms = rollback.get("Alarms", [])
    removal_policy = str(properties.get("RemovalPolicy", "Delete"))
    if removal_policy not in ("Delete", "Retain"):
        raise PropertyError(
            f"Property RemovalPolicy is {removal_policy!r}: allowed are 'Delete' and 'Retain'."
        )
    return RolloutRequest(
        endpoint_name=update_params["EndpointName"],
        endpoint_config_name=update_params["EndpointConfigName"],
        update_params=update_params,
        create_params=create_params,
        tags={tag["Key"]: tag["Value"] for tag in create_params.get("Tags", [])},
        alarm_names=tuple(alarm["AlarmName"] for alarm in alarms),
        service_timeout=_service_timeout(properties.get("ServiceTimeout")),
        removal_policy=removal_policy,
        adopt_existing=_boolean(properties.get("AdoptExisting", False), "AdoptExisting"),
        wait_handle=_wait_handle(properties.get(WAIT_HANDLE_PROPERTY)),
    )


def _wait_handle(value: Any) -> str:
    """The handle's URL: an https URL (its value is never repeated in a message)."""
    if value is None:
        return ""
    if not isinstance(value, str) or not value.startswith("https://"):
        raise PropertyError(f"Property {WAIT_HANDLE_PROPERTY} is not an https URL: it must be "
                            "the Ref of an AWS::CloudFormation::WaitConditionHandle.")
    return value


def _check_tags(tags: list[dict[str, str]], stack_id: str) -> None:
    """SageMaker's 50 tags less the handler's own (contract.MAX_USER_TAGS), none under its
    prefix but the ownership tag the construct renders (``OWNER_TAG_KEY`` = this stack's id):
    checked before any call, so that neither the Create nor a later Update fails."""
    for tag in tags:
        if tag["Key"] == OWNER_TAG_KEY and (not stack_id or tag["Value"] != stack_id):
            raise PropertyError(
                f"Property Tags sets {OWNER_TAG_KEY!r} to {tag['Value']!r}: the ownership tag "
                f"must be this stack's id ({stack_id!r}), as the construct renders it "
                '({"Ref": "AWS::StackId"}). Remove the tag or give it that value.')
    user = [tag["Key"] for tag in tags if tag["Key"] != OWNER_TAG_KEY]
    if len(user) > MAX_USER_TAGS:
        raise PropertyError(
            f"Property Tags has {len(user)} tags besides the ownership tag: allowed are at most "
            f"{MAX_USER_TAGS} (SageMaker allows 50 per endpoint and the provider keeps two of "
            "its own, the request and ownership tags). Remove some tags.")
    reserved = sorted(key for key in user if key.startswith(RESERVED_TAG_PREFIX))
    if reserved:
        raise PropertyError(f"Property Tags uses the reserved prefix {RESERVED_TAG_PREFIX!r} "
                            f"({', '.join(reserved)}): rename those tags.")


def _service_timeout(value: Any) -> int:
    if value is None:
        return DEFAULT_SERVICE_TIMEOUT
    seconds = _integer(value, "ServiceTimeout")
    if not 1 <= seconds <= 3600:
        raise PropertyError(f"Property ServiceTimeout is {value!r}: allowed are 1..3600 seconds.")
    return seconds


def _convert(operation: str, properties: Mapping[str, Any]) -> dict[str, Any]:
    shape = _operation(operation).input_shape
    assert shape is not None
    params = _coerce(properties, shape, "")
    assert isinstance(params, dict)
    return params


def _coerce(value: Any, shape: Shape, path: str) -> Any:
    """Turn CloudFormation's strings into the types `shape` wants, checking its constraints."""
    coerce = _COERCERS.get(shape.type_name)
    if coerce is None:  # pragma: no cover - the operations' shapes use only the types below
        raise PropertyError(f"Property {path} has the unsupported type {shape.type_name}.")
    return coerce(value, shape, path)


def _coerce_structure(value: Any, shape: Shape, path: str) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise PropertyError(f"Property {path or '(root)'} is {value!r}: expected an object.")
    members = shape.members  # type: ignore[attr-defined]
    result: dict[str, Any] = {}
    for key, item in value.items():
        if key not in members:
            raise PropertyError(
                f"Property {_join(path, key)} is not part of {path or 'the request'}: "
                f"allowed are {', '.join(sorted(members))}."
            )
        result[key] = _coerce(item, members[key], _join(path, key))
    for key in shape.required_members:
        if key not in result:
            raise PropertyError(f"Property {_join(path, key)} is missing: it is required.")
    return result


def _coerce_list(value: Any, shape: Shape, path: str) -> list[Any]:
    if not isinstance(value, list | tuple):
        raise PropertyError(f"Property {path} is {value!r}: expected a list.")
    _check_length(len(value), shape, path, "items")
    member = shape.member  # type: ignore[attr-defined]
    return [_coerce(item, member, f"{path}[{index}]") for index, item in enumerate(value)]


def _coerce_integer(value: Any, shape: Shape, path: str) -> int:
    number = _integer(value, path)
    _check_range(number, shape, path)
    return number


def _coerce_boolean(value: Any, shape: Shape, path: str) -> bool:
    return _boolean(value, path)


def _coerce_float(value: Any, shape: Shape, path: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise PropertyError(f"Property {path} is {value!r}: expected a number.") from None


def _coerce_string(value: Any, shape: Shape, path: str) -> str:
    if not isinstance(value, str):
        raise PropertyError(f"Property {path} is {value!r}: expected a string.")
    _check_string(value, shape, path)
    return value


#: How each botocore shape type is coerced from CloudFormation's value.
_COERCERS: dict[str, Callable[[Any, Shape, str], Any]] = {
    "structure": _coerce_structure,
    "list": _coerce_list,
    "integer": _coerce_integer,
    "long": _coerce_integer,
    "boolean": _coerce_boolean,
    "float": _coerce_float,
    "double": _coerce_float,
    "string": _coerce_string,
}


def _integer(value: Any, path: str) -> int:
    if isinstance(value, bool):
        raise PropertyError(f"Property {path} is {value!r}: expected a whole number.")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        return int(value.strip())
    raise PropertyError(f"Property {path} is {value!r}: expected a whole number.")


def _boolean(value: Any, path: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise PropertyError(f"Property {path} is {value!r}: expected true or false.")


def _check_range(number: int, shape: Shape, path: str) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if (low is not None and number < low) or (high is not None and number > high):
        raise PropertyError(
            f"Property {path} is {number}: allowed are {_bounds(low, high)}."
        )


def _check_length(length: int, shape: Shape, path: str, unit: str) -> None:
    low, high = shape.metadata.get("min"), shape.metadata.get("max")
    if (low is not None and length < low) or (high is not None and length > high):
        raise PropertyError(
            f"Property {path} has {length} {unit}: allowed are {_bounds(low, high)} {unit}."
        )


def _check_string(value: str, shape: Shape, path: str) -> None:
    enum = shape.enum  # type: ignore[attr-defined]
    if enum and value not in enum:
        raise PropertyError(f"Property {path} is {value!r}: allowed are {', '.join(enum)}.")
    _check_length(len(value), shape, path, "characters")
    pattern = shape.metadata.get("pattern")
    compiled = _compile(pattern) if pattern else None
    if compiled is not None and not compiled.fullmatch(value):
        raise PropertyError(f"Property {path} is {value!r}: it must match {pattern}.")


@cache
def _compile(pattern: str) -> re.Pattern[str] | None:
    """The model's patterns are Java regexes; the few Python cannot read (\\p{L}) are skipped."""
    try:
        return re.compile(pattern)
    except re.error:
        return None


def _bounds(low: int | None, high: int | None) -> str:
    if high is None:
        return f"at least {low}"
    return f"{low or 0}..{high}"


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
