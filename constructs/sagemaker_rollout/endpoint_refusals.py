"""Every refusal of `RolloutEndpoint`'s props and of its deployment strategy, collected and
raised once (as ``aws-sagemaker-alpha``'s endpoint config does), before anything is rendered."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cloudwatch as cloudwatch

from constructs import Construct

from .auto_rollback import check_rollback_alarms
from .deployment import BoundDeployment, DeploymentStrategy
from .endpoint_props import (
    MAX_VARIANTS,
    check_options,
    check_shadow_variants,
    check_variants,
    removal_policy_property,
)
from .naming import check_name, default_endpoint_name
from .rules import raise_refusals
from .time_budget import MAX_WAIT_CONDITION_TIMEOUT_SECONDS
from .variant_combinations import combination_refusals, exclusion_refusals
from .variants import ProductionVariant, VariantProperty
from .wait_mode import WaitMode

__all__ = ["CheckedProps", "checked_props"]


@dataclass(frozen=True)
class CheckedProps:
    """What the checks of the props give the endpoint to render."""

    #: The given endpoint name, or the default one derived from the path.
    endpoint_name: str
    #: The ``RemovalPolicy`` property, or None (not rendered).
    removal_policy: str | None
    #: The DeploymentConfig (without alarms) and what waits for it.
    bound: BoundDeployment


def checked_props(
    scope: Construct,
    *,
    variants: Sequence[ProductionVariant],
    shadow_variants: Sequence[ProductionVariant],
    exclusions: Sequence[VariantProperty],
    endpoint_name: str | None,
    retain_variant_properties: bool | None,
    reuse_last_deployment_config: bool,
    deployment: DeploymentStrategy | None,
    tags: Mapping[str, str] | None,
    asynchronous: bool,
    given_alarms: int,
    alarms: list[cloudwatch.IAlarm],
    removal_policy: RemovalPolicy,
    wait_mode: WaitMode | None,
    service_timeout: Duration,
) -> CheckedProps:
    """The checked props; every refusal of the props and of the deployment strategy raised at
    once (``ValueError``). `alarms` is the endpoint's live list of rollback alarms;
    `service_timeout` the custom resource's."""
    errors: list[str] = []
    check_variants(errors, variants)
    endpoint_name = _checked_name(scope, errors, endpoint_name)
    check_options(
        errors,
        exclusions=exclusions,
        retain_variant_properties=retain_variant_properties,
        reuse_last_deployment_config=reuse_last_deployment_config,
        deployment=deployment,
        tags=tags,
    )
    check_shadow_variants(errors, variants, shadow_variants, deployment)
    errors.extend(combination_refusals(variants, shadow_variants, async_inference=asynchronous))
    errors.extend(exclusion_refusals(exclusions))
    check_rollback_alarms(errors, given_alarms, reuse_last_deployment_config)
    rendered_removal_policy = removal_policy_property(errors, removal_policy)
    bound = _bind_deployment(scope, errors, deployment, wait_mode, variants=variants,
                             reuse_last_deployment_config=reuse_last_deployment_config,
                             alarms=alarms, service_timeout=service_timeout)
    raise_refusals(errors, f"RolloutEndpoint {scope.node.path}")
    assert bound is not None  # (refused otherwise)
    return CheckedProps(endpoint_name, rendered_removal_policy, bound)


def _checked_name(scope: Construct, errors: list[str], endpoint_name: str | None) -> str:
    """The given endpoint name, checked, or the default one derived from the path."""
    if endpoint_name is None:
        return default_endpoint_name(scope)
    check_name(errors, "endpoint_name", endpoint_name)
    return endpoint_name


def _bind_deployment(
    scope: Construct, errors: list[str], deployment: DeploymentStrategy | None,
    wait_mode: WaitMode | None, *, variants: Sequence[ProductionVariant],
    reuse_last_deployment_config: bool, alarms: list[cloudwatch.IAlarm],
    service_timeout: Duration,
) -> BoundDeployment | None:
    """The DeploymentConfig (without alarms) and what waits for it, or None when it is
    refused (its refusals in `errors`). When the last config is reused its timeout is
    unknown: the custom resource waits, or (forced) a WaitCondition of the longest Timeout."""
    if reuse_last_deployment_config:
        forced = wait_mode or WaitMode.CUSTOM_RESOURCE
        longest = str(MAX_WAIT_CONDITION_TIMEOUT_SECONDS)
        return BoundDeployment({}, forced,
                               longest if forced is WaitMode.WAIT_CONDITION else None)
    if not 1 <= len(variants) <= MAX_VARIANTS:
        return None  # (the number of variants is refused already)
    return (deployment or DeploymentStrategy.all_at_once()).bind_collecting(
        scope,
        errors,
        variants=[variant.to_facts() for variant in variants],
        service_timeout=service_timeout,
        # The live list, for the checks bind defers to synth time. Its immediate
        # "baking without alarms" warning is acknowledged by add_rollback_alarm.
        alarms=alarms,
        wait_mode=wait_mode,
    )
