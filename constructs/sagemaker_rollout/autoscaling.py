"""Application Auto Scaling of a variant's instance count, that survives rollouts.

Why rollouts and autoscaling need each other's attention:

- Every change of the variants is a new EndpointConfig. Without ``RetainAllVariantProperties``
  SageMaker resets each variant to the config's ``InitialInstanceCount`` on every update (the
  instance count the autoscaler chose is lost: aws/aws-cdk #23151). ``RolloutEndpoint`` therefore
  retains variant properties by default once autoscaling is attached.
- The scalable target names the endpoint (``endpoint/<name>/variant/<variant>``): it can only be
  registered once the endpoint is in service, so it depends on the rollout custom resource, which
  answers only then. CloudFormation deletes in reverse order: the scalable target (and its
  policies) are deregistered before the endpoint is deleted.
- SageMaker refuses an UpdateEndpoint that changes the instance type of a variant that is a
  scalable target ("Update endpoints that use auto scaling", SageMaker developer guide): change
  the instance type in two deployments (remove autoscaling, then change the type and add it back).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from aws_cdk import Duration, Stack
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_iam as iam

from constructs import Construct, IDependable

from .rules import Rule, WarningId, raise_refusals, refuse
from .tokens import is_unresolved
from .variants import ProductionVariant, VariantProperty, unknown_variant_refusal

#: Application Auto Scaling's scalable dimension of a SageMaker variant's instance count.
SCALABLE_DIMENSION = "sagemaker:variant:DesiredInstanceCount"

#: The service-linked role Application Auto Scaling uses for SageMaker endpoints (created by AWS
#: on first use; aws-cdk's alpha SageMaker Endpoint uses it too).
SERVICE_LINKED_ROLE = (
    "aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
    "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
)


def resource_id(endpoint_name: str, variant_name: str) -> str:
    """Application Auto Scaling's ResourceId of a variant."""
    return f"endpoint/{endpoint_name}/variant/{variant_name}"


