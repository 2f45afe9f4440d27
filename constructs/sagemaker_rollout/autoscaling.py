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

from aws_cdk import Duration, Stack
from aws_cdk import aws_applicationautoscaling as appscaling
from aws_cdk import aws_iam as iam

from constructs import Construct, IDependable

from .tokens import is_unresolved

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
        check_target(invocations_per_instance)
        return self.scalable_target.scale_to_track_metric(
            construct_id,
            target_value=invocations_per_instance,
            predefined_metric=appscaling.PredefinedMetric.SAGEMAKER_VARIANT_INVOCATIONS_PER_INSTANCE,
            scale_in_cooldown=scale_in_cooldown,
            scale_out_cooldown=scale_out_cooldown,
            disable_scale_in=disable_scale_in,
        )


def check_target(invocations_per_instance: float) -> None:
    """Raise ValueError unless the target tracking value is a positive number (tokens pass)."""
    if is_unresolved(invocations_per_instance):
        return
    if (
        isinstance(invocations_per_instance, bool)
        or not isinstance(invocations_per_instance, int | float)
        or not invocations_per_instance > 0  # (NaN too)
    ):
        raise ValueError(
            f"invocations_per_instance {invocations_per_instance!r} is not allowed: allowed is a "
            "number > 0 (invocations per instance per minute)"
        )


def check_capacities(variant_name: str, min_capacity: int, max_capacity: int, floor: int) -> None:
    """Raise ValueError unless ``floor <= min_capacity <= max_capacity``, whole numbers."""
    for field, value in (("min_capacity", min_capacity), ("max_capacity", max_capacity)):
        if is_unresolved(value):
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < floor:
            raise ValueError(
                f"{field} {value!r} of variant {variant_name!r} is not allowed: allowed is a "
                f"whole number >= {floor}"
                + (" (0 only for asynchronous inference endpoints)" if floor == 1 else "")
            )
    if (
        not is_unresolved(min_capacity)
        and not is_unresolved(max_capacity)
        and min_capacity > max_capacity
    ):
        raise ValueError(
            f"max_capacity {max_capacity!r} of variant {variant_name!r} is not allowed: allowed "
            f"is a whole number >= min_capacity ({min_capacity})"
        )
