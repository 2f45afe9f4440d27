"""The deployment's auto-rollback alarms: `AutoRollbackConfiguration`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import aws_cloudwatch as cloudwatch

from .rules import Rule, refusal

#: AutoRollbackConfiguration.Alarms 1..10 items (botocore model AlarmList; fact sheet).
MAX_ALARMS = 10


def render_auto_rollback(alarms: Sequence[cloudwatch.IAlarm]) -> dict[str, Any] | None:
    """The `AutoRollbackConfiguration` for these alarms, or None when there are none.

    1..10 alarms (botocore model AlarmList; fact sheet, "DeploymentConfig.AutoRollbackConfiguration:
    Alarms: 1..10 items"). No alarms renders nothing (an empty list is not API-valid).
    """
    if not alarms:
        return None
    if len(alarms) > MAX_ALARMS:
        raise ValueError(refusal(
            Rule.ALARMS_1_TO_10,
            f"{len(alarms)} auto-rollback alarms; the limit is {MAX_ALARMS} "
            f"(AutoRollbackConfiguration.Alarms 1..{MAX_ALARMS}). Fix: pass at most {MAX_ALARMS} "
            "alarms, the ones that tell a bad model from a good one.",
        ))
    return {"Alarms": [{"AlarmName": alarm.alarm_name} for alarm in alarms]}


def check_can_add_alarm(
    alarms: Sequence[cloudwatch.IAlarm], reuse_last_deployment_config: bool
) -> None:
    """Raise ValueError unless an endpoint with these rollback alarms may have one more."""
    if reuse_last_deployment_config:
        raise ValueError(
            "rollback alarms are not allowed with reuse_last_deployment_config=True: they are "
            "part of the deployment configuration, and the last one is reused as it is"
        )
    if len(alarms) >= MAX_ALARMS:
        raise ValueError(
            f"rollback_alarms has {len(alarms) + 1} alarms, which is not "
            f"allowed: allowed are at most {MAX_ALARMS} alarms per endpoint"
        )
