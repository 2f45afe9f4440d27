"""The checks of `RolloutEndpoint`'s own props (its deployment strategy checks itself).

Each refusal is a ValueError naming the prop, the value and what is allowed, raised while the
endpoint is constructed, before anything is rendered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aws_cdk import RemovalPolicy
from sagemaker_rollout_handler.contract import (
    MAX_USER_TAGS,
    REMOVAL_POLICY_RETAIN,
    RESERVED_TAG_PREFIX,
)

from .deployment import DeploymentStrategy, shadow_variants_refusal
from .tokens import is_unresolved
from .variants import ProductionVariant, VariantProperty

__all__ = [
    "MAX_SHADOW_VARIANTS",
    "MAX_TAGS",
    "MAX_VARIANTS",
    "RESERVED_TAG_PREFIX",
    "check_options",
    "removal_policy_property",
    "validate_shadow_variants",
    "validate_tags",
    "validate_variants",
]

#: ProductionVariants: 1..10 (botocore model, CreateEndpointConfig).
MAX_VARIANTS = 10
#: SageMaker allows 50 tags; the handler keeps one of its own (its request tag).
MAX_TAGS = MAX_USER_TAGS
#: "If you use this field, you can only specify one variant for ProductionVariants and one
#: variant for ShadowProductionVariants" (botocore model, CreateEndpointConfig).
MAX_SHADOW_VARIANTS = 1


def check_options(
    *,
    exclusions: Sequence[VariantProperty],
    retain_variant_properties: bool | None,
    reuse_last_deployment_config: bool,
    deployment: DeploymentStrategy | None,
    tags: Mapping[str, str] | None,
) -> None:
    """The props that exclude or require one another, and the tags."""
    if exclusions and retain_variant_properties is not True:
        raise ValueError(
            "retained_properties_exclusions "
            f"{[exclusion.value for exclusion in exclusions]!r} is not allowed without "
            "retain_variant_properties=True: exclusions only apply to retained properties"
        )
    if reuse_last_deployment_config and deployment is not None:
        raise ValueError(
            "deployment is not allowed with reuse_last_deployment_config=True: pass one or the "
            "other (the last deployment configuration replaces any given here)"
        )
    if tags is not None:
        validate_tags(tags)


def validate_variants(variants: Sequence[ProductionVariant]) -> None:
    if not 1 <= len(variants) <= MAX_VARIANTS:
        raise ValueError(
            f"variants has {len(variants)} variants, which is not allowed: allowed are 1 to "
            f"{MAX_VARIANTS} variants"
        )
    seen: set[str] = set()
    for variant in variants:
        name = variant.variant_name
        if is_unresolved(name):
            continue
        if name in seen:
            raise ValueError(
                f"variants has the variant_name {name!r} twice, which is not allowed: "
                "allowed are distinct variant names"
            )
        seen.add(name)


def validate_shadow_variants(
    variants: Sequence[ProductionVariant],
    shadow_variants: Sequence[ProductionVariant],
    deployment: DeploymentStrategy | None,
) -> None:
    if not shadow_variants:
        return
    if len(shadow_variants) > MAX_SHADOW_VARIANTS or len(variants) != 1:
        raise ValueError(
            f"shadow_variants has {len(shadow_variants)} variants with {len(variants)} production "
            "variants, which is not allowed: allowed is 1 shadow variant with exactly 1 "
            "production variant (CreateEndpointConfig ShadowProductionVariants)"
        )
    names = {v.variant_name for v in variants}
    for shadow in shadow_variants:
        if not is_unresolved(shadow.variant_name) and shadow.variant_name in names:
            raise ValueError(
                f"shadow_variants has the variant_name {shadow.variant_name!r} of a production "
                "variant, which is not allowed: allowed are names distinct from the production "
                "variants'"
            )
    refused = None if deployment is None else shadow_variants_refusal(deployment)
    if refused is not None:
        raise ValueError(refused)


def removal_policy_property(policy: RemovalPolicy) -> str | None:
    """The RemovalPolicy property: None (Delete, the default), or "Retain"."""
    if policy == RemovalPolicy.DESTROY:
        return None
    if policy == RemovalPolicy.RETAIN:
        return REMOVAL_POLICY_RETAIN
    name = getattr(policy, "name", str(policy))
    raise ValueError(
        f"removal_policy RemovalPolicy.{name} is not allowed: allowed are RemovalPolicy.DESTROY "
        "(delete the endpoint) and RemovalPolicy.RETAIN (keep it serving). An endpoint has no "
        "snapshot, and the provider cannot tell a failed create's rollback from a delete"
    )


def validate_tags(tags: Mapping[str, str]) -> None:
    if len(tags) > MAX_TAGS:
        raise ValueError(
            f"tags has {len(tags)} tags, which is not allowed: allowed are at most {MAX_TAGS} tags "
            "(SageMaker's 50, less the one the rollout handler keeps)"
        )
    for key, value in tags.items():
        if not is_unresolved(key):
            if not 1 <= len(key) <= 128:
                raise ValueError(
                    f"tags key {key!r} is {len(key)} characters long, which is not allowed: "
                    "allowed are keys of 1 to 128 characters"
                )
            if key.lower().startswith("aws:"):
                raise ValueError(
                    f"tags key {key!r} is not allowed: keys starting with 'aws:' are reserved "
                    "by AWS"
                )
            if key.startswith(RESERVED_TAG_PREFIX):
                raise ValueError(
                    f"tags key {key!r} is not allowed: keys starting with "
                    f"{RESERVED_TAG_PREFIX!r} are reserved for the rollout handler's bookkeeping"
                )
        if not is_unresolved(value) and len(value) > 256:
            raise ValueError(
                f"tags value of key {key!r} is {len(value)} characters long, which is not "
                "allowed: allowed are values of 0 to 256 characters"
            )
