"""Production variants of a RolloutEndpoint, and the variant properties an update can retain."""

from __future__ import annotations

import difflib
import enum
import math
import re
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from aws_cdk import Size, SizeRoundingBehavior
from aws_cdk import aws_sagemaker as sagemaker

from .naming import check_name
from .rules import Rule, raise_refusals, refuse
from .tokens import is_unresolved
from .variant_facts import VariantFacts

#: The instance types SageMaker hosts endpoints on all look like this (ml.<family>.<size>).
_INSTANCE_TYPE_PATTERN = re.compile(r"ml\.[a-z0-9-]+\.[a-z0-9]+")

_SERVERLESS_MEMORY_MB = range(1024, 6144 + 1, 1024)
_MAX_CONCURRENCY = 200


@runtime_checkable
class IModelLike(Protocol):
    """A SageMaker model construct with a name, such as ``aws_sagemaker_alpha.Model``.

    Duck-typed so that the optional ``aws-cdk.aws-sagemaker-alpha`` package is not required:
    anything with a ``model_name`` string (the alpha ``Model`` and ``IModel``) fits.
    """

    @property
    def model_name(self) -> str:
        """The model's name."""
        ...


#: What a variant can serve: a ``CfnModel``, an alpha ``Model`` (anything with ``model_name``).
ModelSource = sagemaker.CfnModel | IModelLike


def _model_name(
    errors: list[str], variant: str, model: ModelSource | None, model_name: str | None
) -> str:
    """The name to render from exactly one of ``model`` and ``model_name``."""
    field = f"variant {variant}"
    if (model is None) == (model_name is None):
        given = "both model and model_name" if model is not None else "neither model nor model_name"
        errors.append(refuse(
            Rule.ONE_MODEL, field, given, "exactly one of them",
            "pass model= (a CfnModel or an aws_sagemaker_alpha Model) or model_name= (a model's "
            "name), not both."))
        return "" if model_name is None else model_name
    if model_name is not None:
        return model_name
    if isinstance(model, sagemaker.CfnModel):
        # Its Ref is the ARN; the name is an attribute (and a generated one when not given).
        return model.attr_model_name
    if isinstance(model, str):
        # A name (maybe a token such as CfnModel.attr_model_name) passed as the model itself.
        shown = "a string token" if is_unresolved(model) else f"the string {model!r}"
        errors.append(refuse(
            Rule.ONE_MODEL, f"model of {field}", shown,
            "a model construct (CfnModel, aws_sagemaker_alpha Model)",
            "a model's name goes in model_name=: pass model_name=<that string> instead of model=."))
        return model
    name = getattr(model, "model_name", None)
    if not isinstance(name, str):
        errors.append(refuse(
            Rule.ONE_MODEL, f"model of {field}", f"a {type(model).__name__}",
            "a CfnModel, or a model construct with a model_name string (aws_sagemaker_alpha Model)",
            "pass the model construct, or its name as model_name=."))
        return ""
    return name


class VariantProperty(enum.Enum):
    """A variant property that an update can exclude from ``retain_variant_properties``.

    SageMaker's ``ExcludeRetainedVariantProperties``: an excluded property is taken from the new
    endpoint config instead of being kept from the running endpoint.
    """

    #: The instance count (set by autoscaling or UpdateEndpointWeightsAndCapacities).
    DESIRED_INSTANCE_COUNT = "DesiredInstanceCount"
    #: The variant weight (set by UpdateEndpointWeightsAndCapacities).
    DESIRED_WEIGHT = "DesiredWeight"
    #: The data capture configuration.
    DATA_CAPTURE_CONFIG = "DataCaptureConfig"


def _check_whole_number(
    errors: list[str], rule: Rule, field: str, value: int | float, low: int, high: int | None
) -> None:
    """Append a refusal unless `value` is a whole number in ``low..high`` (tokens pass)."""
    if is_unresolved(value):
        return
    if (
        not isinstance(value, bool)
        and isinstance(value, int)
        and value >= low
        and (high is None or value <= high)
    ):
        return
    limit = f"a whole number >= {low}" if high is None else f"a whole number from {low} to {high}"
    errors.append(refuse(rule, field, repr(value), limit, f"use {_nearest(value, low, high)}."))


def _nearest(value: object, low: int, high: int | None) -> int:
    """The whole number in ``low..high`` nearest to `value` (`low` for what is no number)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return low if high is None or value != math.inf else high
    nearest = max(low, round(value))
    return nearest if high is None else min(nearest, high)


def unknown_variant_refusal(field: str, variant_name: str, names: Sequence[str]) -> str:
    """The refusal of a `variant_name` that is none of the endpoint's variants `names`."""
    close = difflib.get_close_matches(variant_name, names, n=1)
    if close:
        fix = f"use {close[0]!r}."
    else:
        fix = (f"use {names[0]!r}." if len(names) == 1 else
               f"use one of {', '.join(repr(n) for n in names)}.")
    return refuse(Rule.KNOWN_VARIANT, field, repr(variant_name),
                  f"one of the endpoint's variants {list(names)!r}", fix)


