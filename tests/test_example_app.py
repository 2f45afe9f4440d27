"""The example app (app.py, cdk.json) is what a user copies: it synthesizes as the CDK CLI runs it,
with the feature flags `cdk init` of the pinned CLI writes, and with no warning.

Synthesized once per module (jsii is slow), with cdk.json's context as the CLI passes it.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Annotations, Match, Template

ROOT = Path(__file__).resolve().parents[1]
#: The flags `cdk init` of the pinned CLI (package.json, installed by scripts/setup) writes.
RECOMMENDED_FLAGS = ROOT / "node_modules/aws-cdk/lib/init-templates/.recommended-feature-flags.json"


def cdk_json_context() -> dict[str, Any]:
    context: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
    return context


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[Template, list[str]]:
    """The example stack's template, and every warning or error annotation of the stack."""
    spec = importlib.util.spec_from_file_location("example_app", ROOT / "app.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    app = App(
        outdir=str(tmp_path_factory.mktemp("example")),
        context={
            **cdk_json_context(),
            "aws:cdk:bundling-stacks": [],
            "aws:cdk:enable-path-metadata": True,
        },
    )
    stack = module.ExampleEndpointStack(app, "SageMakerRolloutExample")
    annotations = Annotations.from_stack(stack)
    found = [
        f"{message.id}: {message.entry.data}"
        for message in [
            *annotations.find_warning("*", Match.any_value()),
            *annotations.find_error("*", Match.any_value()),
        ]
    ]
    return Template.from_stack(stack), found


def test_cdk_json_sets_every_feature_flag_cdk_init_recommends() -> None:
    recommended = json.loads(RECOMMENDED_FLAGS.read_text())
    context = cdk_json_context()
    assert {flag: context.get(flag) for flag in recommended} == recommended


def test_example_synthesizes_without_a_warning(
    synthesized: tuple[Template, list[str]],
) -> None:
    _, annotations = synthesized
    assert annotations == []


def test_no_bucket_uses_the_legacy_acl_property(synthesized: tuple[Template, list[str]]) -> None:
    template, _ = synthesized
    buckets = template.find_resources("AWS::S3::Bucket")
    assert len(buckets) == 2
    for bucket in buckets.values():
        assert "AccessControl" not in bucket["Properties"]


def rollouts(template: Template) -> dict[str, dict[str, Any]]:
    """The rollout custom resources by the construct id of their endpoint."""
    return {
        resource["Metadata"]["aws:cdk:path"].split("/")[1]: resource["Properties"]
        for resource in template.find_resources("Custom::SageMakerEndpointRollout").values()
    }


def test_example_shows_a_canary_a_serverless_and_a_rolling_endpoint(
    synthesized: tuple[Template, list[str]],
) -> None:
    template, _ = synthesized
    found = rollouts(template)
    assert set(found) == {"Canary", "Serverless", "Rolling"}
    canary = found["Canary"]["DeploymentConfig"]["BlueGreenUpdatePolicy"]
    assert canary["TrafficRoutingConfiguration"]["Type"] == "CANARY"
    serverless = found["Serverless"]["DeploymentConfig"]["BlueGreenUpdatePolicy"]
    assert serverless["TrafficRoutingConfiguration"]["Type"] == "ALL_AT_ONCE"
    assert "RollingUpdatePolicy" in found["Rolling"]["DeploymentConfig"]
    configs = template.find_resources("AWS::SageMaker::EndpointConfig").values()
    assert sum(
        "ServerlessConfig" in variant
        for config in configs
        for variant in config["Properties"]["ProductionVariants"]
    ) == 1


def test_every_example_endpoint_is_rolled_back_by_its_own_alarm(
    synthesized: tuple[Template, list[str]],
) -> None:
    template, _ = synthesized
    for name, properties in rollouts(template).items():
        alarms = properties["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"]
        assert len(alarms) == 1, name
