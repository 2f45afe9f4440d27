"""The checks of `RolloutEndpoint`'s own props (its deployment strategy checks itself).

Each check appends its refusals (rule id, field, value, limit, fix: `rules.refuse`) to the
construct's list, which the endpoint raises once, with its strategy's, before anything is
rendered.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from aws_cdk import RemovalPolicy
from sagemaker_rollout_handler.contract import (
    MAX_USER_TAGS,
    REMOVAL_POLICY_RETAIN,
    RESERVED_TAG_PREFIX,
)

from .deployment import DeploymentStrategy, shadow_variants_refusal
from .rules import Rule, refuse
from .tokens import is_unresolved
from .variants import ProductionVariant, VariantProperty

__all__ = [
    "MAX_SHADOW_VARIANTS",
    "MAX_TAGS",
    "MAX_VARIANTS",
    "RESERVED_TAG_PREFIX",
    "check_options",
    "check_shadow_variants",
    "check_tags",
    "check_variants",
    "removal_policy_property",
]

#: ProductionVariants: 1..10 (botocore model, CreateEndpointConfig).
MAX_VARIANTS = 10
#: SageMaker allows 50 tags; the handler keeps two of its own (its request and ownership tags).
MAX_TAGS = MAX_USER_TAGS
#: "If you use this field, you can only specify one variant for ProductionVariants and one
#: variant for ShadowProductionVariants" (botocore model, CreateEndpointConfig).
MAX_SHADOW_VARIANTS = 1


def check_options(
    errors: list[str],
    *,
    exclusions: Sequence[VariantProperty],
    retain_variant_properties: bool | None,
    reuse_last_deployment_config: bool,
    deployment: DeploymentStrategy | None,
    tags: Mapping[str, str] | None,
) -> None:
    """The props that exclude or require one another, and the tags."""
    if exclusions and retain_variant_properties is not True:
        errors.append(refuse(
            Rule.EXCLUSIONS_NEED_RETAIN, "retained_properties_exclusions",
            f"{[exclusion.value for exclusion in exclusions]!r} with retain_variant_properties="
            f"{retain_variant_properties!r}", "exclusions only with retain_variant_properties=True "
            "(they apply to retained properties)",
            "pass retain_variant_properties=True, or drop retained_properties_exclusions."))
    if reuse_last_deployment_config and deployment is not None:
        errors.append(refuse(
            Rule.DEPLOYMENT_OR_REUSE, "deployment", f"DeploymentStrategy {deployment.kind} with "
            "reuse_last_deployment_config=True", "one or the other (the last deployment "
            "configuration replaces any given here)",
            "drop deployment=, or drop reuse_last_deployment_config=True."))
    if tags is not None:
        check_tags(errors, tags)


def check_variants(errors: list[str], variants: Sequence[ProductionVariant]) -> None:
    """The number of variants and their distinct names."""
    if len(variants) > MAX_VARIANTS:
        errors.append(refuse(
            Rule.VARIANTS_AT_MOST_10, "variants", f"{len(variants)} variants",
            f"1 to {MAX_VARIANTS} production variants (CreateEndpointConfig)",
            f"split the variants over {math.ceil(len(variants) / MAX_VARIANTS)} endpoints of at "
            f"most {MAX_VARIANTS} variants."))
    elif not variants:
        errors.append(refuse(
            Rule.AT_LEAST_ONE_VARIANT, "variants", "[] (0 variants)",
            f"1 to {MAX_VARIANTS} production variants (CreateEndpointConfig)",
            "give the endpoint a variant: ProductionVariant.instances(...) or .serverless(...)."))
    _check_distinct(errors, "variants", [v.variant_name for v in variants], set())


def _check_distinct(errors: list[str], field: str, names: Sequence[str], taken: set[str]) -> None:
    """Each name in `names` once, and none of `taken` (tokens are not compared)."""
    seen = set(taken)
    for name in names:
        if is_unresolved(name):
            continue
        if name in seen:
            errors.append(refuse(
                Rule.DISTINCT_VARIANT_NAMES, f"variant_name in {field}", f"{name!r} twice",
                "distinct variant names in one endpoint config (production and shadow variants)",
                f"rename one of them, such as {_free_name(name, seen)!r}."))
        seen.add(name)


def _free_name(name: str, taken: set[str]) -> str:
    """`name-2` (or -3, ...): a name not taken yet."""
    number = 2
    while f"{name}-{number}" in taken:
        number += 1
    return f"{name}-{number}"


def check_shadow_variants(
    errors: list[str],
    variants: Sequence[ProductionVariant],
    shadow_variants: Sequence[ProductionVariant],
    deployment: DeploymentStrategy | None,
) -> None:
    if not shadow_variants:
        return
    if len(shadow_variants) > MAX_SHADOW_VARIANTS or len(variants) != 1:
        errors.append(refuse(
            Rule.SHADOW_ONE_TO_ONE, "shadow_variants",
            f"{len(shadow_variants)} shadow variant(s) with {len(variants)} production variant(s)",
            "1 shadow variant with exactly 1 production variant (CreateEndpointConfig "
            "ShadowProductionVariants)",
            "keep one production variant and one shadow variant; test the others one at a "
            "time."))
    production = {v.variant_name for v in variants if not is_unresolved(v.variant_name)}
    _check_distinct(errors, "shadow_variants", [v.variant_name for v in shadow_variants],
                    production)
    refused = None if deployment is None else shadow_variants_refusal(deployment)
    if refused is not None:
        errors.append(refused)


def removal_policy_property(errors: list[str], policy: RemovalPolicy) -> str | None:
    """The RemovalPolicy property: None (Delete, the default), or "Retain"."""
    if policy == RemovalPolicy.DESTROY:
        return None
    if policy == RemovalPolicy.RETAIN:
        return REMOVAL_POLICY_RETAIN
    name = getattr(policy, "name", str(policy))
    errors.append(refuse(
        Rule.REMOVAL_POLICY, "removal_policy", f"RemovalPolicy.{name}",
        "RemovalPolicy.DESTROY (delete the endpoint) or RemovalPolicy.RETAIN (keep it serving): "
        "an endpoint has no snapshot, and the provider cannot tell a failed create's rollback "
        "from a delete",
        "use RemovalPolicy.RETAIN to keep the endpoint, else RemovalPolicy.DESTROY."))
    return None


#: Tag keys and values (botocore model, Tag: Key 1..128, Value 0..256 characters).
_MAX_KEY_LENGTH = 128
_MAX_VALUE_LENGTH = 256


def check_tags(errors: list[str], tags: Mapping[str, str]) -> None:
    if len(tags) > MAX_TAGS:
        errors.append(refuse(
            Rule.TAG_COUNT, "tags", f"{len(tags)} tags",
            f"at most {MAX_TAGS} tags (SageMaker's 50, less the rollout handler's request and "
            "ownership tags)",
            f"drop {len(tags) - MAX_TAGS} tag(s)."))
    for key, value in tags.items():
        if not is_unresolved(key):
            _check_tag_key(errors, key)
        if not is_unresolved(value) and len(value) > _MAX_VALUE_LENGTH:
            errors.append(refuse(
                Rule.TAG_VALUE, f"tags value of key {key!r}", f"{len(value)} characters",
                f"values of 0 to {_MAX_VALUE_LENGTH} characters",
                f"shorten it to {_MAX_VALUE_LENGTH} characters."))


def _check_tag_key(errors: list[str], key: str) -> None:
    limit = (f"keys of 1 to {_MAX_KEY_LENGTH} characters, not starting with 'aws:' (reserved by "
             f"AWS) nor {RESERVED_TAG_PREFIX!r} (the rollout handler's bookkeeping)")
    shown = f"{key!r} ({len(key)} characters)"
    if not 1 <= len(key) <= _MAX_KEY_LENGTH:
        fix = ("give the tag a key." if not key
               else f"shorten it to {_MAX_KEY_LENGTH} characters.")
        errors.append(refuse(Rule.TAG_KEY, "tags key", shown, limit, fix))
    elif key.lower().startswith("aws:") or key.startswith(RESERVED_TAG_PREFIX):
        own = key.split(":", 1)[1] or "owner"
        errors.append(refuse(Rule.TAG_KEY, "tags key", shown, limit,
                             f"use a key of your own, such as {own!r}."))
