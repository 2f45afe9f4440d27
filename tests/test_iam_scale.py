"""The provider's policy at a platform team's scale, measured as IAM counts it, and the synth-time
check of IAM's limits (`iam_limits.py`).

Every policy is measured on the template with its intrinsics resolved for a real-looking
deployment (`iam_evaluator.Deployment`), without whitespace: what IAM would count.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_iam as iam
from aws_cdk.assertions import Template
from iam_evaluator import Deployment
from sagemaker_rollout import ProductionVariant, RolloutEndpoint, RolloutProvider
from sagemaker_rollout.iam_limits import (
    INLINE_POLICIES_LIMIT,
    MANAGED_POLICY_LIMIT,
    PolicyMeasure,
)

#: A long but real stack name: the stack id is in every endpoint statement's condition.
DEPLOYMENT = Deployment(stack_name="ml-platform-tenant-endpoints-production-eu-west-1")


def platform_stack(endpoints: int, alarms_each: int, *, adopt: int = 0) -> Stack:
    """`endpoints` endpoints with realistic names, each with `alarms_each` rollback alarms."""
    app = App(context={"aws:cdk:bundling-stacks": []})
    stack = Stack(app, "Platform", stack_name=DEPLOYMENT.stack_name)
    for index in range(endpoints):
        endpoint = RolloutEndpoint(
            stack,
            f"Tenant{index:04d}",
            endpoint_name=f"tenant-{index:04d}-fraud-scoring-realtime-endpoint",
            adopt_existing_endpoint=index < adopt,
            variants=[ProductionVariant.instances(model_name=f"fraud-model-{index:04d}",
                                                  instance_type="ml.m5.large")],
        )
        for alarm in range(alarms_each):
            endpoint.add_rollback_alarm(
                endpoint.metric_invocation_5xx_errors().create_alarm(
                    endpoint, f"Alarm{alarm}", threshold=1, evaluation_periods=1
                )
            )
    return stack


def iam_characters(document: Any) -> int:
    """IAM's count: the resolved document without whitespace."""
    text = json.dumps(DEPLOYMENT.resolve(document), separators=(",", ":"))
    return sum(1 for char in text if not char.isspace())


def rendered_policies(stack: Stack) -> dict[str, tuple[str, int]]:
    """Every IAM policy of the template: its type and its size as IAM counts it."""
    resources = Template.from_stack(stack).to_json()["Resources"]
    return {
        logical_id: (resource["Type"], iam_characters(resource["Properties"]["PolicyDocument"]))
        for logical_id, resource in resources.items()
        if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
    }


@pytest.fixture(scope="module")
def one_endpoint() -> dict[str, tuple[str, int]]:
    return rendered_policies(platform_stack(1, 1))


@pytest.mark.parametrize(("endpoints", "alarms_each"), [(120, 1), (20, 10), (150, 1)])
def test_the_policies_do_not_grow_with_endpoints_or_alarms(
    endpoints: int, alarms_each: int, one_endpoint: dict[str, tuple[str, int]]
) -> None:
    policies = rendered_policies(platform_stack(endpoints, alarms_each))
    assert policies == one_endpoint
    assert all(kind == "AWS::IAM::Policy" for kind, _ in policies.values())
    inline = sum(size for _, size in policies.values())
    assert inline < INLINE_POLICIES_LIMIT / 2, policies


def test_the_synth_time_measure_is_never_below_iams_count(
    one_endpoint: dict[str, tuple[str, int]],
) -> None:
    stack = platform_stack(1, 1)
    provider = RolloutProvider.of(stack)
    measure = PolicyMeasure(stack)
    estimated = measure.characters(
        provider.role.node.find_child("DefaultPolicy").document  # type: ignore[attr-defined]
    )
    (default_policy,) = (size for logical_id, (_, size) in one_endpoint.items()
                         if "DefaultPolicy" in logical_id)
    assert default_policy <= estimated <= default_policy + 1_500


def synth_errors(stack: Stack) -> str:
    with pytest.raises(RuntimeError) as raised:  # jsii: the validation errors
        Template.from_stack(stack)
    return str(raised.value)


def test_too_many_adopted_endpoints_are_refused_with_how_many_fit() -> None:
    message = synth_errors(platform_stack(60, 0, adopt=60))
    assert "[sagemaker-rollout:iam-policy-size]" in message
    assert message.count("[sagemaker-rollout:") == 1
    assert "the limit is 10,240 for all inline policies of a role" in message
    assert re.search(r"each endpoint with adopt_existing_endpoint adds about \d+ characters: "
                     r"(\d+) fit, this stack has 60", message)


def test_as_many_adopted_endpoints_as_the_refusal_says_fit_pass() -> None:
    message = synth_errors(platform_stack(30, 0, adopt=30))
    fitting = int(re.search(r"(\d+) fit, this stack has 30", message).group(1))  # type: ignore[union-attr]
    policies = rendered_policies(platform_stack(fitting, 0, adopt=fitting))
    assert sum(size for _, size in policies.values()) <= INLINE_POLICIES_LIMIT


def test_a_statement_no_managed_policy_can_hold_is_refused_at_synth() -> None:
    stack = platform_stack(1, 0)
    resources = [f"arn:aws:s3:::a-bucket-with-a-rather-long-name-{i:04d}/*" for i in range(150)]
    RolloutProvider.of(stack).role.add_to_policy(
        iam.PolicyStatement(sid="Huge", actions=["s3:GetObject"], resources=resources)
    )
    message = synth_errors(stack)
    assert "[sagemaker-rollout:iam-policy-size]" in message
    assert f"the limit is {MANAGED_POLICY_LIMIT:,} per managed policy" in message
    assert "none of this stack's endpoints adds to them" in message
