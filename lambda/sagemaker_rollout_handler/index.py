"""The Lambda entry point of Custom::SageMakerEndpointRollout: what woke the function, and whom.

Three kinds of invocation, each a named entry point:

- ``on_request``: CloudFormation's Create / Update / Delete (crhelper runs ``waiting.Waiter``).
- ``on_wake``: a request's EventBridge Scheduler schedule fired (the safety wake); its state is
  read back from the schedule itself (GetSchedule), the truth of what is still waiting.
- ``on_sagemaker_event``: SageMaker announced a change of an endpoint (the stack's one rule on
  the default bus): every request waiting for that endpoint (its schedules, found by name prefix)
  looks at it. Events only wake: DescribeEndpoint decides (their fields differ in case and units).
- ``on_legacy_poll``: a crhelper polling rule of the previous version (state version 1) fired; the
  wait moves to a schedule (after winning the old lock: RemovePermission) and finishes.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from .clock import Clock, SystemClock
from .contract import (
    LEGACY_STATE_KEY,
    OWNER_TAG_KEY,
    RESPONSE_MARGIN_SECONDS,
    SAGEMAKER_EVENT_SOURCE,
    SCHEDULE_GROUP_ENV,
    SCHEDULER_ROLE_ENV,
    STACK_ID_ENV,
    WAKE_KEY,
)
from .handoff import handoff_schedule_name
from .resource import RolloutResource
from .rollout import REQUEST_TAG, RequestTag
from .sagemaker import Endpoints, SageMakerError, default_client
from .state import StateError, WaitState, carried_request, read_payload, wake_payload
from .waiting import Waiter, Wake, event_time, owner_of
from .wakes import Wakes, WakeTarget, schedule_name

logger = logging.getLogger(__name__)


@dataclass
class Provider:
    """The function: crhelper's resource, the waiter it runs, and the clients (created lazily,
    injectable for tests)."""

    sagemaker_client: Any = None
    scheduler_client: Any = None
    events_client: Any = None
    lambda_client: Any = None
    wake_target: WakeTarget | None = None
    clock: Clock = field(default_factory=SystemClock)
    #: The stack's id (default: the environment's): events of another stack's endpoints are
    #: not looked into.
    stack_id: str | None = None
    resource: RolloutResource = field(init=False)
    waiter: Waiter = field(init=False)

    def __post_init__(self) -> None:
        self.resource = RolloutResource(log_level=os.environ.get("LOG_LEVEL", "INFO"),
                                        clock=self.clock)
        self._endpoints: Endpoints | None = None
        self.waiter = Waiter(self.resource, self.endpoints, self.wakes, self.clock,
                             float(RESPONSE_MARGIN_SECONDS))
        for register in (self.resource.create, self.resource.update, self.resource.delete):
            register(self.waiter)

    def endpoints(self) -> Endpoints:
        if self._endpoints is None:
            self._endpoints = Endpoints(self.sagemaker_client or default_client())
        return self._endpoints

    def wakes(self, context: Any = None) -> Wakes:
        if self.scheduler_client is None:
            import boto3

            self.scheduler_client = boto3.client("scheduler")
        return Wakes(self.scheduler_client, self.wake_target or _target_from_environment())

    def __call__(self, event: dict[str, Any], context: Any) -> None:
        if event.get("source") == SAGEMAKER_EVENT_SOURCE:
            self.on_sagemaker_event(event, context)
        elif WAKE_KEY in event:
            self.on_wake(event, context)
        elif event.get("CrHelperPoll") and LEGACY_STATE_KEY in event:
            self.on_legacy_poll(event, context)
        else:
            self.on_request(event, context)

    def on_request(self, event: dict[str, Any], context: Any) -> None:
        self.resource(event, context)

    def on_wake(self, event: dict[str, Any], context: Any) -> None:
        try:
            state, request = read_payload(event)
        except (StateError, KeyError, ValueError) as error:
            logger.error({"message": "a wake this handler cannot read", "error": str(error)})
            return
        names = (handoff_schedule_name if state.answered else schedule_name)
        self._resume([names(state.target_id, owner_of(request),
                            str(request.get("RequestId", "")))], context)

    def on_sagemaker_event(self, event: dict[str, Any], context: Any) -> None:
        """Wake the request that last claimed the endpoint (its request tag names it)."""
        detail = event.get("detail", {})
        name, arn = str(detail.get("EndpointName", "")), str(detail.get("EndpointArn", ""))
        if not name or not arn:
            return
        stack_id = self.stack_id if self.stack_id is not None else os.environ.get(
            STACK_ID_ENV, "")
        if another_stacks(detail, stack_id):
            logger.info({"message": "event of another stack's endpoint; nothing to do",
                         "endpoint": name})
            return
        try:
            tag = RequestTag.parse(self.endpoints().tags(arn).get(REQUEST_TAG))
        except SageMakerError as error:
            # Not one of this stack's endpoints (the provider may not even read its tags).
            logger.info({"message": "event of an endpoint that is not ours", "endpoint": name,
                         "error": error.code})
            return
        if tag is None:
            return
        # The request's wait: the one that answers CloudFormation, else the handed-off one.
        self._resume([naming(name, tag.owner, tag.request_id)
                      for naming in (schedule_name, handoff_schedule_name)],
                     context, event_time(event))

    def _resume(self, names: list[str], context: Any, when: float | None = None) -> None:
        wakes = self.wakes()
        for name in names:
            found = wakes.read(name)
            if found is not None:
                break
        else:
            logger.info({"message": "wake of a request already answered; nothing to do"})
            return
        payload, wake_at = found
        state, request = read_payload(payload)
        self.waiter.wake = Wake(name, state, wake_at, when)
        self.resource(request, context)

    def on_legacy_poll(self, event: dict[str, Any], context: Any) -> None:
        """A version-1 wait (crhelper's polling rule): take it over, then carry on."""
        if not self._take_legacy_rule(event, context):
            logger.info({"message": "another invocation took over this poll; silent"})
            return
        state = WaitState.from_legacy(event[LEGACY_STATE_KEY], self.clock.now())
        request = carried_request(event)
        name = schedule_name(state.target_id, owner_of(request), str(request.get("RequestId")))
        self.wakes().arm(name, self.clock.now() + 60.0, wake_payload(state, request))
        self.waiter.wake = Wake(name, state, self.clock.now() + 60.0)
        self.resource(request, context)

    def _take_legacy_rule(self, event: dict[str, Any], context: Any) -> bool:
        """Remove the old rule's permission (the version-1 lock: Lambda removes a statement once),
        its target and the rule."""
        import boto3

        lambdas = self.lambda_client or boto3.client("lambda")
        events = self.events_client or boto3.client("events")
        try:
            lambdas.remove_permission(FunctionName=context.function_name,
                                      StatementId=event["CrHelperPermission"])
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return False
            raise
        rule = str(event["CrHelperRule"]).split("/")[-1]
        for operation, params in (("remove_targets", {"Rule": rule, "Ids": ["1"]}),
                                  ("delete_rule", {"Name": rule})):
            try:
                getattr(events, operation)(**params)
            except ClientError as error:
                if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                    raise
        return True


def another_stacks(detail: dict[str, Any], stack_id: str) -> bool:
    """Whether the event's own tags (its ``detail.Tags``) give the endpoint another stack's
    ownership tag: then its ListTags would only be denied. Tags absent, or without the ownership
    tag, say nothing (an event may not carry them): the endpoint's tags are read."""
    tags = detail.get("Tags")
    if not stack_id or not isinstance(tags, dict):
        return False
    owner = tags.get(OWNER_TAG_KEY)
    return owner is not None and owner != stack_id


def _target_from_environment() -> WakeTarget:
    function = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
    region = os.environ.get("AWS_REGION", "")
    account = os.environ.get("SAGEMAKER_ROLLOUT_ACCOUNT", "")
    role = os.environ.get(SCHEDULER_ROLE_ENV, "")
    if not account and role.startswith("arn:"):
        account = role.split(":")[4]
    partition = role.split(":")[1] if role.startswith("arn:") else "aws"
    return WakeTarget(group=os.environ.get(SCHEDULE_GROUP_ENV, ""), role_arn=role,
                      function_arn=f"arn:{partition}:lambda:{region}:{account}:function:{function}")


def build_resource(
    *,
    sagemaker_client: Any = None,
    scheduler_client: Any = None,
    events_client: Any = None,
    lambda_client: Any = None,
    wake_target: WakeTarget | None = None,
    clock: Clock | None = None,
    stack_id: str | None = None,
) -> Provider:
    """The function with injectable clients and clock (tests point them at local servers and a
    virtual clock)."""
    return Provider(sagemaker_client=sagemaker_client, scheduler_client=scheduler_client,
                    events_client=events_client, lambda_client=lambda_client,
                    wake_target=wake_target, clock=clock or SystemClock(), stack_id=stack_id)


_default: Provider | None = None


def handler(event: dict[str, Any], context: Any) -> None:
    """Lambda entry point."""
    global _default
    if _default is None:
        _default = build_resource()
    _default(event, context)