class InstanceCountScaling(Construct):
    """Application Auto Scaling of the instance count of one variant of a ``RolloutEndpoint``.

    Create it with ``RolloutEndpoint.auto_scale_instance_count``. Add policies with
    ``scale_on_invocations`` or through ``scalable_target`` (schedules, step scaling, other
    metrics such as ``ApproximateBacklogSizePerInstance`` for asynchronous endpoints).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        endpoint_name: str,
        variant_name: str,
        min_capacity: int,
        max_capacity: int,
        endpoint_in_service: IDependable,
    ) -> None:
        """
        :param endpoint_name: the endpoint's name.
        :param variant_name: the variant's name.
        :param min_capacity: the fewest instances.
        :param max_capacity: the most instances.
        :param endpoint_in_service: what makes the endpoint exist and be in service (the
            rollout custom resource): the scalable target depends on it.
        """
        super().__init__(scope, construct_id)
        self.variant_name = variant_name
        role = iam.Role.from_role_arn(
            self,
            "ServiceLinkedRole",
            Stack.of(self).format_arn(
                service="iam", region="", resource="role", resource_name=SERVICE_LINKED_ROLE
            ),
        )
        #: The scalable target of the variant's DesiredInstanceCount.
        self.scalable_target = appscaling.ScalableTarget(
            self,
            "Target",
            service_namespace=appscaling.ServiceNamespace.SAGEMAKER,
            resource_id=resource_id(endpoint_name, variant_name),
            scalable_dimension=SCALABLE_DIMENSION,
            min_capacity=min_capacity,
            max_capacity=max_capacity,
            role=role,
        )
        self.scalable_target.node.add_dependency(endpoint_in_service)

    def scale_on_invocations(
        self,
        construct_id: str,
        *,
        invocations_per_instance: float,
        scale_in_cooldown: Duration | None = None,
        scale_out_cooldown: Duration | None = None,
        disable_scale_in: bool = False,
    ) -> appscaling.TargetTrackingScalingPolicy:
        """Keep the invocations per instance and minute near a target (target tracking on
        ``SageMakerVariantInvocationsPerInstance``).

        :param construct_id: the policy's construct id.
        :param invocations_per_instance: the target, in invocations per instance per minute
            (> 0). Measure the most one instance sustains, and aim at about half of it.
        :param scale_in_cooldown: time after a scale-in before the next.
            Default: - Application Auto Scaling's (300 seconds)
        :param scale_out_cooldown: time after a scale-out before the next.
            Default: - Application Auto Scaling's (300 seconds)
        :param disable_scale_in: never remove instances. Default: - false
        """
        errors: list[str] = []
        check_target(errors, invocations_per_instance)
        raise_refusals(errors, "scale_on_invocations")
        return self.scalable_target.scale_to_track_metric(
            construct_id,
            target_value=invocations_per_instance,
            predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
            scale_in_cooldown=scale_in_cooldown,
            scale_out_cooldown=scale_out_cooldown,
            disable_scale_in=disable_scale_in,
        )


def check_target(errors: list[str], invocations_per_instance: float) -> None:
    """The target tracking value: a positive number (tokens pass)."""
    if is_unresolved(invocations_per_instance):
        return
    if (
        isinstance(invocations_per_instance, bool)
        or not isinstance(invocations_per_instance, int | float)
        or not invocations_per_instance > 0  # (NaN too)
    ):
        errors.append(refuse(
            Rule.SCALING_TARGET, "invocations_per_instance", repr(invocations_per_instance),
            "a number > 0 (invocations per instance per minute)",
            "measure the most one instance sustains per minute, and aim at about half of it "
            "(such as 600)."))


def check_capacities(
    errors: list[str], variant_name: str, min_capacity: int, max_capacity: int, floor: int
) -> None:
    """``floor <= min_capacity <= max_capacity``, whole numbers (tokens pass)."""
    limit = f"a whole number >= {floor}" + (
        " (0 only for asynchronous inference endpoints)" if floor == 1 else "")
    for field, value in (("min_capacity", min_capacity), ("max_capacity", max_capacity)):
        if is_unresolved(value):
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < floor:
            whole = isinstance(value, float) and math.isfinite(value) and value > floor
            errors.append(refuse(
                Rule.SCALING_CAPACITY, f"{field} of variant {variant_name!r}", repr(value), limit,
                f"use {math.ceil(value)}." if whole else f"use {floor} or more."))
    if (
        not is_unresolved(min_capacity)
        and not is_unresolved(max_capacity)
        and isinstance(min_capacity, int) and isinstance(max_capacity, int)
        and min_capacity > max_capacity
    ):
        errors.append(refuse(
            Rule.SCALING_CAPACITY, f"max_capacity of variant {variant_name!r}",
            f"{max_capacity} with min_capacity {min_capacity}",
            "a whole number >= min_capacity",
            f"use max_capacity={min_capacity} or more, or a smaller min_capacity."))


@dataclass(frozen=True)
class ScalingPlan:
    """What `EndpointScalings.check` decided for one variant's scaling."""

    variant_name: str
    construct_id: str
    warnings: list[tuple[WarningId, str]]


