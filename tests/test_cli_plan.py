"""`sagemaker-rollout plan` on cloud assemblies synthesized here: each strategy, serverless,
several stacks and a stage, a long rollout (a WaitCondition's budget), text and JSON, and the
errors (exit 2, one line)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Duration, Size, Stack, Stage
from aws_cdk import aws_cloudformation as cfn
from aws_cdk import aws_cloudwatch as cloudwatch
from click.testing import CliRunner, Result
from construct_support import instance_variant
from sagemaker_rollout import (
    CapacitySize,
    DeploymentStrategy,
    ProductionVariant,
    RolloutEndpoint,
    TrafficRouting,
)
from sagemaker_rollout.cli.main import cli
from sagemaker_rollout.deployment import VariantFacts

FOUR = [VariantFacts("AllTraffic", "ml.m5.large", 4, False)]
STRATEGIES: dict[str, DeploymentStrategy] = {
    "Canary": DeploymentStrategy.blue_green(
        traffic_routing=TrafficRouting.canary(size=CapacitySize.percent(25),
                                              bake_time=Duration.minutes(10)),
        termination_wait=Duration.minutes(5)),
    "Linear": DeploymentStrategy.blue_green(
        traffic_routing=TrafficRouting.linear(step_size=CapacitySize.percent(25),
                                              interval=Duration.minutes(5))),
    "Rolling": DeploymentStrategy.rolling(batch_size=CapacitySize.count(2),
                                          bake_time=Duration.minutes(5)),
    "AllAtOnce": DeploymentStrategy.all_at_once(termination_wait=Duration.minutes(2)),
}


def _endpoint(stack: Stack, name: str, strategy: DeploymentStrategy | None, **props: Any
              ) -> RolloutEndpoint:
    variant = props.pop("variant", instance_variant(initial_instance_count=4))
    endpoint = RolloutEndpoint(stack, name, variants=[variant], deployment=strategy, **props)
    return endpoint


def synthesize(outdir: Path) -> Path:
    app = App(outdir=str(outdir), context={"aws:cdk:bundling-stacks": []})
    strategies = Stack(app, "Strategies")
    alarm = cloudwatch.Alarm(
        strategies, "Errors", alarm_name="errors-high", threshold=1, evaluation_periods=1,
        metric=cloudwatch.Metric(namespace="AWS/SageMaker", metric_name="Invocation5XXErrors"))
    for name, strategy in STRATEGIES.items():
        _endpoint(strategies, name, strategy, rollback_alarms=[alarm],
                  endpoint_name=f"{name.lower()}-endpoint")
    other = Stack(app, "Serverless")
    generated = _endpoint(other, "Endpoint", DeploymentStrategy.all_at_once(),
                          variant=ProductionVariant.serverless(model_name="model-a",
                                                               memory_size=Size.gibibytes(2),
                                                               max_concurrency=5))
    generated.add_rollback_alarm(cloudwatch.Alarm(
        other, "Latency", threshold=1, evaluation_periods=1,
        metric=cloudwatch.Metric(namespace="AWS/SageMaker", metric_name="ModelLatency")))
    RolloutEndpoint(other, "Reused", variants=[instance_variant()],
                    reuse_last_deployment_config=True)
    long = Stack(Stage(app, "Prod"), "Long")
    slow = _endpoint(long, "Endpoint", STRATEGIES["Canary"], endpoint_name="long-endpoint")
    handle = cfn.CfnWaitConditionHandle(long, "Handle")
    wait = cfn.CfnWaitCondition(long, "Wait", handle=handle.ref, timeout="14400")
    wait.node.add_dependency(slow.custom_resource)
    return Path(app.synth().directory)


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synthesize(tmp_path_factory.mktemp("cdk.out"))


def plan(*args: str) -> Result:
    return CliRunner().invoke(cli, ["plan", *args])


@pytest.fixture(scope="module")
def plans(assembly: Path) -> dict[str, dict[str, Any]]:
    result = plan(str(assembly), "--json")
    assert result.exit_code == 0, result.output
    return {item["path"]: item for item in json.loads(result.stdout)}


def test_json_has_every_rollout_of_every_stack_and_stage(plans: dict[str, Any]) -> None:
    assert sorted(plans) == ["Prod/Long/Endpoint", "Serverless/Endpoint", "Serverless/Reused",
                             "Strategies/AllAtOnce", "Strategies/Canary", "Strategies/Linear",
                             "Strategies/Rolling"]
    for item in plans.values():
        assert {"stack", "path", "endpoint_name", "strategy", "phases", "worst_case_seconds",
                "budget_seconds", "alarms", "overlap_instance_hours"} <= set(item)
        if item["worst_case_seconds"] is not None:
            assert sum(p["seconds"] for p in item["phases"]) == item["worst_case_seconds"]
    assert plans["Prod/Long/Endpoint"]["stack"] == "Prod-Long"


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_worst_case_is_the_construct_time_budget(plans: dict[str, Any], name: str) -> None:
    budget = STRATEGIES[name].time_budget(variants=FOUR, service_timeout=Duration.hours(1))
    item = plans[f"Strategies/{name}"]
    assert item["worst_case_seconds"] == budget.worst_case
    assert item["rollback_allowance_seconds"] == budget.rollback_allowance
    assert item["maximum_execution_timeout_seconds"] == budget.timeout_ceiling
    assert item["budget_seconds"] == 3600
    assert item["alarms"] == ["errors-high"]
    assert item["endpoint_name"] == f"{name.lower()}-endpoint"


def test_canary_phases(plans: dict[str, Any]) -> None:
    item = plans["Strategies/Canary"]
    assert item["strategy"] == ("blue/green canary: 25% = 1 of 4 instances, bake 10 min, "
                                "final bake 5 min")
    assert [(p["name"], p["seconds"]) for p in item["phases"]] == [
        ("provision the green fleet", 600),
        ("shift the canary (25% = 1 of 4 instances) to green, bake", 600),
        ("shift the rest to green", 0),
        ("final bake (termination wait)", 300),
        ("terminate the blue fleet", 0),
    ]
    # The green fleet's 4 instances alongside the blue one for the 25-minute worst case.
    assert item["overlap_instance_hours"] == round(4 * 1500 / 3600, 3)


def test_linear_has_a_bake_per_step(plans: dict[str, Any]) -> None:
    phases = plans["Strategies/Linear"]["phases"]
    assert [p["seconds"] for p in phases] == [600, 300, 300, 300, 300, 0, 0]
    assert phases[1]["name"] == "step 1/4: shift 25% = 1 of 4 instances to green, bake"


def test_rolling_provisions_and_bakes_per_batch(plans: dict[str, Any]) -> None:
    item = plans["Strategies/Rolling"]
    assert [(p["name"], p["seconds"]) for p in item["phases"]] == [
        ("batch 1/2: provision 2 instances", 600), ("batch 1/2: shift, bake", 300),
        ("batch 1/2: terminate 2 old", 0),
        ("batch 2/2: provision 2 instances", 600), ("batch 2/2: shift, bake", 300),
        ("batch 2/2: terminate 2 old", 0),
    ]
    # Each batch's 2 new instances overlap the old ones for provisioning + bake.
    assert item["overlap_instance_hours"] == round(2 * 2 * 900 / 3600, 3)
    assert item["strategy"].endswith("rollback all at once (blue/green style)")


def test_serverless_has_no_instance_hours_and_a_generated_alarm_name(
    plans: dict[str, Any]
) -> None:
    item = plans["Serverless/Endpoint"]
    assert item["strategy"] == "blue/green all at once, no final bake"
    assert item["overlap_instance_hours"] == 0
    assert item["alarms"] == ["Serverless/Latency (name generated at deploy)"]
    assert item["endpoint_name"].startswith("Serverless-Endpoint-")


def test_a_reused_deployment_config_is_listed_not_planned(plans: dict[str, Any]) -> None:
    item = plans["Serverless/Reused"]
    assert item["phases"] == []
    assert item["worst_case_seconds"] is None
    assert item["note"].startswith("the endpoint's last deployment config (RetainDeploymentConfig)")


def test_a_long_rollout_is_held_against_its_wait_condition(plans: dict[str, Any]) -> None:
    item = plans["Prod/Long/Endpoint"]
    assert item["budget_seconds"] == 14400
    assert item["budget_source"] == "WaitCondition Wait"


def test_text(assembly: Path) -> None:
    result = plan(str(assembly))

    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "Strategies/Canary  (stack Strategies)" in text
    assert "  10 min   shift the canary (25% = 1 of 4 instances) to green, bake         10 min" \
        in text
    assert "  worst case   25 min, within the 1 h budget (the custom resource's ServiceTimeout)" \
        in text
    assert "within the 4 h budget (WaitCondition Wait)" in text
    assert "no instance-hours (serverless: billed per use)" in text
    lines = text.splitlines()
    assert max(len(row) for row in lines) <= 100
    assert all(row == row.rstrip() for row in lines)


def test_provisioning_allowance_option_changes_the_plan(assembly: Path) -> None:
    result = plan(str(assembly), "--json", "--provisioning-allowance", "300")

    canary = next(i for i in json.loads(result.stdout) if i["path"] == "Strategies/Canary")
    assert canary["phases"][0]["seconds"] == 300
    assert canary["worst_case_seconds"] == 1200


def error_of(result: Result) -> str:
    """The one line of an error: exit 2, nothing on stdout, one line on stderr."""
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    return line.removeprefix("sagemaker-rollout: ")


def test_missing_assembly_is_one_line_and_exit_2(tmp_path: Path) -> None:
    assert error_of(plan(str(tmp_path / "cdk.out"))) == (
        f"no cloud assembly at {tmp_path / 'cdk.out'}: run `cdk synth` first, or pass the "
        "directory it wrote (cdk synth --output)")


def test_default_is_cdk_out_in_the_current_directory(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)

    assert error_of(plan()).startswith("no cloud assembly at cdk.out:")


def test_empty_directory_is_one_line_and_exit_2(tmp_path: Path) -> None:
    assert error_of(plan(str(tmp_path))) == (
        f"{tmp_path} is not a cloud assembly (no manifest.json): run `cdk synth` first, or "
        "pass the directory it wrote")


def test_assembly_without_stacks_is_one_line_and_exit_2(tmp_path: Path) -> None:
    App(outdir=str(tmp_path)).synth()

    assert error_of(plan(str(tmp_path))) == (
        f"the cloud assembly at {tmp_path} has no stacks: does the app synthesize any?")


def test_assembly_without_rollouts_is_one_line_and_exit_2(tmp_path: Path) -> None:
    app = App(outdir=str(tmp_path))
    stack = Stack(app, "Plain")
    cfn.CfnWaitConditionHandle(stack, "Handle")
    app.synth()

    assert error_of(plan(str(tmp_path), "--json")) == (
        "no SageMaker rollouts (Custom::SageMakerEndpointRollout) in the 1 stack(s) of "
        f"{tmp_path}")
