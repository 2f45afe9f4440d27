"""Combinations of variants and endpoint features that SageMaker documents as invalid.

Each passes synth and CloudFormation's schema, and fails only at CreateEndpointConfig or
CreateEndpoint, minutes into a deploy. Sources (SageMaker developer guide):

- "Shadow tests" > "Exclusions" (shadow-tests-exclusions.html): "If your endpoint uses any of the
  following features you cannot use shadow tests ... Serverless inference, Asynchronous
  inference, ... Endpoints that use Inf1 (Inferentia-based) instances".
- "Serverless Inference" > "Feature exclusions", as issue 18 reads it: a serverless endpoint has
  one production variant (no mixing with instance-based variants, no second serverless variant)
  and no asynchronous inference. Not re-read from the page for this check: an assumption, whose
  cost if wrong is a refusal of a configuration SageMaker would accept (say so in an issue).

Values still tokens at synth are not checked (SageMaker checks them at deploy).
"""

from __future__ import annotations

from collections.abc import Sequence

from .rules import Rule, refusal
from .tokens import is_unresolved
from .variants import ProductionVariant, VariantProperty


def combination_refusals(
    variants: Sequence[ProductionVariant],
    shadow_variants: Sequence[ProductionVariant],
    *,
    async_inference: bool,
) -> list[str]:
    """A refusal for every invalid combination of these variants and features."""
    errors = _serverless_refusals(variants, async_inference=async_inference)
    if shadow_variants:
        errors.extend(_shadow_refusals(variants, shadow_variants, async_inference=async_inference))
    return errors


def _names(variants: Sequence[ProductionVariant]) -> str:
    return ", ".join(repr(variant.variant_name) for variant in variants)


def _serverless_refusals(
    variants: Sequence[ProductionVariant], *, async_inference: bool
) -> list[str]:
    serverless = [variant for variant in variants if variant.serverless_variant]
    if not serverless:
        return []
    errors = []
    instances = [variant for variant in variants if not variant.serverless_variant]
    if instances:
        errors.append(refusal(
            Rule.INSTANCE_AND_SERVERLESS,
            f"variants = serverless {_names(serverless)} with instance-based "
            f"{_names(instances)}; the limit is one kind per endpoint (a serverless endpoint has "
            "a single production variant: Serverless Inference feature exclusions). Fix: put the "
            "serverless variant in an endpoint of its own."))
    elif len(serverless) > 1:
        errors.append(refusal(
            Rule.ONE_SERVERLESS_VARIANT,
            f"variants = {len(serverless)} serverless variants ({_names(serverless)}); the "
            "limit is 1 production variant per serverless endpoint (Serverless Inference "
            "feature exclusions). Fix: one RolloutEndpoint per serverless variant."))
    if async_inference:
        errors.append(refusal(
            Rule.SERVERLESS_NOT_ASYNC,
            f"async_inference with serverless variant(s) {_names(serverless)}; the limit is "
            "asynchronous inference on instances only (Serverless Inference feature "
            "exclusions). Fix: use ProductionVariant.instances(...) for an asynchronous "
            "endpoint, or drop async_inference."))
    return errors


def _shadow_refusals(
    variants: Sequence[ProductionVariant],
    shadow_variants: Sequence[ProductionVariant],
    *,
    async_inference: bool,
) -> list[str]:
    every = [*variants, *shadow_variants]
    reasons = []
    serverless = [variant for variant in every if variant.serverless_variant]
    if serverless:
        reasons.append(f"serverless variant(s) {_names(serverless)}")
    if async_inference:
        reasons.append("async_inference")
    inf1 = [
        variant for variant in every
        if variant.instance_type is not None and not is_unresolved(variant.instance_type)
        and variant.instance_type.startswith("ml.inf1.")
    ]
    if inf1:
        reasons.append(f"Inf1 instances in variant(s) {_names(inf1)}")
    if not reasons:
        return []
    return [refusal(
        Rule.SHADOW_EXCLUSIONS,
        f"shadow_variants = {_names(shadow_variants)} with {' and '.join(reasons)}; the limit "
        "is shadow tests on real-time, instance-based endpoints without Inf1 (Shadow tests: "
        "Exclusions). Fix: drop shadow_variants, or shadow on instances of another family "
        "(e.g. ml.inf2 or ml.m5) of a real-time endpoint.")]


def exclusion_refusals(exclusions: Sequence[VariantProperty]) -> list[str]:
    """``VariantProperty.DATA_CAPTURE_CONFIG``: the API reference's VariantProperty says
    "DataCaptureConfig: (Not currently supported.)". Refused rather than warned about: either
    SageMaker rejects the update, or it ignores the exclusion and the user believes a data-capture
    setting was deployed that was not; neither is worth a deploy."""
    if VariantProperty.DATA_CAPTURE_CONFIG not in exclusions:
        return []
    return [refusal(
        Rule.DATA_CAPTURE_EXCLUSION_UNSUPPORTED,
        "retained_properties_exclusions = [..., VariantProperty.DATA_CAPTURE_CONFIG]; the limit "
        "is DesiredInstanceCount and DesiredWeight (the API reference marks DataCaptureConfig "
        "'(Not currently supported.)'). Fix: drop VariantProperty.DATA_CAPTURE_CONFIG; "
        "data_capture is part of the new EndpointConfig either way.")]
