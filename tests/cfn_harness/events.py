"""CloudFormation-shaped custom resource events.

CloudFormation delivers every property value as a string: numbers and booleans included
(``600`` -> ``"600"``, ``True`` -> ``"true"``), while objects and lists keep their structure
(the fact sheet /work/shared/reference/custom-resources-and-crhelper.md, "The protocol").
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Literal

RequestType = Literal["Create", "Update", "Delete"]
Json = dict[str, Any]

#: The resource type the construct library gives its custom resource.
RESOURCE_TYPE = "Custom::SageMakerEndpointRollout"


def cfn_value(value: Any) -> Any:
    """One property value as CloudFormation delivers it: leaves become strings, objects and lists
    keep their structure. ``None`` is not a value CloudFormation can carry (CDK drops undefined
    properties): it raises, as do types a template cannot hold."""
    if isinstance(value, bool):  # before int: bool is an int
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): cfn_value(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [cfn_value(item) for item in value]
    raise TypeError(f"a CloudFormation property cannot hold {value!r} ({type(value).__name__})")


def cfn_properties(properties: Mapping[str, Any], *, service_timeout: int | None) -> Json:
    """ResourceProperties as CloudFormation sends them (ServiceTimeout added, as a string, when
    given and not already present)."""
    props = cfn_value(properties)
    assert isinstance(props, dict)
    if service_timeout is not None:
        props.setdefault("ServiceTimeout", str(service_timeout))
    return props


def stack_id(stack_name: str, *, region: str, account_id: str, guid: str | None = None) -> str:
    return (f"arn:aws:cloudformation:{region}:{account_id}:stack/{stack_name}/"
            f"{guid or uuid.uuid4()}")


def build_event(
    request_type: RequestType,
    *,
    service_token: str,
    response_url: str,
    stack_id: str,
    request_id: str,
    logical_resource_id: str,
    properties: Json,
    old_properties: Json | None = None,
    physical_resource_id: str | None = None,
    resource_type: str = RESOURCE_TYPE,
) -> Json:
    """One CloudFormation request. ``properties`` / ``old_properties`` must already be in
    CloudFormation's form (see :func:`cfn_properties`)."""
    if request_type not in ("Create", "Update", "Delete"):
        raise ValueError(f"unknown RequestType {request_type!r}")
    if request_type == "Create" and physical_resource_id is not None:
        raise ValueError("a Create carries no PhysicalResourceId")
    if request_type != "Create" and physical_resource_id is None:
        raise ValueError(f"an {request_type} carries the PhysicalResourceId")
    if (request_type == "Update") != (old_properties is not None):
        raise ValueError("OldResourceProperties come with an Update, and only with it")
    event: Json = {
        "RequestType": request_type,
        "ServiceToken": service_token,
        "ResponseURL": response_url,
        "StackId": stack_id,
        "RequestId": request_id,
        "LogicalResourceId": logical_resource_id,
        "ResourceType": resource_type,
        "ResourceProperties": properties,
    }
    if physical_resource_id is not None:
        event["PhysicalResourceId"] = physical_resource_id
    if old_properties is not None:
        event["OldResourceProperties"] = old_properties
    return event