class EndpointScalings:
    """The instance-count scalings of one endpoint's variants: which variant may be scaled, with
    what, and what that means for the endpoint's retained variant properties."""

    def __init__(
        self,
        variants: Sequence[ProductionVariant],
        *,
        retain_variant_properties: bool | None,
        exclusions: Sequence[VariantProperty],
        asynchronous: bool,
    ) -> None:
        self._variants = list(variants)
        self._retain_variant_properties = retain_variant_properties
        self._exclusions = list(exclusions)
        self._asynchronous = asynchronous
        self._scalings: dict[str, InstanceCountScaling] = {}

    def retains_variant_properties(self) -> bool:
        """RetainAllVariantProperties: as given, else whether any variant is scaled."""
        if self._retain_variant_properties is not None:
            return self._retain_variant_properties
        return bool(self._scalings)

    def check(
        self,
        variant_name: str | None,
        min_capacity: int,
        max_capacity: int,
        invocations_per_instance: float | None,
        cooldown_given: bool,
    ) -> ScalingPlan:
        """Check a new scaling (raises ValueError); its variant, construct id and warnings."""
        variant = self._variant_to_scale(variant_name)
        errors: list[str] = []
        name = variant.variant_name
        check_capacities(errors, name, min_capacity, max_capacity, 0 if self._asynchronous else 1)
        if invocations_per_instance is None and cooldown_given:
            errors.append(refuse(
                Rule.COOLDOWN_NEEDS_TARGET, "scale_in_cooldown / scale_out_cooldown",
                "given without invocations_per_instance", "cooldowns of the "
                "invocations_per_instance policy only", "give invocations_per_instance= too, or "
                "pass the cooldowns to the policy you add to the returned scaling."))
        if invocations_per_instance is not None:
            check_target(errors, invocations_per_instance)
        if name in self._scalings:
            errors.append(refuse(
                Rule.SCALED_ONCE, "variant_name", f"{name!r}, whose instance count is scaled "
                "already", "one auto_scale_instance_count per variant",
                "add policies to the InstanceCountScaling that the first "
                "auto_scale_instance_count returned."))
        raise_refusals(errors, "auto_scale_instance_count")
        warnings = self._retention_warnings(name)
        warnings.extend(_range_warnings(variant, min_capacity, max_capacity))
        construct_id = (f"InstanceCountScaling{len(self._scalings)}" if is_unresolved(name)
                        else f"{name}InstanceCountScaling")
        return ScalingPlan(name, construct_id, warnings)

    def add(self, variant_name: str, scaling: InstanceCountScaling) -> None:
        self._scalings[variant_name] = scaling

    def _variant_to_scale(self, variant_name: str | None) -> ProductionVariant:
        """The variant to scale; raises its refusal when there is none (the other checks need
        it)."""
        errors: list[str] = []
        names = [variant.variant_name for variant in self._variants]
        if variant_name is None and len(self._variants) != 1:
            errors.append(refuse(
                Rule.KNOWN_VARIANT, "variant_name", "not given",
                f"one of the endpoint's {len(names)} variants {names!r}",
                f"pass variant_name={names[0]!r} (or another of them)."))
        found = [v for v in self._variants if variant_name in (None, v.variant_name)]
        if not found and not errors:
            errors.append(unknown_variant_refusal("variant_name", str(variant_name), names))
        raise_refusals(errors, "auto_scale_instance_count")
        variant = found[0]
        if variant.serverless_variant:
            errors.append(refuse(
                Rule.SCALING_NEEDS_INSTANCES, "variant_name",
                f"{variant.variant_name!r}, a serverless variant",
                "an instance-based variant (serverless variants scale by themselves up to "
                "max_concurrency)", "raise the variant's max_concurrency instead."))
        raise_refusals(errors, "auto_scale_instance_count")
        return variant

    def _retention_warnings(self, variant_name: str) -> list[tuple[WarningId, str]]:
        if self._retain_variant_properties is False:
            return [(
                WarningId.AUTOSCALING_RESET,
                f"variant {variant_name} is autoscaled but retain_variant_properties=False: every "
                "update of the endpoint resets its instance count to initial_instance_count, "
                "whatever the autoscaler chose (and the deployment's percentages apply to that "
                "count). Leave retain_variant_properties unset to keep the count.",
            )]
        if VariantProperty.DESIRED_INSTANCE_COUNT in self._exclusions:
            return [(
                WarningId.AUTOSCALING_COUNT_EXCLUDED,
                f"variant {variant_name} is autoscaled but retained_properties_exclusions has "
                "DESIRED_INSTANCE_COUNT: every update resets its instance count to "
                "initial_instance_count, whatever the autoscaler chose.",
            )]
        return []


def _range_warnings(
    variant: ProductionVariant, min_capacity: int, max_capacity: int
) -> list[tuple[WarningId, str]]:
    count = variant.initial_instance_count
    if (
        count is None
        or any(is_unresolved(v) for v in (count, min_capacity, max_capacity))
        or min_capacity <= count <= max_capacity
    ):
        return []
    return [(
        WarningId.INITIAL_COUNT_OUT_OF_RANGE,
        f"variant {variant.variant_name}: initial_instance_count {count} is outside the scaling "
        f"range {min_capacity}..{max_capacity}: the endpoint is created with {count} instances "
        "and Application Auto Scaling then moves it into the range.",
    )]
