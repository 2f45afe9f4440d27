"""Ecosystem conformance: cdk-nag 3 (AwsSolutions) and cfn-lint on the synthesized templates.

Synthesized once per module (jsii is slow): the example app's stack and representative test
stacks in one app checked by cdk-nag, and the integration test app (tests/../integ) at both of
its steps. Every template of these apps is linted with cfn-lint.
"""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from aws_cdk import App, Duration, Stack, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_logs as logs
from cdk_nag import AwsSolutionsChecks
from cfnlint.api import lint  # type: ignore[import-untyped]
from sagemaker_rollout import (
    CapacitySize,
    DeploymentStrategy,
    ProductionVariant,
    RolloutEndpoint,
    RolloutProvider,
    TrafficRouting,
    VariantProperty,
)

ROOT = Path(__file__).resolve().parents[1]

#: cfn-lint warnings that are expected in CDK output, each with its reason.
IGNORED_LINT_RULES: dict[str, str] = {}
#: W3005 (a DependsOn that a Ref/GetAtt already enforces) is expected only on resources this
#: library does not render: CDK renders node.add_dependency as DependsOn even where a Ref/GetAtt
#: orders the two already. Each type with its reason; anywhere else (the custom resource, the
#: endpoint config, autoscaling...) a W3005 is the library's and fails.
W3005_NOT_OURS = {
    "AWS::Lambda::Function": "aws-cdk-lib's Function depends on its role (for its policies)",
    "AWS::SageMaker::Model": "the apps' models wait for their role's policies, not only its ARN",
    "AWS::StepFunctions::StateMachine": "integ-tests-alpha's waiter and its role",
}
#: integ-tests-alpha's assertions (the integration test app waits for the whole endpoint).
W3005_NOT_OURS_PREFIX = "Custom::DeployAssert"
#: Regions the templates are linted for (resource and runtime availability).
LINT_REGIONS = ["us-east-1", "eu-west-1"]

#: aws-cdk-lib's own acknowledgments of cfn-lint rules carry this prefix.
CDK_VALIDATE_PREFIX = "CloudFormation-Validate::"

#: cdk-nag acknowledgment ids must name one rule and one finding: `Pack::Pack-Rule[finding]`.
NARROW_ACKNOWLEDGMENT = re.compile(r"AwsSolutions::AwsSolutions-[A-Z0-9]+\[[^\]]+\]")
#: Rules with no per-finding detail, acknowledged on the one resource they concern.
WHOLE_RULE_ACKNOWLEDGMENTS = {"AwsSolutions::AwsSolutions-L1"}


def load(path: Path) -> ModuleType:
    """A module from a file outside the packages (app.py, integ/)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def variants(count: int = 2) -> list[ProductionVariant]:
    return [
        ProductionVariant.instances(
            model_name="model-a", instance_type="ml.m5.large", initial_instance_count=count
        )
    ]


def alarm(stack: Stack, name: str) -> cloudwatch.Alarm:
    return cloudwatch.Metric(namespace="AWS/SageMaker", metric_name=name).create_alarm(
        stack, name, threshold=1, evaluation_periods=1
    )


def add_test_stacks(app: App) -> None:
    """Representative stacks: the smallest endpoint, and many endpoints using every option."""
    minimal = Stack(app, "Minimal")
    RolloutEndpoint(minimal, "Endpoint", variants=variants(1))

    full = Stack(app, "Full")
    RolloutProvider.of(full).set_log_retention(logs.RetentionDays.ONE_YEAR)
    canary = RolloutEndpoint(
        full,
        "Canary",
        variants=variants(),
        deployment=DeploymentStrategy.blue_green(
            traffic_routing=TrafficRouting.canary(
                size=CapacitySize.count(1), bake_time=Duration.minutes(5)
            )
        ),
        rollback_alarms=[alarm(full, "Latency")],
        tags={"team": "ml", "cost-center": "42"},
    )
    canary.add_rollback_alarm(alarm(full, "Errors"))
    RolloutEndpoint(
        full,
        "Rolling",
        endpoint_name="Rolling-Endpoint",
        variants=variants(4),
        deployment=DeploymentStrategy.rolling(
            batch_size=CapacitySize.count(2), bake_time=Duration.minutes(1)
        ),
        rollback_alarms=[alarm(full, "RollingErrors")],
        retain_variant_properties=True,
        retained_properties_exclusions=[VariantProperty.DESIRED_WEIGHT],
    )
    RolloutEndpoint(full, "Reused", variants=variants(), reuse_last_deployment_config=True)
    # Longer than the custom resource's hour: the WaitCondition mode (docs/long-rollouts.md).
    RolloutEndpoint(
        full,
        "LongLinear",
        variants=variants(10),
        deployment=DeploymentStrategy.blue_green(
            traffic_routing=TrafficRouting.linear(
                step_size=CapacitySize.percent(10), interval=Duration.minutes(10)
            )
        ),
        rollback_alarms=[alarm(full, "LongLinearErrors")],
    )


@pytest.fixture(scope="module")
def nag_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example stack and the test stacks in one app under AwsSolutionsChecks, with the
    example's cdk.json context (the feature flags `cdk init` sets, as the CLI passes them);
    synthesized whether or not cdk-nag reports violations (the tests read its report)."""
    outdir = tmp_path_factory.mktemp("nag")
    app = App(
        outdir=str(outdir),
        context={
            **json.loads((ROOT / "cdk.json").read_text())["context"],
            "aws:cdk:bundling-stacks": [],
            "@aws-cdk/core:validationReportJson": True,
            "aws:cdk:enable-path-metadata": True,
        },
    )
    load(ROOT / "app.py").ExampleEndpointStack(app, "SageMakerRolloutExample")
    add_test_stacks(app)
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))
    try:
        app.synth()
    except Exception as error:  # the report says what; the tests below say it clearly
        if "Validation failed" not in str(error):
            raise
    return outdir


