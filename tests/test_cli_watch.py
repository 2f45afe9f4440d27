"""`sagemaker-rollout watch` against the SageMaker emulator over HTTP, on its virtual clock.

The command line runs in-process through click's runner with its own boto3 client (made as a
user's would be: `--region`, `AWS_ENDPOINT_URL_SAGEMAKER`, credentials from the environment) and
the emulator's clock injected, so an hour of deployment passes in milliseconds. The runner has no
terminal: these tests see the one-line-per-change output. The live view in a real terminal is
tests/test_cli_watch_terminal.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Duration, Stack
from cli_support import canary_config
from click.testing import CliRunner, Result
from construct_support import instance_variant
from sagemaker_emulator import SageMakerEmulator, Timings, VirtualClock
from sagemaker_rollout import CapacitySize, DeploymentStrategy, RolloutEndpoint, TrafficRouting
from sagemaker_rollout.cli.main import cli
from sagemaker_rollout.cli.watch import Runtime

# Fixed durations: every phase boundary is predictable.
TIMINGS = Timings(create=300, provision=200, traffic_shift=20, terminate=60, rollback=100,
                  delete=30)
ALARM = "errors-high"
CANARY = canary_config(bake=600, final_bake=300, timeout=3210, alarm=ALARM)


@pytest.fixture
def sm(emulator: SageMakerEmulator, clock: VirtualClock, sagemaker_client: Any,
       monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The emulator on fixed timings; the environment a user of the emulator would set."""
    emulator.reset(clock, timings=TIMINGS)
    for name in ("AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL_SAGEMAKER", emulator.url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    yield sagemaker_client


def variants(count: int = 2) -> list[dict[str, Any]]:
    return [{"VariantName": "AllTraffic", "ModelName": "model", "InitialInstanceCount": count,
             "InstanceType": "ml.m5.xlarge"}]


def updating(sm: Any, clock: VirtualClock, config: dict[str, Any] = CANARY,
             created_with: dict[str, Any] | None = None) -> None:
    """Endpoint `ep` InService on `c1` (created with `config` as the construct does, or with
    `created_with`), then UpdateEndpoint to `c2` with `config`."""
    sm.create_endpoint_config(EndpointConfigName="c1", ProductionVariants=variants())
    sm.create_endpoint_config(EndpointConfigName="c2", ProductionVariants=variants())
    sm.create_endpoint(EndpointName="ep", EndpointConfigName="c1",
                       DeploymentConfig=created_with or config)
    clock.advance(300)
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2", DeploymentConfig=config)


def watch(clock: VirtualClock, *args: str) -> Result:
    runtime = Runtime(now=clock.now, sleep=clock.sleep)
    return CliRunner().invoke(cli, ["watch", *args], obj=runtime)


def test_canary_to_success_exits_0_with_one_line_per_phase(
    sm: Any, clock: VirtualClock, emulator: SageMakerEmulator
) -> None:
    updating(sm, clock)

    result = watch(clock, "ep", "--region", "us-east-1")

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[-1] == "ep: deployed: InService on c2"
    progress = lines[:-1]
    assert [line.split(" | ")[1] for line in progress] == ["Updating"] * 6 + ["InService"]
    messages = [re.sub(r" \(bake .*", "", line.split(" | ")[3]) for line in progress[:-1]]
    assert messages == [
        "AllTraffic: Creating: Provisioning the new fleet",
        "AllTraffic: ActivatingTraffic: Shifting traffic to the canary",
        "AllTraffic: Baking: Baking the canary",
        "AllTraffic: ActivatingTraffic: Shifting the remaining traffic to the new fleet",
        "AllTraffic: Baking: Final baking period",
        "AllTraffic: Deleting: Terminating the old fleet",
    ]
    # The bake length comes from the deployment config; the worst case from the construct's
    # time budget (600 s provisioning allowance + 600 s canary bake + 300 s final bake).
    assert "bake 0 s of 10 min, 10 min left" in progress[2]
    assert "bake 0 s of 5 min, 5 min left" in progress[4]
    assert "of a 25 min worst case" in progress[0]
    assert progress[0].startswith("2026-01-01T00:05:00Z | Updating | deploying c2 | ")
    # Polled every 10 s of virtual time: the watch ended within one interval of the end.
    ended = emulator.finished_operations("ep")[-1]
    assert ended.outcome == "deployed"
    assert 0 <= clock.now() - ended.end < 10


def test_alarm_rollback_exits_1_and_names_the_alarm(sm: Any, clock: VirtualClock,
                                                     emulator: SageMakerEmulator) -> None:
    updating(sm, clock)
    emulator.faults.trip_alarm("ep", "canary-bake", after=120)

    result = watch(clock, "ep", "--region", "us-east-1", "--interval", "30")

    assert result.exit_code == 1, result.output
    assert "RollingBack" in result.stdout
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ep: rolled back: InService on the old config c1, not c2: ")
    assert ALARM in last
    assert last.endswith(f"(rollback alarms: {ALARM})")


def test_missing_endpoint_exits_2_with_one_line(sm: Any, clock: VirtualClock) -> None:
    result = watch(clock, "nothere", "--region", "us-east-1")

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip() == (
        "sagemaker-rollout: no endpoint named nothere in us-east-1 (Could not find endpoint "
        '"arn:aws:sagemaker:us-east-1:123456789012:endpoint/nothere".)'
    )


def test_no_region_exits_2_with_one_line(sm: Any, clock: VirtualClock) -> None:
    result = watch(clock, "ep")

    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        "sagemaker-rollout: no AWS region: pass --region, or set AWS_REGION or a profile's region"
    ]


