"""Shared fixtures: the SageMaker emulator and the CloudFormation harness (tests/cfn_harness)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from cfn_harness import CloudFormationStack, Harness, HarnessServers, LogCapture, environment
from rollout_support import provider_factory
from sagemaker_emulator import SageMakerEmulator, VirtualClock


@pytest.fixture(scope="session")
def harness_servers() -> Iterator[HarnessServers]:
    """moto (EventBridge, Lambda) and the HTTPS response server, once per session; the process
    environment gets a region, fake credentials and SSL_CERT_FILE trusting the server's CA."""
    servers = HarnessServers().start()
    with pytest.MonkeyPatch.context() as env:
        for name, value in environment(servers.tls).items():
            if value is None:
                env.delenv(name, raising=False)
            else:
                env.setenv(name, value)
        yield servers
    servers.stop()


@pytest.fixture(scope="session")
def emulator_server() -> Iterator[SageMakerEmulator]:
    with SageMakerEmulator(VirtualClock()) as server:
        yield server


@pytest.fixture(scope="session")
def sagemaker_client(emulator_server: SageMakerEmulator) -> Any:
    """boto3 SageMaker client on the emulator, standard retries (shared: the URL never changes)."""
    return boto3.client("sagemaker", endpoint_url=emulator_server.url, region_name="us-east-1",
                        aws_access_key_id="x", aws_secret_access_key="x",
                        config=Config(retries={"mode": "standard", "max_attempts": 8}))


@pytest.fixture
def clock() -> VirtualClock:
    """ONE virtual clock per test, shared by the emulator, the handler and the harness."""
    return VirtualClock()


@pytest.fixture
def emulator(
    emulator_server: SageMakerEmulator, clock: VirtualClock
) -> Iterator[SageMakerEmulator]:
    """The session's emulator, reset onto this test's clock."""
    emulator_server.reset(clock)
    yield emulator_server
    assert emulator_server.internal_errors == []


@pytest.fixture
def harness(harness_servers: HarnessServers, clock: VirtualClock) -> Iterator[Harness]:
    """Fresh moto + response server on ``clock``; every sleep of the function is virtual. At the
    end: no secret in the function's logs, no late second answer to any request."""
    harness = harness_servers.fresh(clock)
    with harness.virtual_sleeps():
        yield harness
    harness.finish()


@pytest.fixture
def handler_logs(harness: Harness) -> LogCapture:
    """Every log record of the function's invocations (as crhelper formats them for CloudWatch);
    ``handler_logs.text()``, ``cfn_harness.assert_no_secrets(handler_logs, ...)``."""
    return harness.logs


@pytest.fixture
def stack(harness: Harness, emulator: SageMakerEmulator, sagemaker_client: Any,
          clock: VirtualClock) -> CloudFormationStack:
    """The real handler (lambda/sagemaker_rollout_handler) behind a CloudFormation stack, woken
    by the emulator's SageMaker events and its own schedules."""
    harness.cloud.connect(emulator)
    factory = provider_factory(harness, sagemaker_client, clock)
    return harness.stack(factory(), factory=factory)