def _label(variant_name: str) -> str:
    """A variant's name for messages: quoted, or "(a token)"."""
    return "(a token)" if is_unresolved(variant_name) else repr(variant_name)


def _common_refusals(
    variant_name: str, model_name: str, weight: float, instances: bool, serverless: bool
) -> list[str]:
    """The refusals that apply to every variant: its kind, names and weight."""
    errors: list[str] = []
    label = _label(variant_name)
    if instances == serverless:
        errors.append(refuse(
            Rule.INSTANCES_OR_SERVERLESS, f"variant {label}",
            "both instance_type and memory_size" if instances else "neither instance_type nor "
            "memory_size", "one of them",
            "use ProductionVariant.instances(...) or ProductionVariant.serverless(...)."))
    check_name(errors, "variant_name", variant_name)
    if model_name:  # (no model at all is refused by _model_name)
        check_name(errors, f"model_name of variant {label}", model_name)
    if not is_unresolved(weight) and (
        isinstance(weight, bool)
        or not isinstance(weight, int | float)
        or not weight >= 0  # (NaN too)
    ):
        errors.append(refuse(
            Rule.WEIGHT_AT_LEAST_ZERO, f"initial_variant_weight of variant {label}",
            repr(weight), "a number >= 0 (a share relative to the other variants)",
            "use 0 (no traffic) or more, such as 1."))
    return errors


def _instance_type_fix(instance_type: object) -> str:
    """`ml.m5.large` for `m5.large` or `ML.M5.Large`; an example otherwise."""
    if isinstance(instance_type, str):
        guess = instance_type.strip().lower()
        guess = guess if guess.startswith("ml.") else f"ml.{guess}"
        if _INSTANCE_TYPE_PATTERN.fullmatch(guess):
            return f"use {guess!r}."
    return "use an instance type such as 'ml.m5.large'."


def _check_memory(errors: list[str], label: str, memory_size: Size) -> None:
    if memory_size.is_unresolved():
        return
    mebibytes = memory_size.to_mebibytes(rounding=SizeRoundingBehavior.NONE)
    if mebibytes in _SERVERLESS_MEMORY_MB:
        return
    low, high, step = _SERVERLESS_MEMORY_MB.start, _SERVERLESS_MEMORY_MB[-1], 1024
    nearest = min(high, max(low, step * round(mebibytes / step)))
    errors.append(refuse(
        Rule.SERVERLESS_MEMORY, f"memory_size of variant {label}", f"{mebibytes:g} MiB",
        "1024, 2048, 3072, 4096, 5120 or 6144 MiB (1 to 6 GiB in steps of 1 GiB)",
        f"use Size.gibibytes({nearest // 1024}).",
    ))


