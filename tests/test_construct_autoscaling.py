"""auto_scale_instance_count: a scalable target after the endpoint, target tracking on
invocations per instance, and variant properties retained across rollouts."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import Duration, Size, Stack
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match, Template
from construct_support import instance_variant, new_stack, only
from sagemaker_rollout import (
    AsyncInference,
    ProductionVariant,
    RolloutEndpoint,
    VariantProperty,
)

ROLLOUT = "Custom::SageMakerEndpointRollout"
TARGET = "AWS::ApplicationAutoScaling::ScalableTarget"
POLICY = "AWS::ApplicationAutoScaling::ScalingPolicy"



def variant(name: str = "AllTraffic", **overrides: Any) -> ProductionVariant:
    return instance_variant(name, **{"initial_instance_count": 2, **overrides})


def endpoint(stack: Stack | None = None, **props: Any) -> RolloutEndpoint:
    props.setdefault("variants", [variant()])
    return RolloutEndpoint(stack or new_stack(), "Endpoint", endpoint_name="my-endpoint", **props)


class Scaled:
    """An endpoint whose only variant scales 1..4 on invocations per instance."""

    def __init__(self) -> None:
        self.stack = new_stack()
        self.endpoint = endpoint(self.stack)
        self.scaling = self.endpoint.auto_scale_instance_count(
            min_capacity=1,
            max_capacity=4,
            invocations_per_instance=600,
            scale_in_cooldown=Duration.minutes(10),
        )
        self.template = Template.from_stack(self.stack)
        self.rollout_id, self.rollout = only(self.template, ROLLOUT)
        self.target_id, self.target = only(self.template, TARGET)
        self.policy_id, self.policy = only(self.template, POLICY)


@pytest.fixture(scope="module")
def scaled() -> Scaled:
    return Scaled()


def test_scalable_target_is_the_variants_desired_instance_count(scaled: Scaled) -> None:
    assert scaled.target["Properties"] | {"RoleARN": None} == {
        "ServiceNamespace": "sagemaker",
        "ResourceId": "endpoint/my-endpoint/variant/AllTraffic",
        "ScalableDimension": "sagemaker:variant:DesiredInstanceCount",
        "MinCapacity": 1,
        "MaxCapacity": 4,
        "RoleARN": None,
    }


def test_scalable_target_uses_the_sagemaker_service_linked_role(scaled: Scaled) -> None:
    role = scaled.stack.resolve(scaled.target["Properties"]["RoleARN"])
    assert role["Fn::Join"][1][-1].endswith(
        ":role/aws-service-role/sagemaker.application-autoscaling.amazonaws.com/"
        "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint"
    )
    assert not scaled.template.find_resources("AWS::IAM::Role", {
        "Properties": {"AssumeRolePolicyDocument": {"Statement": [Match.object_like(
            {"Principal": {"Service": "application-autoscaling.amazonaws.com"}})]}}
    })


def test_scalable_target_waits_for_the_endpoint_in_service(scaled: Scaled) -> None:
    # Created after the rollout answered (endpoint InService); deleted before the endpoint.
    assert scaled.rollout_id in scaled.target["DependsOn"]


def test_target_tracking_keeps_invocations_per_instance_near_the_target(scaled: Scaled) -> None:
    assert scaled.policy["Properties"]["ScalingTargetId"] == {"Ref": scaled.target_id}
    assert scaled.policy["Properties"]["TargetTrackingScalingPolicyConfiguration"] == {
        "PredefinedMetricSpecification": {
            "PredefinedMetricType": "SageMakerVariantInvocationsPerInstance"
        },
        "TargetValue": 600,
        "ScaleInCooldown": 600,
        "DisableScaleIn": False,
    }


def test_autoscaling_retains_variant_properties_by_default(scaled: Scaled) -> None:
    assert scaled.rollout["Properties"]["RetainAllVariantProperties"] is True


def test_without_autoscaling_variant_properties_are_not_retained_by_default() -> None:
    stack = new_stack()
    endpoint(stack)
    _, rollout = only(Template.from_stack(stack), ROLLOUT)
    assert rollout["Properties"]["RetainAllVariantProperties"] is False


def test_scaling_without_a_target_adds_no_policy() -> None:
    stack = new_stack()
    endpoint(stack).auto_scale_instance_count(max_capacity=3)
    template = Template.from_stack(stack)
    template.resource_count_is(TARGET, 1)
    template.resource_count_is(POLICY, 0)


# --- warnings ------------------------------------------------------------------------------------


def test_turning_retention_off_with_autoscaling_warns_about_the_reset() -> None:
    stack = new_stack()
    ep = endpoint(stack, retain_variant_properties=False)
    ep.auto_scale_instance_count(max_capacity=3)
    Annotations.from_stack(stack).has_warning(
        "/Stack/Endpoint", Match.string_like_regexp("resets its instance count to initial")
    )
    _, rollout = only(Template.from_stack(stack), ROLLOUT)
    assert rollout["Properties"]["RetainAllVariantProperties"] is False


def test_excluding_the_instance_count_with_autoscaling_warns_about_the_reset() -> None:
    stack = new_stack()
    ep = endpoint(
        stack,
        retain_variant_properties=True,
        retained_properties_exclusions=[VariantProperty.DESIRED_INSTANCE_COUNT],
    )
    ep.auto_scale_instance_count(max_capacity=3)
    Annotations.from_stack(stack).has_warning(
        "/Stack/Endpoint", Match.string_like_regexp("DESIRED_INSTANCE_COUNT.*resets")
    )


def test_retained_autoscaling_does_not_warn(scaled: Scaled) -> None:
    Annotations.from_stack(scaled.stack).has_no_warning("*", Match.string_like_regexp("resets"))


def test_initial_count_outside_the_scaling_range_warns() -> None:
    stack = new_stack()
    endpoint(stack).auto_scale_instance_count(min_capacity=3, max_capacity=5)
    Annotations.from_stack(stack).has_warning(
        "/Stack/Endpoint", Match.string_like_regexp("outside the scaling range 3..5")
    )


# --- refusals ------------------------------------------------------------------------------------


def test_serverless_variant_cannot_be_autoscaled() -> None:
    ep = endpoint(variants=[ProductionVariant.serverless(
        model_name="model-a", memory_size=Size.gibibytes(1), max_concurrency=5)])
    with pytest.raises(ValueError, match=(r"scaling-needs-instances\] variant_name"
            r" = 'AllTraffic', a serverless variant")):
        ep.auto_scale_instance_count(max_capacity=3)


@pytest.mark.parametrize(
    ("min_capacity", "max_capacity", "words"),
    [
        (0, 3, r"\[sagemaker-rollout:scaling-capacity\] min_capacity .* = 0; .* >= 1.* Fix: use 1"),
        (4, 3, (r"scaling-capacity\] max_capacity .* = 3 with"
                r" min_capacity 4.* Fix: use max_capacity=4")),
        (1, 2.5, r"scaling-capacity\] max_capacity .* = 2.5; .*whole number.* Fix: use 3\."),
    ],
)
def test_capacities_out_of_range_are_refused(
    min_capacity: Any, max_capacity: Any, words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        endpoint().auto_scale_instance_count(min_capacity=min_capacity, max_capacity=max_capacity)


def test_asynchronous_endpoint_may_scale_to_zero() -> None:
    stack = new_stack()
    ep = endpoint(stack, async_inference=AsyncInference(output_bucket=s3.Bucket(stack, "Out")))
    ep.auto_scale_instance_count(min_capacity=0, max_capacity=2)
    Template.from_stack(stack).has_resource_properties(TARGET, {"MinCapacity": 0})


def test_variant_name_is_required_with_two_variants() -> None:
    ep = endpoint(variants=[variant("Blue"), variant("Green")])
    with pytest.raises(ValueError, match=(r"known-variant\] variant_name = not given;"
            r" .*\['Blue', 'Green'\]. Fix: pass variant_name='Blue'")):
        ep.auto_scale_instance_count(max_capacity=3)


def test_each_of_two_variants_gets_its_own_scalable_target() -> None:
    stack = new_stack()
    ep = endpoint(stack, variants=[variant("Blue"), variant("Green")])
    for name in ("Blue", "Green"):
        ep.auto_scale_instance_count(variant_name=name, max_capacity=3)
    targets = Template.from_stack(stack).find_resources(TARGET)
    assert sorted(t["Properties"]["ResourceId"] for t in targets.values()) == [
        "endpoint/my-endpoint/variant/Blue",
        "endpoint/my-endpoint/variant/Green",
    ]


def test_unknown_variant_is_refused() -> None:
    with pytest.raises(ValueError, match=(r"known-variant\] variant_name = 'Red'; .*"
            r" \['AllTraffic'\]. Fix: use 'AllTraffic'")):
        endpoint().auto_scale_instance_count(variant_name="Red", max_capacity=3)


def test_scaling_a_variant_twice_is_refused() -> None:
    ep = endpoint()
    ep.auto_scale_instance_count(max_capacity=3)
    with pytest.raises(ValueError, match=(r"scaled-once\] variant_name = 'AllTraffic',"
            r" whose instance count is scaled already")):
        ep.auto_scale_instance_count(max_capacity=5)


def test_non_positive_target_is_refused() -> None:
    with pytest.raises(ValueError, match=(r"scaling-target\] invocations_per_instance"
            r" = 0; the limit is a number > 0")):
        endpoint().auto_scale_instance_count(max_capacity=3, invocations_per_instance=0)


def test_a_target_that_is_not_a_number_is_refused() -> None:
    with pytest.raises(ValueError, match=(r"scaling-target\] invocations_per_instance"
            r" = nan; the limit is a number > 0")):
        endpoint().auto_scale_instance_count(max_capacity=3, invocations_per_instance=float("nan"))


def test_an_escape_hatch_override_after_autoscaling_wins() -> None:
    stack = new_stack()
    ep = endpoint(stack)
    ep.auto_scale_instance_count(max_capacity=3)
    cfn = ep.custom_resource.node.default_child
    cfn.add_property_override("RetainAllVariantProperties", False)  # type: ignore[union-attr]
    _, rollout = only(Template.from_stack(stack), ROLLOUT)
    assert rollout["Properties"]["RetainAllVariantProperties"] is False


def test_autoscaling_leaves_an_earlier_override_alone_when_retention_was_given() -> None:
    stack = new_stack()
    ep = endpoint(stack, retain_variant_properties=True)
    cfn = ep.custom_resource.node.default_child
    cfn.add_property_override("RetainAllVariantProperties", False)  # type: ignore[union-attr]
    ep.auto_scale_instance_count(max_capacity=3)
    _, rollout = only(Template.from_stack(stack), ROLLOUT)
    assert rollout["Properties"]["RetainAllVariantProperties"] is False


def test_cooldown_without_a_target_is_refused() -> None:
    with pytest.raises(ValueError, match=(r"cooldown-needs-target\] scale_in_cooldown /"
            r" scale_out_cooldown = given without invocations_per_instance")):
        endpoint().auto_scale_instance_count(
            max_capacity=3, scale_in_cooldown=Duration.minutes(5)
        )
