"""The WaitCondition mode (issue 14): deployments longer than the custom resource's hour.

The construct gives the custom resource a new WaitConditionHandle's URL (``WaitHandle``) for every
change that deploys; a WaitCondition (up to 12 h) waits for the handle's signal. Which requests
hand off, and how (``kind``):

- ``FORWARD``: a Create, or an Update whose handle is new. CloudFormation is answered SUCCESS once
  SageMaker accepted CreateEndpoint / UpdateEndpoint (or at once when the endpoint is already on
  the config); the wait goes on under its own schedule (``handoff_schedule_name``) and ends with
  ONE signal of the handle: SUCCESS when InService on the config, FAILURE with the engine's
  reason otherwise. The signal is never sent in the invocation that answers CloudFormation: the
  condition is created after that answer (a signal before it exists is *unverified*).
- ``ROLLBACK``: a stack rollback moving away from a handed-off deployment (an Update whose old
  properties carry a handle, to a config CREATED BEFORE the old one: CloudFormation names a fresh
  config for every change, so only a rollback goes back to an older one). CloudFormation is
  answered SUCCESS once SageMaker accepted the call, or at once when the endpoint is busy (the
  deployment being left cannot be stopped); the wait goes on quietly (no handle waits) towards
  the old config: once SageMaker's deployment ends, the engine deploys the old config again if
  the endpoint landed on the new one, unless a newer request claimed the endpoint. The rollback
  takes over the forward request's wait (its schedule deleted: it never signals a handle that
  CloudFormation's clean-up deletes). When the endpoint is InService on the old config, the
  config moved away from (retained by ``DeletionPolicy: Retain``) is deleted: nothing uses it.
- ``""``: the custom resource waits, as without a handle (an Update keeping its handle: tags,
  alarms; a Delete).

Pure decisions first, then the thin I/O (``Handoffs``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from . import recreation
from .clock import Clock
from .contract import (
    MAX_WAIT_CONDITION_TIMEOUT_SECONDS,
    RESPONSE_MARGIN_SECONDS,
    WAIT_HANDLE_PROPERTY,
)
from .decisions import IN_PROGRESS, Observation
from .properties import RolloutRequest
from .response import fit, put_response
from .rollout import REQUEST_TAG, Done, Failed, Outcome, Pending, RequestTag
from .sagemaker import Endpoints, SageMakerError
from .state import WaitState, carried_request, wake_payload
from .wakes import Wakes, schedule_name

logger = logging.getLogger(__name__)

FORWARD = "forward"
ROLLBACK = "rollback"
#: How long a handed-off wait may last: the longest WaitCondition, less the handler's margin.
HANDOFF_SECONDS = MAX_WAIT_CONDITION_TIMEOUT_SECONDS - RESPONSE_MARGIN_SECONDS
#: How long one invocation tries to deliver a signal (back-off 1, 2, 4, 8, 16 s).
SIGNAL_PUT_SECONDS = 31.0
#: A signal not delivered in its invocation (5xx, connection errors outlasting the back-off) is
#: tried again by the next wake, this much later.
SIGNAL_RETRY_SECONDS = 60.0


# -- decisions -------------------------------------------------------------------------------


def kind(event: dict[str, Any], request: RolloutRequest,
         created: Callable[[str], float | None]) -> str:
    """FORWARD, ROLLBACK or "" (see the module docstring). ``created(config)``: a config's
    CreationTime (None when it does not exist); called only for an Update that leaves a
    handed-off config for another."""
    request_type = event["RequestType"]
    if request_type == "Delete":
        return ""
    old = event.get("OldResourceProperties") or {}
    old_handle = str(old.get(WAIT_HANDLE_PROPERTY) or "")
    old_config = str(old.get("EndpointConfigName") or "")
    if request_type == "Update" and old_handle and old_config not in (
            "", request.endpoint_config_name):
        before, after = created(request.endpoint_config_name), created(old_config)
        if before is not None and after is not None and before < after:
            return ROLLBACK
    if request.wait_handle and request.wait_handle != old_handle:
        return FORWARD
    return ""


def same_handle_refusal(event: dict[str, Any], request: RolloutRequest) -> str | None:
    """An Update that changes the config but keeps its handle would be signalled by no one (the
    condition completed long ago): refused before any SageMaker call."""
    old = event.get("OldResourceProperties") or {}
    if event["RequestType"] != "Update" or not request.wait_handle:
        return None
    if old.get(WAIT_HANDLE_PROPERTY) != request.wait_handle:
        return None
    if old.get("EndpointConfigName") in (None, request.endpoint_config_name):
        return None
    return (f'Endpoint "{request.endpoint_name}": the change deploys EndpointConfig '
            f'"{request.endpoint_config_name}" but keeps the WaitCondition of the previous '
            "deployment, which no signal can complete again; nothing was changed. The "
            "construct derives the condition from the config and its models: a model named by "
            "a plain string or imported from another stack hides its change. Change the config "
            "(or rename the model) and deploy again.")


def initial(state: WaitState, event: dict[str, Any], request: RolloutRequest,
            handoff: str) -> WaitState:
    """The state of a request of that kind."""
    if handoff == FORWARD:
        return replace(state, handoff=FORWARD, handle=request.wait_handle)
    if handoff == ROLLBACK:
        old = event.get("OldResourceProperties") or {}
        return replace(state, handoff=ROLLBACK, retire=str(old.get("EndpointConfigName")))
    return state


def answers_now(state: WaitState, outcome: Outcome) -> bool:
    """Whether CloudFormation is answered now, the wait going on: SageMaker accepted our call (or
    the endpoint is already there, FORWARD: the signal follows from a wake); a ROLLBACK also when
    the endpoint is busy (SageMaker's deployment cannot be stopped)."""
    if not state.handoff or state.answered or isinstance(outcome, Failed):
        return False
    if isinstance(outcome, Done):
        return state.handoff == FORWARD
    if outcome.progress.issued:
        return True
    observed = outcome.observed
    return state.handoff == ROLLBACK and observed is not None and observed.status in IN_PROGRESS


def signal_body(outcome: Done | Failed, request_id: str, config: str) -> dict[str, str]:
    """The WaitCondition signal: ``{"Status", "Reason", "UniqueId", "Data"}`` (fitted in 4 KB)."""
    if isinstance(outcome, Done):
        body = {"Status": "SUCCESS", "UniqueId": request_id, "Data": config,
                "Reason": f'Endpoint "{outcome.attributes.get("EndpointName", "")}" is '
                          f'InService on EndpointConfig "{config}".'}
    else:
        body = {"Status": "FAILURE", "UniqueId": request_id, "Data": "",
                "Reason": outcome.reason}
    fit(body)
    return body


def retirable(state: WaitState, observed: Observation | None) -> bool:
    """The retained config may go: the endpoint is InService on another config and deploys
    nothing (a rollback's wait ended on the old config)."""
    return bool(state.retire) and observed is not None and observed.status == "InService" and (
        state.retire not in (observed.config_name, observed.pending_config_name))


def handoff_schedule_name(endpoint_name: str, owner: str, request_id: str) -> str:
    """The schedule of a handed-off wait: its own name, so that no invocation of the wait that
    answers CloudFormation can re-arm it (their lock is the other schedule's DeleteSchedule)."""
    return schedule_name(endpoint_name, owner, f"{request_id}/handoff")


# -- I/O ---------------------------------------------------------------------------------------


@dataclass
class Handoffs:
    """Hands a request's wait off, and ends a handed-off wait (signal, retire)."""

    endpoints: Callable[[], Endpoints]
    wakes: Callable[[], Wakes]
    clock: Clock

    def take_over(self, event: dict[str, Any], state: WaitState, owner: str) -> None:
        """A ROLLBACK ends the wait of the forward request it undoes (the endpoint's request tag
        names it): its handle is being deleted, the rollback's wait decides from now on."""
        endpoints = self.endpoints()
        observed = endpoints.describe(state.target_id)
        if observed is None or not observed.endpoint_arn:
            return
        tag = RequestTag.parse(endpoints.tags(observed.endpoint_arn).get(REQUEST_TAG))
        if tag is None or tag.owner != owner or tag.request_id == event.get("RequestId"):
            return
        if self.wakes().claim(handoff_schedule_name(state.target_id, owner, tag.request_id)):
            logger.info({"message": "took over the wait of the deployment rolled back",
                         "endpoint": state.target_id})

    def hand_off(self, event: dict[str, Any], state: WaitState, outcome: Done | Pending,
                 name: str) -> WaitState:
        """Arm the handed-off wait (``name``); the caller answers CloudFormation SUCCESS."""
        now = self.clock.now()
        observed = outcome.observed if isinstance(outcome, Pending) else None
        state = replace(state, answered=True, progress=getattr(outcome, "progress",
                                                                state.progress),
                        deadline=state.started + HANDOFF_SECONDS).seen(observed, now)
        # Answered: the ResponseURL is of no use any more. A recreation under way carries its tags.
        carried = carried_request(event, keep_tags=recreation.deleting(state.progress))
        request = {**carried, "ResponseURL": ""}
        self.wakes().arm(name, min(now + SIGNAL_RETRY_SECONDS, state.deadline),
                         wake_payload(state, request))
        logger.info({"message": "answered once SageMaker accepted; the wait goes on",
                     "endpoint": state.target_id, "handoff": state.handoff})
        return state

    def end(self, event: dict[str, Any], state: WaitState, outcome: Done | Failed,
            name: str, config: str) -> None:
        """The handed-off wait is over (this invocation won its lock): signal, retire."""
        if state.handoff == FORWARD and state.handle:
            body = signal_body(outcome, str(event.get("RequestId", "")), config)
            delivered = put_response(state.handle, json.dumps(body), self.clock,
                                     give_up_after=SIGNAL_PUT_SECONDS)
            if delivered is False:
                logger.error({"message": "the handle refused the signal (deleted?)",
                              "endpoint": state.target_id})
            elif delivered is None:
                logger.warning({"message": "signal not delivered; trying again",
                                "endpoint": state.target_id})
                self.wakes().arm(name, self.clock.now() + SIGNAL_RETRY_SECONDS,
                                 wake_payload(state, event))
                return
            else:
                logger.info({"message": "signalled the WaitCondition", "status": body["Status"],
                             "endpoint": state.target_id})
        if isinstance(outcome, Done):
            self.retire(state, None)

    def retire(self, state: WaitState, observed: Observation | None) -> None:
        """Delete the retained config the endpoint moved away from (a Done outcome is InService on
        the goal config, which is never the retired one)."""
        if not state.retire:
            return
        endpoints = self.endpoints()
        observed = observed or endpoints.describe(state.target_id)
        if not retirable(state, observed):
            return
        try:
            endpoints.delete_config(state.retire)
        except SageMakerError as error:
            logger.warning({"message": "the retained EndpointConfig could not be deleted",
                            "config": state.retire, "error": error.code})
            return
        logger.info({"message": "deleted the retained EndpointConfig nothing uses",
                     "config": state.retire, "endpoint": state.target_id})
