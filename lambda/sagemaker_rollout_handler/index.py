"""The Lambda entry point: crhelper wiring for Custom::SageMakerEndpointRollout.

Each request type becomes a `Plan` (where the endpoint should end up, and by when); the same
function serves the first invocation and every poll, so a poll is simply "carry on". What to do
next is decided in `decisions`, when to look again in `schedule`, the calls are in `sagemaker`.

Time budget of one invocation: it waits in-process at most `IN_PROCESS_WAIT` seconds, which ends
well before crhelper's polling rule fires again (every minute) and long before the Lambda timeout
(and crhelper's timer 0.5 s before it). Over the whole request it gives up `RESPONSE_MARGIN`
seconds before CloudFormation's ServiceTimeout, so CloudFormation always gets an answer.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any

from .clock import Clock, SystemClock
from .decisions import Goal, Progress
from .properties import PropertyError, RolloutRequest, parse_request
from .resource import RolloutResource, not_created_id
from .rollout import Done, Failed, Pending, Plan, run
from .sagemaker import Endpoints, default_client
from .schedule import bake_lengths

logger = logging.getLogger(__name__)

#: Seconds an invocation may spend waiting in-process. crhelper's rule fires every 60 s: ending
#: before 50 s leaves room for the last DescribeEndpoint and the response, so polls never overlap.
IN_PROCESS_WAIT = 40.0
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
    progress = Progress(issued=bool(state.get("issued")), created=bool(state.get("created")),
                        previous_config=state.get("previous"))
    budget_end = min(now + IN_PROCESS_WAIT,
                     now + context.get_remaining_time_in_millis() / 1000 - LAMBDA_RESERVE)
    outcome = run(plan, progress, endpoints, clock, budget_end=budget_end, check_config=first)

    if isinstance(outcome, Pending):
        resource.state = dict(state, issued=outcome.progress.issued,
                              created=outcome.progress.created,
                              previous=outcome.progress.previous_config)
        logger.info({"message": "still waiting", "endpoint": plan.goal.endpoint_name,
                     "why": outcome.why})
        return str(state["target_id"]) if first else None
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


def _initial_state(event: dict[str, Any], request: RolloutRequest, now: float) -> dict[str, Any]:
    kind = event["RequestType"]
    target = str(event["PhysicalResourceId"]) if kind == "Delete" else request.endpoint_name
    creates = not request.adopt_existing and (
        kind == "Create"
        or (kind == "Update" and request.endpoint_name != event.get("PhysicalResourceId"))
    )
    old_tags: dict[str, str] = {}
    if kind == "Update":
        old = event.get("OldResourceProperties", {}).get("Tags") or []
        old_tags = {str(tag.get("Key")): str(tag.get("Value", "")) for tag in old}
    return {
        "target_id": target,
        "creates": creates,
        "deadline": now + request.service_timeout - RESPONSE_MARGIN,
        "issued": False,
        "created": False,
        "previous": None,
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
    )


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