@pytest.fixture(scope="module")
def integ_apps(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """The integration test app synthesized at step 1 (create), step 2 (canary update) and step 3
    (a rollout longer than the hour), with the repository's cdk.json context, as
    `npx cdk deploy --app ...` from the root passes it."""
    integ = load(ROOT / "integ" / "integ_rollout.py")
    outdirs: dict[int, Path] = {}
    for step in (1, 2, 3):
        outdir = tmp_path_factory.mktemp(f"integ{step}")
        app = App(
            outdir=str(outdir),
            context={
                **json.loads((ROOT / "cdk.json").read_text())["context"],
                "aws:cdk:bundling-stacks": [],
                "integ:step": str(step),
            },
        )
        integ.build(app)
        app.synth()
        outdirs[step] = outdir
    return outdirs


def nag_violations(outdir: Path) -> list[str]:
    report_file = outdir / "policy-validation-report.json"
    if not report_file.exists():  # written only when a plugin reports something
        return []
    report = json.loads(report_file.read_text())
    return [
        f"{violation['ruleName']} at {construct['constructPath']}"
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
        for construct in violation["violatingConstructs"]
    ]


def acknowledgments(outdir: Path) -> list[tuple[str, str, str]]:
    """(construct path, rule id, reason) of every acknowledgment recorded in the assembly."""
    found: list[tuple[str, str, str]] = []
    for metadata_file in outdir.glob("*.metadata.json"):
        for path, entries in json.loads(metadata_file.read_text()).items():
            for entry in entries:
                if entry["type"] == "aws:cdk:acknowledged-rules":
                    found.extend((path, rule, reason) for rule, reason in entry["data"].items())
    return found


# --- cdk-nag ---------------------------------------------------------------------------------


def test_cdk_nag_reports_nothing_unacknowledged_on_the_example_and_test_stacks(
    nag_app: Path,
) -> None:
    assert nag_violations(nag_app) == []


def nag_acknowledgments(outdir: Path) -> list[tuple[str, str, str]]:
    return [found for found in acknowledgments(outdir) if "AwsSolutions" in found[1]]


def test_every_nag_acknowledgment_names_one_finding_and_gives_a_reason(nag_app: Path) -> None:
    found = nag_acknowledgments(nag_app)
    assert found, "expected the provider's and the example's acknowledgments"
    for path, rule, reason in found:
        assert NARROW_ACKNOWLEDGMENT.fullmatch(rule) or rule in WHOLE_RULE_ACKNOWLEDGMENTS, (
            path, rule)
        assert len(reason) >= 40, (path, rule, reason)


def test_nag_acknowledgments_sit_on_single_resources_never_on_a_stack(nag_app: Path) -> None:
    for path, rule, _ in nag_acknowledgments(nag_app):
        if rule in WHOLE_RULE_ACKNOWLEDGMENTS:
            assert "/SageMakerRollout" in path, path
        else:
            assert path.endswith("/DefaultPolicy"), (path, rule)


def test_provider_acknowledges_exactly_its_four_resource_wildcards(nag_app: Path) -> None:
    rules = sorted(
        rule
        for path, rule, _ in nag_acknowledgments(nag_app)
        if path == "/Minimal/SageMakerRolloutProvider/Role/DefaultPolicy"
    )
    assert rules == [
        "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:events:<AWS::Region>:"
        "<AWS::AccountId>:rule/sagemaker-rollout-*]",
        "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:"
        "<AWS::AccountId>:endpoint-config/*]",
        "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:sagemaker:<AWS::Region>:"
        "<AWS::AccountId>:endpoint/*]",
        "AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:"
        "<AWS::AccountId>:schedule/<SageMakerRolloutProviderWakesA00E4EB3>/sagemaker-rollout-*]",
    ]


# --- cfn-lint --------------------------------------------------------------------------------


def acknowledged_by_cdk(outdir: Path) -> set[tuple[str, str]]:
    """(construct path, cfn-lint rule) pairs that aws-cdk-lib acknowledges itself for what it
    renders (e.g. W3045, AccessControl LogDeliveryWrite on a server access logs bucket)."""
    return {
        (path.lstrip("/"), rule.removeprefix(CDK_VALIDATE_PREFIX))
        for path, rule, _ in acknowledgments(outdir)
        if rule.startswith(CDK_VALIDATE_PREFIX)
    }


def lint_findings(template_file: Path) -> list[str]:
    """cfn-lint's findings on the template, less IGNORED_LINT_RULES and the findings on
    resources for which aws-cdk-lib acknowledged that very rule."""
    text = template_file.read_text()
    resources = json.loads(text)["Resources"]
    cdk_acknowledged = acknowledged_by_cdk(template_file.parent)

    def acknowledged(match: Any) -> bool:
        if len(match.path) < 2 or match.path[0] != "Resources":
            return False
        if match.rule.id == "W3005":
            kind = resources.get(match.path[1], {}).get("Type", "")
            return kind in W3005_NOT_OURS or kind.startswith(W3005_NOT_OURS_PREFIX)
        cdk_path = resources.get(match.path[1], {}).get("Metadata", {}).get("aws:cdk:path", "")
        return any(
            rule == match.rule.id and cdk_path.startswith(f"{path}/")
            for path, rule in cdk_acknowledged
        )

    return [
        f"{match.rule.id} {match.message} ({template_file.name}:{match.linenumber})"
        for match in lint(text, regions=LINT_REGIONS)
        if match.rule.id not in IGNORED_LINT_RULES and not acknowledged(match)
    ]


@pytest.mark.parametrize("stack", ["SageMakerRolloutExample", "Minimal", "Full"])
def test_cfn_lint_passes_on_the_nag_checked_templates(nag_app: Path, stack: str) -> None:
    assert lint_findings(nag_app / f"{stack}.template.json") == []


@pytest.mark.parametrize("step", [1, 2, 3])
def test_cfn_lint_passes_on_the_integration_test_template(
    integ_apps: dict[int, Path], step: int
) -> None:
    (template,) = integ_apps[step].glob("*.template.json")
    assert lint_findings(template) == []


# --- the integration test app ----------------------------------------------------------------


def integ_template(integ_apps: dict[int, Path], step: int) -> dict[str, Any]:
    (template,) = integ_apps[step].glob("*.template.json")
    loaded: dict[str, Any] = json.loads(template.read_text())
    return loaded


def test_integration_test_is_registered_for_the_integ_runner(
    integ_apps: dict[int, Path],
) -> None:
    manifest = json.loads((integ_apps[1] / "integ.json").read_text())
    (case,) = manifest["testCases"].values()
    assert case["stacks"] == ["SageMakerRolloutInteg"]
    assert case["assertionStack"] == "SageMakerRolloutInteg"


def test_integration_step_two_serves_a_new_model_through_a_canary(
    integ_apps: dict[int, Path],
) -> None:
    before, after = (integ_template(integ_apps, step)["Resources"] for step in (1, 2))
    models = [
        sorted(key for key, value in resources.items() if value["Type"] == "AWS::SageMaker::Model")
        for resources in (before, after)
    ]
    assert models[0] != models[1]
    (rollout,) = (r for r in after.values() if r["Type"] == "Custom::SageMakerEndpointRollout")
    routing = rollout["Properties"]["DeploymentConfig"]["BlueGreenUpdatePolicy"][
        "TrafficRoutingConfiguration"
    ]
    assert routing["Type"] == "CANARY"


def test_integration_step_three_is_a_long_rollout_the_assertion_waits_for(
    integ_apps: dict[int, Path],
) -> None:
    resources = integ_template(integ_apps, 3)["Resources"]
    (condition_id,) = (k for k, r in resources.items()
                       if r["Type"] == "AWS::CloudFormation::WaitCondition")
    call_type = "Custom::DeployAssert@SdkCallSageMakerdescribeEndpoint"
    (call,) = (r for r in resources.values() if r["Type"] == call_type)
    assert condition_id in call["DependsOn"]
    assert int(resources[condition_id]["Properties"]["Timeout"]) == 28800 + 300 + 90


def test_integration_assertion_waits_for_describe_endpoint_to_show_the_new_config(
    integ_apps: dict[int, Path],
) -> None:
    resources = integ_template(integ_apps, 2)["Resources"]
    call_type = "Custom::DeployAssert@SdkCallSageMakerdescribeEndpoint"
    (call,) = (r for r in resources.values() if r["Type"] == call_type)
    assert call["Properties"]["service"] == "SageMaker"
    assert call["Properties"]["api"] == "describeEndpoint"
    expected = json.dumps(call["Properties"]["expected"])
    assert "InService" in expected and "EndpointConfigName" in expected
    assert any(r["Type"] == "AWS::StepFunctions::StateMachine" for r in resources.values())
