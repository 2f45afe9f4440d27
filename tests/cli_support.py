"""What the command line's tests share: a canary DeploymentConfig as the API takes it."""

from __future__ import annotations

from typing import Any


def canary_config(*, bake: int, final_bake: int, timeout: int, alarm: str) -> dict[str, Any]:
    """A blue/green canary of 1 instance, baking `bake` s then `final_bake` s, rolled back by
    `alarm`."""
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "CANARY", "WaitIntervalInSeconds": bake,
                "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1}},
            "TerminationWaitInSeconds": final_bake,
            "MaximumExecutionTimeoutInSeconds": timeout,
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": alarm}]},
    }