def test_no_credentials_exits_2_with_one_line(sm: Any, clock: VirtualClock,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    # No instance metadata service to ask on this machine: fail at once.
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")

    result = watch(clock, "ep", "--region", "us-east-1")

    assert result.exit_code == 2
    [message] = result.stderr.strip().splitlines()
    assert message.startswith("sagemaker-rollout: no usable AWS credentials")
    assert "Traceback" not in result.output


def test_in_service_with_nothing_pending_exits_0_at_once(
    sm: Any, clock: VirtualClock, emulator: SageMakerEmulator
) -> None:
    updating(sm, clock)
    clock.advance(3600)
    before = emulator.calls_to("DescribeEndpoint")

    result = watch(clock, "ep", "--region", "us-east-1")

    assert emulator.calls_to("DescribeEndpoint") == before + 1
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1] == "ep: InService on c2, nothing pending"


def test_ctrl_c_exits_130_quietly(sm: Any, clock: VirtualClock) -> None:
    updating(sm, clock)

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    runtime = Runtime(now=clock.now, sleep=interrupted)
    result = CliRunner().invoke(cli, ["watch", "ep", "--region", "us-east-1"], obj=runtime)

    assert result.exit_code == 130
    assert result.stderr == ""
    assert len(result.stdout.splitlines()) == 1  # the first observation, then nothing


def test_linear_bakes_count_down_from_the_deployment_config(sm: Any, clock: VirtualClock) -> None:
    linear = {"BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {"Type": "LINEAR", "WaitIntervalInSeconds": 120,
                                        "LinearStepSize": {"Type": "CAPACITY_PERCENT",
                                                           "Value": 50}},
        "TerminationWaitInSeconds": 60}}
    updating(sm, clock, linear)

    assert_linear_countdown(watch(clock, "ep", "--region", "us-east-1"))


def assert_linear_countdown(result: Result) -> None:
    """Two linear bakes of 2 min, a final bake of 1 min, counted down; the worst case is
    600 s provisioning allowance + 2 x 120 s + 60 s."""
    assert result.exit_code == 0, result.output
    bakes = [line for line in result.stdout.splitlines() if "Baking" in line]
    assert [re.search(r"\(bake .*?\)", line).group(0) for line in bakes] == [  # type: ignore
        "(bake 0 s of 2 min, 2 min left)", "(bake 0 s of 2 min, 2 min left)",
        "(bake 0 s of 1 min, 1 min left)"]
    assert "of a 15 min worst case" in bakes[0]


def test_failed_endpoint_exits_1_with_its_reason(sm: Any, clock: VirtualClock,
                                                 emulator: SageMakerEmulator) -> None:
    sm.create_endpoint_config(EndpointConfigName="c1", ProductionVariants=variants())
    emulator.faults.fail_provisioning("ep", on="create", reason="the model would not load")
    sm.create_endpoint(EndpointName="ep", EndpointConfigName="c1")

    result = watch(clock, "ep", "--region", "us-east-1")

    assert result.exit_code == 1
    assert result.stdout.splitlines()[0].split(" | ")[1:3] == ["Creating", "deploying c1"]
    assert result.stderr.strip() == "ep: the endpoint failed (Failed): the model would not load"


@pytest.fixture(scope="module")
def assembly(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """An app whose endpoint `ep` deploys with a linear strategy, synthesized once: its cloud
    assembly and its rendered DeploymentConfig."""
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = App(outdir=str(outdir), context={"aws:cdk:bundling-stacks": []})
    RolloutEndpoint(
        Stack(app, "Stack"), "Endpoint", endpoint_name="ep",
        variants=[instance_variant(initial_instance_count=2)],
        deployment=DeploymentStrategy.blue_green(
            traffic_routing=TrafficRouting.linear(step_size=CapacitySize.percent(50),
                                                  interval=Duration.minutes(2)),
            termination_wait=Duration.minutes(1)))
    template = json.loads((Path(app.synth().directory) / "Stack.template.json").read_text())
    [rollout] = [r for r in template["Resources"].values()
                 if r["Type"] == "Custom::SageMakerEndpointRollout"]
    return outdir, rollout["Properties"]["DeploymentConfig"]


def test_assembly_gives_the_config_being_deployed(
    sm: Any, clock: VirtualClock, assembly: tuple[Path, dict[str, Any]]
) -> None:
    outdir, linear = assembly
    # The endpoint was created with a canary config; the deploy switches to linear. SageMaker's
    # LastDeploymentConfig (in the emulator) is the canary's until the deployment ends.
    updating(sm, clock, linear, created_with=CANARY)

    assert_linear_countdown(
        watch(clock, "ep", "--region", "us-east-1", "--assembly", str(outdir)))


def test_assembly_without_the_endpoint_is_one_line_and_exit_2(
    sm: Any, clock: VirtualClock, assembly: tuple[Path, dict[str, Any]]
) -> None:
    outdir, _ = assembly

    result = watch(clock, "other", "--region", "us-east-1", "--assembly", str(outdir))

    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"sagemaker-rollout: no rollout of endpoint other in the cloud assembly at {outdir} "
        "(its rollouts: ep)")
