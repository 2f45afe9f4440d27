"""Refusals of combinations SageMaker documents as invalid, duplicate endpoint names, the
unsupported DataCaptureConfig exclusion; the retained-weights warning; an alarm added twice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from aws_cdk import App, Size, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Annotations, Match, Template
from construct_support import instance_variant, new_stack
from sagemaker_rollout import (
    AsyncInference,
    ProductionVariant,
    RolloutEndpoint,
    VariantProperty,
)


def serverless(name: str = "AllTraffic") -> ProductionVariant:
    return ProductionVariant.serverless(model_name="model-s", memory_size=Size.gibibytes(2),
                                        max_concurrency=5, variant_name=name)


def build(**props: Any) -> RolloutEndpoint:
    stack = new_stack()
    props.setdefault("variants", [instance_variant()])
    return RolloutEndpoint(stack, "Endpoint", **props)


def build_async(**props: Any) -> RolloutEndpoint:
    stack = new_stack()
    props.setdefault("variants", [instance_variant()])
    return RolloutEndpoint(stack, "Endpoint",
                           async_inference=AsyncInference(output_bucket=s3.Bucket(stack, "Out")),
                           **props)


REFUSALS: list[tuple[str, Callable[[], object], str, list[str]]] = [
    ("instance and serverless variants",
     lambda: build(variants=[instance_variant("A"), serverless("B")]),
     "instance-and-serverless-variants", ["'B'", "'A'", "Fix: put the serverless variant"]),
    ("two serverless variants",
     lambda: build(variants=[serverless("A"), serverless("B")]),
     "one-serverless-variant", ["2 serverless variants", "Fix: one RolloutEndpoint"]),
    ("serverless with async inference",
     lambda: build_async(variants=[serverless()]),
     "serverless-not-async", ["async_inference", "Fix: use ProductionVariant.instances"]),
    ("a shadow variant of a serverless endpoint",
     lambda: build(variants=[serverless()], shadow_variants=[instance_variant("Shadow")]),
     "shadow-test-exclusions", ["serverless variant(s) 'AllTraffic'", "Shadow tests"]),
    ("a serverless shadow variant",
     lambda: build(shadow_variants=[serverless("Shadow")]),
     "shadow-test-exclusions", ["serverless variant(s) 'Shadow'"]),
    ("a shadow variant with async inference",
     lambda: build_async(shadow_variants=[instance_variant("Shadow")]),
     "shadow-test-exclusions", ["with async_inference"]),
    ("a shadow variant on Inf1",
     lambda: build(shadow_variants=[instance_variant("Shadow", instance_type="ml.inf1.xlarge")]),
     "shadow-test-exclusions", ["Inf1 instances in variant(s) 'Shadow'"]),
    ("a shadow variant of an Inf1 production variant",
     lambda: build(variants=[instance_variant(instance_type="ml.inf1.xlarge")],
                   shadow_variants=[instance_variant("Shadow")]),
     "shadow-test-exclusions", ["Inf1 instances in variant(s) 'AllTraffic'"]),
    ("the DataCaptureConfig exclusion",
     lambda: build(retain_variant_properties=True,
                   retained_properties_exclusions=[VariantProperty.DATA_CAPTURE_CONFIG]),
     "data-capture-exclusion-unsupported", ["(Not currently supported.)",
                                            "Fix: drop VariantProperty.DATA_CAPTURE_CONFIG"]),
]


@pytest.mark.parametrize(
    ("build_it", "rule", "words"),
    [pytest.param(b, r, w, id=what) for what, b, r, w in REFUSALS],
)
def test_an_invalid_combination_is_refused_with_its_rule(
    build_it: Callable[[], object], rule: str, words: list[str]
) -> None:
    with pytest.raises(ValueError, match=rf"\[sagemaker-rollout:{rule}\]") as refused:
        build_it()
    for word in words:
        assert word in str(refused.value)


def test_every_refused_combination_is_said_at_once() -> None:
    with pytest.raises(ValueError) as refused:
        build_async(variants=[instance_variant("A"), serverless("B")],
                    retain_variant_properties=True,
                    retained_properties_exclusions=[VariantProperty.DATA_CAPTURE_CONFIG])
    message = str(refused.value)
    for rule in ("instance-and-serverless-variants", "serverless-not-async",
                 "data-capture-exclusion-unsupported"):
        assert f"[sagemaker-rollout:{rule}]" in message


@pytest.mark.parametrize("fixed", [
    pytest.param(lambda: build(variants=[serverless()]), id="serverless alone"),
    pytest.param(lambda: build(shadow_variants=[instance_variant("Shadow",
                                                                 instance_type="ml.inf2.xlarge")]),
                 id="shadow on another family"),
    pytest.param(lambda: build_async(), id="async on instances"),
    pytest.param(lambda: build(retain_variant_properties=True,
                               retained_properties_exclusions=[VariantProperty.DESIRED_WEIGHT]),
                 id="a supported exclusion"),
])
def test_the_fixes_the_refusals_propose_pass(fixed: Callable[[], RolloutEndpoint]) -> None:
    Template.from_stack(Stack.of(fixed()))


# --- endpoint names -----------------------------------------------------------------------------


def test_two_endpoints_of_one_name_in_a_stack_are_refused_whatever_their_case() -> None:
    stack = new_stack()
    RolloutEndpoint(stack, "First", endpoint_name="fraud-scoring", variants=[instance_variant()])
    with pytest.raises(ValueError, match=r"\[sagemaker-rollout:unique-endpoint-name\]") as refused:
        RolloutEndpoint(stack, "Second", endpoint_name="Fraud-Scoring",
                        variants=[instance_variant()])
    assert "Stack/Second" in str(refused.value)
    assert "Stack/First has it" in str(refused.value)


def test_the_same_name_in_two_stacks_is_allowed() -> None:
    app = App(context={"aws:cdk:bundling-stacks": []})
    for stack_id in ("Blue", "Green"):
        RolloutEndpoint(Stack(app, stack_id), "Endpoint", endpoint_name="fraud-scoring",
                        variants=[instance_variant()])
    app.synth()


# --- retained weights --------------------------------------------------------------------------

WEIGHT_WARNING = Match.string_like_regexp("initial_variant_weight")


def two_variant_endpoint(stack: Stack, **props: Any) -> RolloutEndpoint:
    return RolloutEndpoint(stack, "Endpoint", variants=[instance_variant("A"),
                                                        instance_variant("B")], **props)


def test_autoscaling_a_two_variant_endpoint_warns_that_weight_changes_are_kept() -> None:
    stack = new_stack()
    two_variant_endpoint(stack).auto_scale_instance_count(max_capacity=4, variant_name="A")
    Annotations.from_stack(stack).has_warning("/Stack/Endpoint", WEIGHT_WARNING)


def test_excluding_the_weight_from_retention_does_not_warn() -> None:
    stack = new_stack()
    two_variant_endpoint(
        stack, retain_variant_properties=True,
        retained_properties_exclusions=[VariantProperty.DESIRED_WEIGHT],
    ).auto_scale_instance_count(max_capacity=4, variant_name="A")
    Annotations.from_stack(stack).has_no_warning("*", WEIGHT_WARNING)


def test_one_variant_has_no_weight_to_keep_and_does_not_warn() -> None:
    stack = new_stack()
    RolloutEndpoint(stack, "Endpoint", variants=[instance_variant()]).auto_scale_instance_count(
        max_capacity=4)
    Annotations.from_stack(stack).has_no_warning("*", WEIGHT_WARNING)


# --- alarms ---------------------------------------------------------------------------------------


def test_an_alarm_added_twice_is_rendered_once() -> None:
    stack = new_stack()
    alarm = cloudwatch.Alarm.from_alarm_arn(
        stack, "Imported", "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:errors")
    same = cloudwatch.Alarm.from_alarm_arn(
        stack, "ImportedAgain", "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:errors")
    endpoint = RolloutEndpoint(stack, "Endpoint", variants=[instance_variant()],
                               rollback_alarms=[alarm, alarm])
    endpoint.add_rollback_alarm(alarm)
    endpoint.add_rollback_alarm(same)
    assert len(endpoint.rollback_alarms) == 1
    (resource,) = Template.from_stack(stack).find_resources(
        "Custom::SageMakerEndpointRollout").values()
    rollback = resource["Properties"]["DeploymentConfig"]["AutoRollbackConfiguration"]
    assert rollback == {"Alarms": [{"AlarmName": "errors"}]}
