"""An endpoint in the WaitCondition mode driven as CloudFormation does (the long-rollout tests
and the benchmark's 2-hour section): the new EndpointConfig and handle are created, the custom
resource's request is sent and answered, then the WaitCondition is created (its Timeout starts)
and waits for the handler's signal; a stack rollback sends the old properties, then its clean-up
deletes the new handle and condition."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError
from cfn_harness import CloudFormationStack, Harness, Response
from cfn_harness.wait_condition import WaitCondition, WaitConditions
from rollout_support import make_configs, props
from sagemaker_emulator import VirtualClock
from waiting_support import ALARM, CONFIG_A, ENDPOINT, Json

#: 10 steps of 10% baked 11 minutes each on 10 instances: about 2 hours with provisioning.
LINEAR: Json = {
    "BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {
            "Type": "LINEAR", "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 10},
            "WaitIntervalInSeconds": 660},
        "TerminationWaitInSeconds": 0,
        "MaximumExecutionTimeoutInSeconds": 28800,
    },
    "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": ALARM}]},
}
#: The construct's Timeout: MaximumExecutionTimeout + rollback allowance + handler margin.
TIMEOUT = 28800 + 300 + 90
#: Longest a test lets the handed-off waits run after an answer (virtual seconds).
LONG = 4 * 3600.0


class LongStack:
    """One endpoint in the WaitCondition mode, deployed change by change."""

    def __init__(self, stack: CloudFormationStack, harness: Harness, sagemaker: Any,
                 clock: VirtualClock) -> None:
        self.stack, self.harness, self.sagemaker, self.clock = stack, harness, sagemaker, clock
        self.conditions = WaitConditions(harness.responses, clock)
        self.handles: list[WaitCondition] = []
        self.before: Json | None = None

    def deploy(self, config: str, request: str = "Update", logical_id: str | None = None
               ) -> tuple[Response, WaitCondition]:
        """CloudFormation's update: the config and a new handle, the custom resource, then the
        condition (when the custom resource succeeded)."""
        make_configs(self.sagemaker, config, count=10)
        handle = self.conditions.create_handle(
            self.stack.stack_id, logical_id or f"DeploymentHandle{len(self.handles)}",
            timeout=TIMEOUT)
        self.handles.append(handle)
        properties = props(config, DeploymentConfig=LINEAR, WaitHandle=handle.url)
        self.before = self.stack.properties
        if request == "Create":
            response = self.stack.create(properties)
        else:
            response = self.stack.update(properties)
        if response.succeeded:
            self.conditions.create_condition(handle)
        return response, handle

    def run_until(self, moment: float) -> None:
        """Let time pass to ``moment``, delivering wakes and events."""
        with self.harness.logs.capturing():
            self.harness.cloud.run(lambda: self.clock.now() >= moment, moment + LONG,
                                   lambda: f"waiting: {self.harness.waiting_requests()}")

    def endpoint(self) -> tuple[str, str]:
        described = self.sagemaker.describe_endpoint(EndpointName=ENDPOINT)
        return described["EndpointStatus"], described["EndpointConfigName"]

    def settle(self) -> None:
        """Let the handed-off waits run to their end."""
        self.harness.run_stale_waits(LONG)

    def created(self) -> WaitCondition:
        response, handle = self.deploy(CONFIG_A, "Create")
        assert response.status == "SUCCESS", response.reason
        self.settle()
        assert handle.outcome(self.clock.now()) == "SUCCESS"
        self.clock.advance(60)
        return handle

    def rollback(self, handle: WaitCondition) -> Response:
        """The stack's rollback: the properties before the last deployment to the custom resource
        (whose Update had succeeded: the stack failed after it), then the clean-up."""
        assert self.before is not None and self.stack.properties is not None
        response = self.stack.update(self.before, old_properties=self.stack.properties)
        self.conditions.delete(handle)
        return response

    def config_exists(self, name: str) -> bool:
        try:
            self.sagemaker.describe_endpoint_config(EndpointConfigName=name)
        except ClientError:
            return False
        return True
