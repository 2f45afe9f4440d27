"""Deployment strategies: how SageMaker moves traffic from the old EndpointConfig to the new one.

INTERFACE STUB (to be completed by the typed-strategies work, issue 3). The construct
(`endpoint.py`) relies only on what is declared here:

- `VariantFacts`: what the construct knows about each production variant at synth time.
- `DeploymentStrategy.bind(scope, variants=..., service_timeout=...)` -> the CloudFormation-shaped
  `DeploymentConfig` *without* `AutoRollbackConfiguration` (validated; raises ValueError eagerly,
  defers token-dependent checks with `scope.node.add_validation`, warns with
  `Annotations.of(scope).add_warning_v2`).
- `render_auto_rollback(alarms)` -> `{"Alarms": [{"AlarmName": ...}, ...]}` or None.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from constructs import Construct


@dataclass(frozen=True)
class VariantFacts:
    """What the construct knows about one production variant when it renders the deployment."""

    variant_name: str
    #: None for a serverless variant; may be a token.
    instance_type: str | None
    #: None for a serverless variant; may be a token (a float that encodes it).
    initial_instance_count: int | float | None
    serverless: bool


class DeploymentStrategy:
    """How SageMaker deploys a new EndpointConfig to the endpoint."""

    @staticmethod
    def all_at_once(
        *,
        termination_wait: Duration | None = None,
        maximum_execution_timeout: Duration | None = None,
    ) -> DeploymentStrategy:
        return DeploymentStrategy(
            {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
            termination_wait or Duration.seconds(0),
            maximum_execution_timeout,
        )

    def __init__(
        self,
        routing: dict[str, Any],
        termination_wait: Duration,
        maximum_execution_timeout: Duration | None,
    ) -> None:
        self._routing = routing
        self._termination_wait = termination_wait
        self._maximum_execution_timeout = maximum_execution_timeout

    def bind(
        self,
        scope: Construct,
        *,
        variants: Sequence[VariantFacts],
        service_timeout: Duration,
    ) -> dict[str, Any]:
        policy: dict[str, Any] = {
            "TrafficRoutingConfiguration": dict(self._routing),
            "TerminationWaitInSeconds": int(self._termination_wait.to_seconds()),
        }
        if self._maximum_execution_timeout is not None:
            policy["MaximumExecutionTimeoutInSeconds"] = int(
                self._maximum_execution_timeout.to_seconds()
            )
        return {"BlueGreenUpdatePolicy": policy}


def render_auto_rollback(alarms: Sequence[cloudwatch.IAlarm]) -> dict[str, Any] | None:
    """The `AutoRollbackConfiguration` for these alarms, or None when there are none."""
    if not alarms:
        return None
    return {"Alarms": [{"AlarmName": alarm.alarm_name} for alarm in alarms]}
