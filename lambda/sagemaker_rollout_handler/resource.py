"""crhelper's `CfnResource`: the CloudFormation protocol layer, with the overrides we need.

crhelper 2.0.12 is in maintenance; its polling (one EventBridge rule and one Lambda permission per
request) is not used: waits are carried by EventBridge Scheduler (`wakes`, `waiting`). What is
left of crhelper is what it is good at: turning a function's return value or exception into one
well-formed answer. Each override fixes one behaviour described in
`shared/reference/custom-resources-and-crhelper.md` or issue 17:

- `_cfn_response`: silent when the request is not answered in this invocation (it waits), or was
  answered by another invocation (it lost the answer lock).
- `_send`: crhelper cuts the Reason to its LAST 240 characters, losing the endpoint's name; we
  fit the whole body in CloudFormation's 4096 bytes by its encoded size, keeping the Reason's
  head (issue 17.7). crhelper's own FAILED paths (an exception outside our function, its timer)
  get the physical id of what was really done (issue 17.3) and a Reason naming the endpoint
  (issue 17.9).
- the PUT (`put_response`): crhelper treats any HTTP status as success; we retry HTTP 5xx and
  connection errors with back-off, within the invocation's remaining time (issue 17.6).
- `_timeout`: crhelper's reason is only "Execution timed out"; ours names the resource.
- `generate_physical_id`: crhelper invents `<stack>_<logical id>_<random>` for a failed Create;
  ours is the endpoint's name when this request made it (so the Delete removes it), else a marker
  that can never be an endpoint name, so the Delete that follows touches nothing.
- `_wait_for_cwlogs`: no 120 s sleep on Delete (the log group outlives the function).
- `__init__`: crhelper creates boto3 clients for Lambda, EventBridge and CloudWatch Logs that
  only its polling uses; we make none (a faster cold start, and no region needed for them).
- log level: never DEBUG, at which crhelper logs the ResponseURL.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from crhelper import resource_helper

from .clock import Clock, SystemClock
from .response import fit, put_response

# crhelper's stubs declare only its public API; the overrides below use its internals.
_CfnResource: Any = resource_helper.CfnResource
FAILED = resource_helper.FAILED

logger = logging.getLogger(__name__)

NOT_CREATED_PREFIX = "not-created:"
_ALLOWED_LEVELS = ("INFO", "WARNING", "ERROR", "CRITICAL")


class _NoClients:
    """Stands in for boto3 while crhelper's constructor runs: the clients it would make serve
    only its polling, which is not used."""

    @staticmethod
    def client(*args: Any, **kwargs: Any) -> None:
        return None


def not_created_id(endpoint_name: str) -> str:
    """The physical id of a Create that made nothing (':' never appears in endpoint names)."""
    return f"{NOT_CREATED_PREFIX}{endpoint_name}"


class RolloutResource(_CfnResource):  # type: ignore[misc]
    """crhelper's resource helper with the fixes listed in this module's docstring."""

    # crhelper's private attributes used here (its .pyi stubs declare only the public API).
    _event: dict[str, Any]
    _context: Any
    _response_url: str
    _ssl_verify: Any
    Data: dict[str, Any]
    PhysicalResourceId: Any

    def __init__(self, *, log_level: str = "INFO", clock: Clock | None = None) -> None:
        level = log_level.upper() if log_level.upper() in _ALLOWED_LEVELS else "INFO"
        helper: Any = resource_helper
        real_boto3 = helper.boto3
        helper.boto3 = _NoClients()
        try:
            super().__init__(json_logging=True, log_level=level, boto_level="WARNING",
                             polling_interval=1, sleep_on_delete=0)
        finally:
            helper.boto3 = real_boto3
        self.clock = clock or SystemClock()
        #: Set by the handler: no answer from this invocation.
        self.silent = False
        #: Set by the handler once this request has made the endpoint (its name).
        self.made_endpoint: str | None = None

    def _crhelper_init(self, event: dict[str, Any], context: Any) -> bool:
        self.silent = False
        self.made_endpoint = None
        return bool(super()._crhelper_init(event, context))

    def _cfn_response(self, event: dict[str, Any]) -> None:
        if self.silent:
            return
        super()._cfn_response(event)

    # -- the response -----------------------------------------------------------------------

    def _send(self, status: str | None = None, reason: str = "", send_response: Any = None
              ) -> None:
        if status is not None and (not self.PhysicalResourceId
                                   or str(self.PhysicalResourceId) == "None"):
            # crhelper's own FAILED paths: our function never set a physical id.
            self.PhysicalResourceId = self._fallback_physical_id()
        final_status = status or self.Status
        text = str(reason if status else self.Reason)
        if final_status == FAILED:
            text = self._named(text)
        body = {
            "Status": final_status,
            "PhysicalResourceId": str(self.PhysicalResourceId),
            "StackId": self.StackId,
            "RequestId": self.RequestId,
            "LogicalResourceId": self.LogicalResourceId,
            "Reason": text,
            "Data": {k: v for k, v in self.Data.items() if not k.startswith("CrHelper")},
            "NoEcho": self.NoEcho,
        }
        fit(body)
        logger.info({"message": "answering CloudFormation", "status": body["Status"],
                     "physical_id": body["PhysicalResourceId"], "reason": body["Reason"]})
        remaining = self._context.get_remaining_time_in_millis() / 1000
        put_response(self._response_url, json.dumps(body), self.clock,
                     give_up_after=max(0.0, remaining - 2.0), ssl_verify=self._ssl_verify)

    def _named(self, reason: str) -> str:
        """A FAILED reason names the endpoint (crhelper's own reasons do not)."""
        name = self._endpoint_name()
        if name and f'"{name}"' not in reason and not reason.startswith(name):
            return f'Endpoint "{name}" ({self.LogicalResourceId}): {reason}'
        return reason

    def _endpoint_name(self) -> str:
        event = self._event
        return str(event.get("ResourceProperties", {}).get("EndpointName", "")
                   or event.get("PhysicalResourceId", ""))

    def _fallback_physical_id(self) -> str:
        event = self._event
        if event.get("PhysicalResourceId"):
            return str(event["PhysicalResourceId"])
        return self.generate_physical_id(event)

    def _timeout(self) -> None:
        logger.error({"message": "the invocation is about to time out"})
        self._send(
            FAILED,
            f"{self.LogicalResourceId}: the provider function ran out of time in this invocation "
            "(a SageMaker call hung?). SageMaker goes on by itself; CloudFormation will roll back. "
            "See the provider's log group, then deploy again.",
        )

    def generate_physical_id(self, event: dict[str, Any]) -> str:
        """A failed Create's physical id: the endpoint when this request made it (issue 17.3),
        else the marker."""
        if self.made_endpoint:
            return self.made_endpoint
        name = str(event.get("ResourceProperties", {}).get("EndpointName", ""))
        return not_created_id(name or event["LogicalResourceId"])

    def _wait_for_cwlogs(self, sleep: Any = None) -> None:
        return None
