"""The properties `RolloutEndpoint` renders on its custom resource: the names and shapes of
``AWS::SageMaker::Endpoint``, and this library's own (contract.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import IResolvable
from aws_cdk import aws_cloudwatch as cloudwatch
from sagemaker_rollout_handler.contract import (
    ADOPT_EXISTING_PROPERTY,
    REMOVAL_POLICY_PROPERTY,
    ROLLOUT_PROPERTY,
)

from .auto_rollback import render_auto_rollback
from .variants import VariantProperty

__all__ = ["render_properties", "set_property", "with_auto_rollback"]


def render_properties(
    *,
    endpoint_name: str,
    endpoint_config_name: str,
    retain_all_variant_properties: bool,
    retain_deployment_config: bool,
    deployment_config: dict[str, Any] | None,
    rollout: str,
    adopt_existing_endpoint: bool,
    removal_policy: str | None,
    alarms: Sequence[cloudwatch.IAlarm],
    exclusions: Sequence[VariantProperty],
    tags: IResolvable,
) -> dict[str, Any]:
    """The custom resource's properties (the shapes of ``AWS::SageMaker::Endpoint``)."""
    properties: dict[str, Any] = {
        "EndpointName": endpoint_name,
        "EndpointConfigName": endpoint_config_name,
        # Autoscaling attached after construction overrides it (auto_scale_instance_count).
        "RetainAllVariantProperties": retain_all_variant_properties,
        "RetainDeploymentConfig": retain_deployment_config,
        # What the deployment deploys, for cdk diff (rollout_description.py; ignored by the
        # handler).
        ROLLOUT_PROPERTY: rollout,
    }
    if adopt_existing_endpoint:
        properties[ADOPT_EXISTING_PROPERTY] = "true"
    if removal_policy is not None:
        properties[REMOVAL_POLICY_PROPERTY] = removal_policy
    if deployment_config is not None:
        # Alarms added after construction override its AutoRollbackConfiguration.
        properties["DeploymentConfig"] = with_auto_rollback(deployment_config, alarms)
    if exclusions:
        properties["ExcludeRetainedVariantProperties"] = [
            {"VariantPropertyType": exclusion.value} for exclusion in exclusions
        ]
    # The tags prop, Tags.of(...) and the ownership tag, resolved at synth.
    properties["Tags"] = tags
    return properties


def with_auto_rollback(
    deployment_config: dict[str, Any], alarms: Sequence[cloudwatch.IAlarm]
) -> dict[str, Any]:
    """The DeploymentConfig with the AutoRollbackConfiguration of these alarms (if any)."""
    rendered = dict(deployment_config)
    auto_rollback = render_auto_rollback(alarms)
    if auto_rollback is not None:
        rendered["AutoRollbackConfiguration"] = auto_rollback
    return rendered


def set_property(properties: dict[str, Any], path: str, value: Any) -> None:
    """Set the property at a dotted `path` as ``add_property_override`` does, copying the
    dictionaries on the way (they may be shared with what was rendered)."""
    *parents, last = path.split(".")
    target = properties
    for key in parents:
        target[key] = dict(target[key])
        target = target[key]
    target[last] = value
