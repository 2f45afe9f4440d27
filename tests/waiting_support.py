"""The request both the waiting and the hardening tests deploy: one canary with one alarm."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]
ENDPOINT = "ep"
CONFIG_A, CONFIG_B = "ep-config-a", "ep-config-b"
ALARM = "ep-5xx-errors-high"
CANARY: Json = {
    "BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {
            "Type": "CANARY", "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1},
            "WaitIntervalInSeconds": 300},
        "TerminationWaitInSeconds": 120,
        "MaximumExecutionTimeoutInSeconds": 1800,
    },
    "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": ALARM}]},
}
