"""The deployment's auto-rollback alarms: `AutoRollbackConfiguration`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import aws_cloudwatch as cloudwatch

from .rules import Rule, raise_refusals, refusal, refuse

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


def check_rollback_alarms(
    errors: list[str], count: int, reuse_last_deployment_config: bool
) -> None:
    """The `rollback_alarms` prop: at most 10, and none with reuse_last_deployment_config."""
    if count and reuse_last_deployment_config:
        errors.append(_reuse_refusal("rollback_alarms", f"{count} alarm(s)"))
    if count > MAX_ALARMS:
        errors.append(refuse(
            Rule.ALARMS_1_TO_10, "rollback_alarms", f"{count} alarms",
            f"{MAX_ALARMS} alarms per endpoint (AutoRollbackConfiguration.Alarms 1..{MAX_ALARMS})",
            f"drop {count - MAX_ALARMS} alarm(s): keep those that tell a bad model from a good "
            "one."))


def check_can_add_alarm(
    given: int, added: int, reuse_last_deployment_config: bool
) -> None:
    """Raise ValueError unless `add_rollback_alarm` may add one more alarm to an endpoint that
    has `given` alarms from its `rollback_alarms` prop and `added` from earlier calls."""
    if reuse_last_deployment_config:
        raise_refusals([_reuse_refusal("add_rollback_alarm", "an alarm")], "add_rollback_alarm")
    if given + added >= MAX_ALARMS:
        raise_refusals([refuse(
            Rule.ALARMS_1_TO_10, "add_rollback_alarm",
            f"alarm number {given + added + 1} ({given} from rollback_alarms, {added} added by "
            "add_rollback_alarm before)",
            f"{MAX_ALARMS} alarms per endpoint (AutoRollbackConfiguration.Alarms 1..{MAX_ALARMS})",
            f"add at most {MAX_ALARMS} in all: keep those that tell a bad model from a good "
            "one.")], "add_rollback_alarm")


def _reuse_refusal(field: str, value: str) -> str:
    return refuse(
        Rule.ALARMS_NOT_WITH_REUSE, field, f"{value} with reuse_last_deployment_config=True",
        "no rollback alarms: they are part of the deployment configuration, and the last one is "
        "reused as it is", "drop the alarms, or drop reuse_last_deployment_config=True and give a "
        "deployment=.")
