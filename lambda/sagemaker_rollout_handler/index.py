"""The Lambda entry point: crhelper wiring for Custom::SageMakerEndpointRollout.

Each request type becomes a `Plan` (where the endpoint should end up, and by when); the same
function serves the first invocation and every poll, so a poll is simply "carry on". What to do
next is decided in `decisions`, when to look again in `schedule`, the calls are in `sagemaker`.

Time: the first invocation looks once. If it must wait, it starts crhelper's polling rule at once
(rather than after returning, as crhelper does) and goes on watching until `FIRING_MARGIN` seconds
before the rule's first firing; every poll then watches until just before the next firing. So the
endpoint is never unwatched for more than a few seconds, invocations never overlap, and none comes
near the Lambda timeout (nor crhelper's timer 0.5 s before it). Whether an invocation sleeps
in-process or returns at once is the wait schedule's call (`schedule`). Over the whole request the
handler gives up `RESPONSE_MARGIN` seconds before CloudFormation's ServiceTimeout, so
CloudFormation always gets an answer.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
from dataclasses import asdict, replace
from typing import Any

from .clock import Clock, SystemClock
from .decisions import Goal, Progress
from .properties import PropertyError, RolloutRequest, parse_request
from .resource import PHASE_LIMIT, RolloutResource, not_created_id
from .rollout import Done, Failed, Pending, Plan, run
from .sagemaker import Endpoints, default_client
from .schedule import bake_lengths

logger = logging.getLogger(__name__)

#: crhelper's polling rule fires every minute (EventBridge's smallest rate).
POLL_INTERVAL = 60.0
#: An invocation ends this many seconds before the next firing of the polling rule.
FIRING_MARGIN = 5.0
#: Seconds of Lambda time always left unused (botocore retries, the response PUT).
LAMBDA_RESERVE = 30.0
#: The request gives up this long before CloudFormation's ServiceTimeout; with one polling interval
#: (60 s) between looks, the FAILED answer still arrives at least 30 s before CloudFormation's
#: deadline. The construct's time budget (sagemaker_rollout.time_budget) counts with it.
RESPONSE_MARGIN = 90.0
_ENDPOINT_NAME = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")


class RolloutFailure(Exception):
    """The request failed; str() is the reason CloudFormation shows."""


def build_resource(
    *,
    sagemaker_client: Any = None,
    events_client: Any = None,
    lambda_client: Any = None,
    clock: Clock | None = None,
) -> RolloutResource:
    """The crhelper resource with every function registered; the clients and the clock are
    injectable (tests point them at local servers and a virtual clock)."""
    resource = RolloutResource(
        log_level=os.environ.get("LOG_LEVEL", "INFO"),
        events_client=events_client,
        lambda_client=lambda_client,
    )
    time = clock or SystemClock()
    clients: dict[str, Endpoints] = {}

    def endpoints() -> Endpoints:
        if "sm" not in clients:
            clients["sm"] = Endpoints(sagemaker_client or default_client())
        return clients["sm"]

    def handle(event: dict[str, Any], context: Any) -> str | None:
        return _handle(resource, event, context, endpoints(), time)

    for register in (resource.create, resource.update, resource.delete, resource.poll_create,
                     resource.poll_update, resource.poll_delete):
        register(handle)
    return resource


def _handle(
    resource: RolloutResource, event: dict[str, Any], context: Any, endpoints: Endpoints,
    clock: Clock,
) -> str | None:
    kind = event["RequestType"]
    first = "CrHelperPoll" not in event
    physical_id = _physical_id_on_failure(event)
    properties = event.get("ResourceProperties", {})
    if kind == "Delete" and _nothing_to_delete(event, properties):
        resource.finished = True
        return physical_id
    try:
        request = parse_request(properties)
    except PropertyError as error:
        if kind != "Delete":
            resource.PhysicalResourceId = physical_id
            raise RolloutFailure(
                f"{event['LogicalResourceId']}: invalid properties, nothing was changed. {error}"
            ) from None
        # A Delete needs only the physical id: properties that never deployed (a Create that
        # failed on them) must not make the stack's rollback fail.
        request = _minimal_request(physical_id)

    now = clock.now()
    if first:
        resource.state = _initial_state(event, request, now)
    state = resource.state
    plan = _plan(event, request, state)
    progress = Progress(**state["progress"])
    if first:
        # Refuse, before any SageMaker call, a request too large to be waited for.
        resource.check_poll_input(state)
    lambda_end = now + context.get_remaining_time_in_millis() / 1000 - LAMBDA_RESERVE
    outcome = run(plan, progress, endpoints, clock, check_config=first, first=first,
                  budget_end=min(_next_firing(state, now) - FIRING_MARGIN, lambda_end))
    if isinstance(outcome, Pending) and first:
        # Waiting is needed: start polling now, then keep watching until just before its first
        # firing, so the first minute is not spent unwatched.
        resource.state = dict(_carry(state, outcome), rule_created=clock.now())
        resource.start_polling()
        state = resource.state
        outcome = run(plan, outcome.progress, endpoints, clock, check_config=False,
                      resume_at=outcome.next_check_at,
                      budget_end=min(_next_firing(state, clock.now()) - FIRING_MARGIN,
                                     lambda_end))

    if isinstance(outcome, Pending):
        resource.state = _carry(state, outcome)
        logger.info({"message": "still waiting", "endpoint": plan.goal.endpoint_name,
                     "why": outcome.why})
        return None
    if isinstance(outcome, Failed):
        # A Create that made an endpoint answers with its name, so that CloudFormation's Delete
        # removes it; one that made nothing (or adopted an endpoint) answers with the marker.
        made_it = kind == "Create" and outcome.progress.created
        resource.PhysicalResourceId = state["target_id"] if made_it else physical_id
        raise RolloutFailure(outcome.reason)
    assert isinstance(outcome, Done)
    if kind == "Update" and not state.get("creates") and state.get("old_tags") != request.tags:
        endpoints.sync_tags(outcome.attributes["EndpointArn"], state.get("old_tags") or {},
                            request.tags)
    resource.Data.update(outcome.attributes)
    resource.finished = True
    return str(state["target_id"])


def _carry(state: dict[str, Any], outcome: Pending) -> dict[str, Any]:
    """The poll state after this invocation: what was done travels to the next poll."""
    phase = outcome.progress.last_phase
    progress = replace(outcome.progress, last_phase=phase[:PHASE_LIMIT] if phase else None)
    return dict(state, progress=asdict(progress))


def _next_firing(state: dict[str, Any], now: float) -> float:
    """When the polling rule fires next; `now` when there is no rule yet (look once)."""
    created = state.get("rule_created")
    if created is None:
        return now + FIRING_MARGIN
    return float(created) + POLL_INTERVAL * (math.floor((now - float(created)) / POLL_INTERVAL) + 1)


def _initial_state(event: dict[str, Any], request: RolloutRequest, now: float) -> dict[str, Any]:
    kind = event["RequestType"]
    physical_id = str(event.get("PhysicalResourceId", ""))
    # SageMaker's names are case-insensitive: a change of case only is the same endpoint, and
    # keeps its physical id (a new one would make CloudFormation delete the endpoint in cleanup).
    renamed = kind == "Update" and request.endpoint_name.lower() != physical_id.lower()
    target = physical_id if kind == "Delete" or (kind == "Update" and not renamed) else (
        request.endpoint_name)
    creates = not request.adopt_existing and (kind == "Create" or renamed)
    old_tags: dict[str, str] = {}
    if kind == "Update":
        old = event.get("OldResourceProperties", {}).get("Tags") or []
        old_tags = {str(tag.get("Key")): str(tag.get("Value", "")) for tag in old}
    return {
        "target_id": target,
        "creates": creates,
        "deadline": now + request.service_timeout - RESPONSE_MARGIN,
        "progress": asdict(Progress()),
        "old_tags": old_tags,
    }


def _plan(event: dict[str, Any], request: RolloutRequest, state: dict[str, Any]) -> Plan:
    deleting = event["RequestType"] == "Delete"
    goal = Goal(
        endpoint_name=str(state["target_id"]),
        config_name=None if deleting else request.endpoint_config_name,
        creates=bool(state["creates"]) and not deleting,
        alarm_names=request.alarm_names,
    )
    deployment = request.update_params.get("DeploymentConfig")
    return Plan(
        goal=goal,
        create_params=request.create_params,
        update_params=request.update_params,
        bakes=bake_lengths(deployment),
        deadline=float(state["deadline"]),
        request_id=str(event.get("RequestId", "")),
        owner=owner_of(event),
    )


def owner_of(event: dict[str, Any]) -> str:
    """Which resource this is: a hash of the stack id and the logical id (tag-sized)."""
    key = f"{event.get('StackId', '')}/{event.get('LogicalResourceId', '')}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _physical_id_on_failure(event: dict[str, Any]) -> str:
    """Failed Update/Delete keep the physical id; a failed Create that made nothing gets a
    marker, so the Delete CloudFormation sends next leaves any same-named endpoint alone."""
    if event["RequestType"] == "Create":
        name = str(event.get("ResourceProperties", {}).get("EndpointName", ""))
        return not_created_id(name or event["LogicalResourceId"])
    return str(event["PhysicalResourceId"])


def _nothing_to_delete(event: dict[str, Any], properties: dict[str, Any]) -> bool:
    physical_id = str(event.get("PhysicalResourceId", ""))
    if not _ENDPOINT_NAME.fullmatch(physical_id):
        logger.info({"message": "physical id is no endpoint name; nothing was created",
                     "physical_id": physical_id})
        return True
    if properties.get("RemovalPolicy") == "Retain":
        logger.info({"message": "removal policy Retain: the endpoint is kept",
                     "endpoint": physical_id})
        return True
    return False


def _minimal_request(endpoint_name: str) -> RolloutRequest:
    params = {"EndpointName": endpoint_name, "EndpointConfigName": "unused"}
    return RolloutRequest(endpoint_name=endpoint_name, endpoint_config_name="unused",
                          update_params=params, create_params=params)


_default: RolloutResource | None = None


def handler(event: dict[str, Any], context: Any) -> None:
    """Lambda entry point."""
    global _default
    if _default is None:
        _default = build_resource()
    _default(event, context)