class ProductionVariant:
    """A production variant: a model served by instances or serverlessly, with a traffic weight.

    Create one with ``ProductionVariant.instances(...)`` or ``ProductionVariant.serverless(...)``.
    Every value may be a token; tokens are not checked at synth time.
    """

    def __init__(
        self,
        *,
        variant_name: str,
        model_name: str,
        initial_variant_weight: float,
        instance_type: str | None = None,
        initial_instance_count: int | None = None,
        memory_size: Size | None = None,
        max_concurrency: int | None = None,
        provisioned_concurrency: int | None = None,
        model: ModelSource | None = None,
    ) -> None:
        """Use ``ProductionVariant.instances`` or ``ProductionVariant.serverless`` instead."""
        raise_refusals(
            _common_refusals(variant_name, model_name, initial_variant_weight,
                             instance_type is not None, memory_size is not None),
            f"the variant {_label(variant_name)}",
        )
        self.variant_name = variant_name
        self.model_name = model_name
        self.initial_variant_weight = initial_variant_weight
        self.instance_type = instance_type
        self.initial_instance_count = initial_instance_count
        self.memory_size = memory_size
        self.max_concurrency = max_concurrency
        self.provisioned_concurrency = provisioned_concurrency
        #: The model construct given as ``model`` (None: given by ``model_name``).
        self.model = model

    @staticmethod
    def instances(
        *,
        instance_type: str,
        model: ModelSource | None = None,
        model_name: str | None = None,
        variant_name: str = "AllTraffic",
        initial_instance_count: int = 1,
        initial_variant_weight: float = 1,
    ) -> ProductionVariant:
        """A variant served by ML instances.

        Give the model as ``model`` (a construct) or ``model_name`` (a name), not both.

        :param instance_type: the ML instance type, e.g. ``ml.m5.large``.
        :param model: the model to serve: a ``CfnModel`` or an ``aws_sagemaker_alpha.Model``
            (the endpoint config then depends on it). Default: - use ``model_name``
        :param model_name: the name of a SageMaker model to serve. Default: - use ``model``
        :param variant_name: the variant's name; keep it across updates (guardrails need the same
            variant names in the old and the new config). Default: - ``AllTraffic``
        :param initial_instance_count: the number of instances (>= 1). Default: - 1
        :param initial_variant_weight: the variant's share of traffic relative to the other
            variants (>= 0). Default: - 1
        """
        errors: list[str] = []
        label = _label(variant_name)
        if not is_unresolved(instance_type) and (
            not isinstance(instance_type, str)
            or _INSTANCE_TYPE_PATTERN.fullmatch(instance_type) is None
        ):
            errors.append(refuse(
                Rule.INSTANCE_TYPE, f"instance_type of variant {label}", repr(instance_type),
                "an ML instance type, ml.<family>.<size>", _instance_type_fix(instance_type)))
        _check_whole_number(errors, Rule.INSTANCE_COUNT_AT_LEAST_ONE,
                            f"initial_instance_count of variant {label}", initial_instance_count,
                            1, None)
        name = _model_name(errors, label, model, model_name)
        errors.extend(_common_refusals(variant_name, name, initial_variant_weight, True, False))
        raise_refusals(errors, f"ProductionVariant.instances (variant {label})")
        return ProductionVariant(
            variant_name=variant_name,
            model_name=name,
            initial_variant_weight=initial_variant_weight,
            instance_type=instance_type,
            initial_instance_count=initial_instance_count,
            model=model,
        )

    @staticmethod
    def serverless(
        *,
        memory_size: Size,
        max_concurrency: int,
        model: ModelSource | None = None,
        model_name: str | None = None,
        provisioned_concurrency: int | None = None,
        variant_name: str = "AllTraffic",
        initial_variant_weight: float = 1,
    ) -> ProductionVariant:
        """A serverless variant.

        Serverless variants support only ALL_AT_ONCE blue/green deployments, and no instance
        autoscaling. Give the model as ``model`` (a construct) or ``model_name``, not both.

        :param model: the model to serve: a ``CfnModel`` or an ``aws_sagemaker_alpha.Model``.
            Default: - use ``model_name``
        :param model_name: the name of a SageMaker model to serve. Default: - use ``model``
        :param memory_size: the memory of each worker: 1 to 6 GiB in steps of 1 GiB.
        :param max_concurrency: the maximum number of concurrent invocations (1..200).
        :param provisioned_concurrency: the number of pre-warmed workers (1..max_concurrency).
            Default: - no provisioned concurrency
        :param variant_name: the variant's name. Default: - ``AllTraffic``
        :param initial_variant_weight: the variant's share of traffic relative to the other
            variants (>= 0). Default: - 1
        """
        errors: list[str] = []
        label = _label(variant_name)
        _check_memory(errors, label, memory_size)
        _check_whole_number(errors, Rule.MAX_CONCURRENCY_RANGE,
                            f"max_concurrency of variant {label}", max_concurrency, 1,
                            _MAX_CONCURRENCY)
        if provisioned_concurrency is not None:
            upper = _MAX_CONCURRENCY if is_unresolved(max_concurrency) or not isinstance(
                max_concurrency, int) else max(1, min(max_concurrency, _MAX_CONCURRENCY))
            _check_whole_number(errors, Rule.PROVISIONED_CONCURRENCY_RANGE,
                                f"provisioned_concurrency of variant {label}",
                                provisioned_concurrency, 1, upper)
        name = _model_name(errors, label, model, model_name)
        errors.extend(_common_refusals(variant_name, name, initial_variant_weight, False, True))
        raise_refusals(errors, f"ProductionVariant.serverless (variant {label})")
        return ProductionVariant(
            variant_name=variant_name,
            model_name=name,
            initial_variant_weight=initial_variant_weight,
            memory_size=memory_size,
            max_concurrency=max_concurrency,
            provisioned_concurrency=provisioned_concurrency,
            model=model,
        )

    @property
    def serverless_variant(self) -> bool:
        """Whether this variant is serverless."""
        return self.memory_size is not None

    def to_facts(self) -> VariantFacts:
        """What a deployment strategy needs to know about this variant."""
        return VariantFacts(
            variant_name=self.variant_name,
            instance_type=self.instance_type,
            initial_instance_count=self.initial_instance_count,
            serverless=self.serverless_variant,
        )

    def render(self) -> sagemaker.CfnEndpointConfig.ProductionVariantProperty:
        """The variant as ``AWS::SageMaker::EndpointConfig`` ProductionVariants renders it."""
        serverless: dict[str, Any] | None = None
        if self.memory_size is not None:
            serverless = {
                "memory_size_in_mb": self.memory_size.to_mebibytes(),
                "max_concurrency": self.max_concurrency,
            }
            if self.provisioned_concurrency is not None:
                serverless["provisioned_concurrency"] = self.provisioned_concurrency
        return sagemaker.CfnEndpointConfig.ProductionVariantProperty(
            variant_name=self.variant_name,
            model_name=self.model_name,
            initial_variant_weight=self.initial_variant_weight,
            instance_type=self.instance_type,
            initial_instance_count=self.initial_instance_count,
            serverless_config=(
                sagemaker.CfnEndpointConfig.ServerlessConfigProperty(**serverless)
                if serverless is not None
                else None
            ),
        )
