"""The warnings `RolloutEndpoint` gives on legal but suspicious props (their ids: rules.py;
acknowledge with ``Annotations.of(endpoint).acknowledge_warning``)."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Annotations

from constructs import Construct

from .rules import WarningId
from .variants import ProductionVariant, VariantProperty

__all__ = ["warn_adopt_generated_name", "warn_if_weights_retained"]


def warn_adopt_generated_name(scope: Construct, endpoint_name: str) -> None:
    """adopt_existing_endpoint with a generated name adopts only an endpoint of that name."""
    Annotations.of(scope).add_warning_v2(
        WarningId.ADOPT_GENERATED_NAME.full_id,
        "adopt_existing_endpoint=True with a generated endpoint name: only an endpoint of "
        f"that very name ({endpoint_name!r}) is adopted. Pass endpoint_name= with the "
        "name of the endpoint to take over.",
    )


def warn_if_weights_retained(
    scope: Construct,
    *,
    retained: bool,
    variants: Sequence[ProductionVariant],
    exclusions: Sequence[VariantProperty],
) -> None:
    """RetainAllVariantProperties keeps each variant's current weight: a new
    initial_variant_weight is not deployed unless DesiredWeight is excluded."""
    if not retained or len(variants) < 2:
        return
    if VariantProperty.DESIRED_WEIGHT in exclusions:
        return
    Annotations.of(scope).add_warning_v2(
        WarningId.WEIGHT_RETAINED.full_id,
        "variant properties are retained on every update (RetainAllVariantProperties, for "
        "autoscaling or retain_variant_properties=True), weights included: a change of "
        "initial_variant_weight of variants "
        f"{', '.join(repr(v.variant_name) for v in variants)} is kept at the "
        "endpoint's current weights, silently. Fix: pass retain_variant_properties=True with "
        "retained_properties_exclusions=[VariantProperty.DESIRED_WEIGHT] (weights from the "
        "config, instance counts still retained), or acknowledge this warning.",
    )
