"""Production variants of a RolloutEndpoint, and the variant properties an update can retain."""

from __future__ import annotations

import enum
import re
from typing import Any, Protocol, runtime_checkable

from aws_cdk import Size, SizeRoundingBehavior
from aws_cdk import aws_sagemaker as sagemaker

from .naming import validate_name
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


def _model_name(variant_name: str, model: ModelSource | None, model_name: str | None) -> str:
    """The name to render from exactly one of ``model`` and ``model_name``."""
    if (model is None) == (model_name is None):
        raise ValueError(
            f"variant {variant_name!r} needs exactly one of model (a CfnModel or an "
            "aws_sagemaker_alpha Model) and model_name (a model's name), not both and not neither"
        )
    if model_name is not None:
        return model_name
    if isinstance(model, sagemaker.CfnModel):
        # Its Ref is the ARN; the name is an attribute (and a generated one when not given).
        return model.attr_model_name
    name = getattr(model, "model_name", None)
    if not isinstance(name, str):
        raise ValueError(
            f"model {model!r} of variant {variant_name!r} is not allowed: allowed are a "
            "CfnModel, or a model construct with a model_name string (aws_sagemaker_alpha Model)"
        )
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


def _check_whole_number(field: str, value: int | float, minimum: int, maximum: int | None) -> None:
    if is_unresolved(value):
        return
    allowed = f"a whole number >= {minimum}" if maximum is None else (
        f"a whole number from {minimum} to {maximum}"
    )
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or value < minimum
        or (maximum is not None and value > maximum)
    ):
        raise ValueError(f"{field} {value!r} is not allowed: allowed is {allowed}")


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
    ) -> None:
        """Use ``ProductionVariant.instances`` or ``ProductionVariant.serverless`` instead."""
        if (instance_type is None) == (memory_size is None):
            raise ValueError(
                f"variant {variant_name!r} needs either instance_type (instances) or memory_size "
                "(serverless), not both and not neither: use ProductionVariant.instances(...) or "
                "ProductionVariant.serverless(...)"
            )
        validate_name("variant_name", variant_name)
        validate_name("model_name", model_name)
        if not is_unresolved(initial_variant_weight) and (
            isinstance(initial_variant_weight, bool)
            or not isinstance(initial_variant_weight, int | float)
            or not initial_variant_weight >= 0  # (NaN too)
        ):
            raise ValueError(
                f"initial_variant_weight {initial_variant_weight!r} of variant {variant_name!r} "
                "is not allowed: allowed is a number >= 0"
            )
        self.variant_name = variant_name
        self.model_name = model_name
        self.initial_variant_weight = initial_variant_weight
        self.instance_type = instance_type
        self.initial_instance_count = initial_instance_count
        self.memory_size = memory_size
        self.max_concurrency = max_concurrency
        self.provisioned_concurrency = provisioned_concurrency

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
        if not is_unresolved(instance_type) and (
            not isinstance(instance_type, str)
            or _INSTANCE_TYPE_PATTERN.fullmatch(instance_type) is None
        ):
            raise ValueError(
                f"instance_type {instance_type!r} of variant {variant_name!r} is not allowed: "
                "allowed is an ML instance type such as 'ml.m5.large' (ml.<family>.<size>)"
            )
        _check_whole_number(
            f"initial_instance_count of variant {variant_name!r}", initial_instance_count, 1, None
        )
        return ProductionVariant(
            variant_name=variant_name,
            model_name=_model_name(variant_name, model, model_name),
            initial_variant_weight=initial_variant_weight,
            instance_type=instance_type,
            initial_instance_count=initial_instance_count,
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
        if not memory_size.is_unresolved():
            mebibytes = memory_size.to_mebibytes(rounding=SizeRoundingBehavior.NONE)
            if mebibytes not in _SERVERLESS_MEMORY_MB:
                raise ValueError(
                    f"memory_size of variant {variant_name!r} is {mebibytes:g} MiB, which is not "
                    "allowed: allowed are 1024, 2048, 3072, 4096, 5120 or 6144 MiB (1 to 6 GiB in "
                    "steps of 1 GiB)"
                )
        _check_whole_number(
            f"max_concurrency of variant {variant_name!r}", max_concurrency, 1, _MAX_CONCURRENCY
        )
        if provisioned_concurrency is not None:
            upper = _MAX_CONCURRENCY if is_unresolved(max_concurrency) else max_concurrency
            _check_whole_number(
                f"provisioned_concurrency of variant {variant_name!r}",
                provisioned_concurrency,
                1,
                upper,
            )
        return ProductionVariant(
            variant_name=variant_name,
            model_name=_model_name(variant_name, model, model_name),
            initial_variant_weight=initial_variant_weight,
            memory_size=memory_size,
            max_concurrency=max_concurrency,
            provisioned_concurrency=provisioned_concurrency,
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
