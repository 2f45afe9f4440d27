"""crhelper's `CfnResource`, with the overrides a production endpoint needs.

crhelper 2.0.12 is in maintenance; each override below fixes one behaviour described in
`shared/reference/custom-resources-and-crhelper.md`:

- `_polling_init`: crhelper ALWAYS sets up polling after create/update/delete, so work that needs
  no waiting (a rollback to the config already serving, a delete of an endpoint that is gone)
  would answer a minute later at best. We answer in the first invocation when it finished.
  It also re-writes the rule's target when the poll state changed (crhelper #27: Data set during
  a poll is lost otherwise).
- `_setup_polling` / `_put_targets`: the rule target's Input is limited to 8192 characters; we
  send a slimmed event (no OldResourceProperties) and fail clearly, before creating anything,
  when it is still too large.
- `_put_rule`: crhelper names the rule LogicalResourceId + 8 random characters, which breaks for
  logical ids over 56 characters and cannot be scoped in IAM; ours is
  `sagemaker-rollout-<hash of stack, logical id and request id>`: one name per request.
- `_remove_polling`: tolerate a rule/target/permission already removed (a poll delivered twice),
  instead of turning the clean-up error into a FAILED after the SUCCESS; and use the removal of
  the Lambda permission as a lock, so that of two polls running at once only one answers.
- `_wrap_function`: a poll whose rule is gone belongs to a request already answered, and a
  request delivered again whose rule exists is being waited for by polling: do nothing.
- `_send`: crhelper cuts the Reason to its LAST 240 characters, losing the endpoint's name; we keep
  the beginning and fit the whole body in CloudFormation's 4096 bytes.
- `_send` on crhelper's own FAILED paths (an exception outside our function, its timeout timer):
  crhelper would send the physical id "None" (or "") and leave the polling rule behind, which
  then answers a second time; we send the request's real physical id and remove the rule first.
- `_timeout`: crhelper's reason is only "Execution timed out"; ours names the resource and says
  what happens next.
- `generate_physical_id`: crhelper invents `<stack>_<logical id>_<random>` for a failed Create;
  ours is a marker that can never be an endpoint name, so the Delete that follows touches nothing.
- `_wait_for_cwlogs`: no 120 s sleep on Delete (the log group outlives the function).
- log level: never DEBUG, at which crhelper logs the ResponseURL (anyone who reads the logs could
  forge the answer).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Any

from botocore.exceptions import ClientError
from crhelper import resource_helper, utils

# crhelper's stubs declare only its public API; the overrides below use its internals.
_CfnResource: Any = resource_helper.CfnResource
_send_response: Any = getattr(utils, "_send_response")  # noqa: B009
FAILED = resource_helper.FAILED

logger = logging.getLogger(__name__)

#: Where the poll state travels inside the event that the polling rule delivers.
STATE_KEY = "SageMakerRolloutState"
#: CloudFormation's limit on the whole response body.
RESPONSE_LIMIT = 4096
#: EventBridge's limit on a target's Input.
POLL_INPUT_LIMIT = 8192
RULE_PREFIX = "sagemaker-rollout-"
#: Characters of the last deployment phase kept in the poll state (EventBridge input limit).
PHASE_LIMIT = 300
NOT_CREATED_PREFIX = "not-created:"
_ALLOWED_LEVELS = ("INFO", "WARNING", "ERROR", "CRITICAL")


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
    _polling_interval: int
    _events_client: Any
    _lambda_client: Any
    _send_response: bool
    Data: dict[str, Any]
    PhysicalResourceId: Any

    def __init__(
        self,
        *,
        log_level: str = "INFO",
        events_client: Any = None,
        lambda_client: Any = None,
    ) -> None:
        level = log_level.upper() if log_level.upper() in _ALLOWED_LEVELS else "INFO"
        super().__init__(
            json_logging=True,
            log_level=level,
            boto_level="WARNING",
            polling_interval=1,
            sleep_on_delete=0,
        )
        if events_client is not None:
            self._events_client = events_client
        if lambda_client is not None:
            self._lambda_client = lambda_client
        #: Set by the handler when the request is answered in this invocation.
        self.finished = False
        #: The poll state; the handler reads and replaces it.
        self.state: dict[str, Any] = {}
        self._answered_elsewhere = False

    # -- request set-up ---------------------------------------------------------------------

    def _crhelper_init(self, event: dict[str, Any], context: Any) -> bool:
        self.finished = False
        self._answered_elsewhere = False
        self.state = dict(event.get(STATE_KEY) or {})
        return bool(super()._crhelper_init(event, context))

    def _wrap_function(self, func: Callable[..., Any] | None) -> None:
        polling = "CrHelperPoll" in self._event
        if polling and not self._rule_exists():
            logger.info({"message": "poll for a request that was already answered; nothing to do"})
            self._answered_elsewhere = True
        elif not polling and self._rule_exists():
            logger.info({"message": "request delivered again while polling for it; nothing to do"})
            self._answered_elsewhere = True
        if self._answered_elsewhere:
            self.PhysicalResourceId = None
            return
        super()._wrap_function(func)

    # -- polling ----------------------------------------------------------------------------

    def _polling_init(self, event: dict[str, Any]) -> None:
        first = "CrHelperPoll" not in event
        if self._answered_elsewhere:
            return
        if first and self.Status != FAILED and self.finished:
            self._send_response = True
            return
        if not first and self.Status != FAILED and not self.PhysicalResourceId:
            if event.get(STATE_KEY) != self.state:
                event[STATE_KEY] = dict(self.state)
                self._put_targets(self._context.function_name)
            return
        if not first:
            # Done while polling. Removing the Lambda permission is the lock: if EventBridge ever
            # delivers two polls at once (its schedule is not exact), only the one that removed
            # it answers.
            if self._remove_polling():
                self._send_response = True
            else:
                logger.info({"message": "another invocation answered this request; silent"})
            return
        super()._polling_init(event)

    def start_polling(self) -> None:
        """Create the polling rule now, while this invocation goes on waiting; the response is
        then sent (and the rule removed) by whichever invocation sees the end."""
        self._setup_polling()

    def check_poll_input(self, state: dict[str, Any]) -> None:
        """Raise if the event, as the polling rule would carry it, is over EventBridge's limit.
        Measured with placeholders as long as the real rule ARN and statement id (and room for
        the state to grow), before anything is created."""
        probe = dict(self._event, CrHelperData=self.Data, CrHelperPoll=True,
                     CrHelperRule="x" * 160, CrHelperPermission="x" * 100,
                     **{STATE_KEY: _longest(state)})
        size = len(json.dumps(_slim(probe)))
        if size > POLL_INPUT_LIMIT:
            raise ValueError(
                f"{self._event.get('LogicalResourceId')}: the request is too large to wait for, "
                "nothing was changed: its event would be "
                f"{size} characters and EventBridge allows {POLL_INPUT_LIMIT} for the polling "
                "rule's input. Reduce the resource's properties (fewer or shorter Tags)."
            )

    def _setup_polling(self) -> None:
        self.check_poll_input(self.state)
        self._event["CrHelperData"] = self.Data
        self._event["CrHelperPoll"] = True
        self._event[STATE_KEY] = dict(self.state)
        self._event["CrHelperRule"] = self._put_rule()
        self._event["CrHelperPermission"] = self._add_permission(self._event["CrHelperRule"])
        self._put_targets(self._context.function_name)

    def _rule_name(self) -> str:
        event = self._event
        key = f"{event['StackId']}/{event['LogicalResourceId']}/{event['RequestId']}"
        return f"{RULE_PREFIX}{hashlib.sha256(key.encode()).hexdigest()[:24]}"

    def _put_rule(self) -> str:
        response = self._events_client.put_rule(
            Name=self._rule_name(),
            ScheduleExpression=f"rate({self._polling_interval} minute)",
            State="ENABLED",
            Description="Polls a SageMaker endpoint rollout for CloudFormation (crhelper)",
        )
        return str(response["RuleArn"])

    def _put_targets(self, func_name: str) -> None:
        rule_arn = self._event["CrHelperRule"]
        _, partition, _, region, account_id, _ = rule_arn.split(":", 5)
        self._events_client.put_targets(
            Rule=rule_arn.split("/")[1],
            Targets=[
                {
                    "Id": "1",
                    "Arn": f"arn:{partition}:lambda:{region}:{account_id}:function:{func_name}",
                    "Input": json.dumps(_slim(self._event)),
                }
            ],
        )

    def _remove_polling(self) -> bool:
        """Remove target, permission and rule. True when this call removed the permission: Lambda
        refuses to remove a statement twice (ResourceNotFoundException), while EventBridge's
        DeleteRule succeeds however often it is called, so the permission is the lock."""
        self._event.pop("CrHelperData", None)
        self.Data.pop("PhysicalResourceId", None)
        rule_arn = self._event.get("CrHelperRule")
        permission = self._event.get("CrHelperPermission")
        removed = True
        if rule_arn:
            rule_name = rule_arn.split("/")[1]
            _ignore_missing(lambda: self._events_client.remove_targets(Rule=rule_name, Ids=["1"]))
        if permission:
            removed = _ignore_missing(
                lambda: self._lambda_client.remove_permission(
                    FunctionName=self._context.function_name, StatementId=permission
                )
            )
        if rule_arn:
            _ignore_missing(lambda: self._events_client.delete_rule(Name=rule_name))
        return removed

    def _rule_exists(self) -> bool:
        try:
            self._events_client.describe_rule(Name=self._rule_name())
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return False
            raise
        return True

    # -- the response -----------------------------------------------------------------------

    def _send(
        self,
        status: str | None = None,
        reason: str = "",
        send_response: Any = _send_response,
    ) -> None:
        if status is not None:
            # crhelper's own FAILED paths: our function never set a physical id, and the polling
            # rule (if any) would fire on and answer again.
            if not self.PhysicalResourceId or str(self.PhysicalResourceId) == "None":
                self.PhysicalResourceId = self._fallback_physical_id()
            if self._event.get("CrHelperRule"):
                try:
                    self._remove_polling()
                except Exception:  # the answer matters more than the clean-up
                    logger.exception({"message": "could not remove the polling rule"})
        body = {
            "Status": status or self.Status,
            "PhysicalResourceId": str(self.PhysicalResourceId),
            "StackId": self.StackId,
            "RequestId": self.RequestId,
            "LogicalResourceId": self.LogicalResourceId,
            "Reason": str(reason if status else self.Reason),
            "Data": {k: v for k, v in self.Data.items() if not k.startswith("CrHelper")},
            "NoEcho": self.NoEcho,
        }
        _fit(body)
        logger.info(
            {
                "message": "answering CloudFormation",
                "status": body["Status"],
                "physical_id": body["PhysicalResourceId"],
                "reason": body["Reason"],
            }
        )
        send_response(self._response_url, body, self._ssl_verify)

    def _fallback_physical_id(self) -> str:
        event = self._event
        if event.get("PhysicalResourceId"):
            return str(event["PhysicalResourceId"])
        name = str(event.get("ResourceProperties", {}).get("EndpointName", ""))
        if self.state.get("progress", {}).get("created") and name:
            return name  # the Create made the endpoint: CloudFormation's Delete must remove it
        return not_created_id(name or str(event.get("LogicalResourceId", "")))

    def _timeout(self) -> None:
        logger.error({"message": "the invocation is about to time out"})
        self._send(
            FAILED,
            f"{self.LogicalResourceId}: the provider function ran out of time in this invocation "
            "(a SageMaker call hung?). SageMaker goes on by itself; CloudFormation will roll back. "
            "See the provider's log group, then deploy again.",
        )

    def generate_physical_id(self, event: dict[str, Any]) -> str:
        name = str(event.get("ResourceProperties", {}).get("EndpointName", ""))
        return not_created_id(name or event["LogicalResourceId"])

    def _wait_for_cwlogs(self, sleep: Any = None) -> None:
        return None


def _longest(state: dict[str, Any]) -> dict[str, Any]:
    """The poll state as large as it can grow (the last phase seen at its full length)."""
    progress = dict(state.get("progress", {}), last_phase="x" * PHASE_LIMIT)
    return dict(state, progress=progress)


def _slim(event: dict[str, Any]) -> dict[str, Any]:
    """The event the polling rule delivers: what a poll needs, nothing more."""
    return {key: value for key, value in event.items() if key != "OldResourceProperties"}


def _fit(body: dict[str, Any]) -> None:
    """Make the JSON body fit CloudFormation's limit: shorten the middle of the Reason (its start
    names the endpoint, its end says what to do), then drop Data if it is still too large."""
    def size() -> int:
        return len(json.dumps(body).encode())

    excess = size() - RESPONSE_LIMIT
    if excess > 0:
        reason = str(body["Reason"])
        cut = excess + 16
        keep_head = max(0, (len(reason) - cut) * 2 // 3)
        keep_tail = max(0, len(reason) - cut - keep_head)
        body["Reason"] = reason[:keep_head] + " [...] " + (reason[-keep_tail:] if keep_tail else "")
    if size() > RESPONSE_LIMIT:
        body["Data"] = {}
    while size() > RESPONSE_LIMIT and body["Reason"]:
        body["Reason"] = str(body["Reason"])[: len(str(body["Reason"])) // 2]


def _ignore_missing(call: Callable[[], Any]) -> bool:
    """Make the call; False (instead of an error) when its resource is already gone."""
    try:
        call()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        return False
    return True
