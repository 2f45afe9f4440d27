"""What CloudFormation's request says for its wait: the state it starts with, the plan of each
look (`rollout.Plan`), which resource it is, and its physical id when it fails."""

from __future__ import annotations

import logging
from typing import Any

from .decisions import Goal
from .properties import RolloutRequest
from .resource import not_created_id
from .rollout import Plan
from .state import WaitState

__all__ = [
    "initial_state",
    "make_plan",
    "minimal_request",
    "nothing_to_delete",
    "owner_of",
    "physical_id_on_failure",
    "stray_of",
]

logger = logging.getLogger(__name__)


def initial_state(event: dict[str, Any], request: RolloutRequest, now: float,
                  response_margin: float) -> WaitState:
    kind = event["RequestType"]
    physical_id = str(event.get("PhysicalResourceId", ""))
    # SageMaker's names are case-insensitive: a change of case only is the same endpoint, and
    # keeps its physical id (a new one would make CloudFormation delete the endpoint in cleanup).
    renamed = kind == "Update" and request.endpoint_name.lower() != physical_id.lower()
    target = physical_id if kind == "Delete" or (kind == "Update" and not renamed) else (
        request.endpoint_name)
    creates = not request.adopt_existing and (kind == "Create" or renamed)
    return WaitState(target_id=target, creates=creates,
                     deadline=now + request.service_timeout - response_margin, started=now,
                     stray=stray_of(event, target))


def stray_of(event: dict[str, Any], target: str) -> str:
    """The endpoint a failed rename may have left (issue 17.4): an Update whose
    OldResourceProperties name an endpoint that is neither its physical id nor its target is the
    stack's rollback of a rename CloudFormation never recorded (a successful rename's rollback
    carries the new name as its physical id)."""
    if event["RequestType"] != "Update":
        return ""
    old = str(event.get("OldResourceProperties", {}).get("EndpointName", ""))
    known = {str(event.get("PhysicalResourceId", "")).lower(), target.lower()}
    return old if old and old.lower() not in known else ""


def make_plan(event: dict[str, Any], request: RolloutRequest, state: WaitState, *,
              recreate: bool = False) -> Plan:
    deleting = event["RequestType"] == "Delete"
    goal = Goal(
        endpoint_name=state.target_id,
        config_name=None if deleting else request.endpoint_config_name,
        creates=state.creates and not deleting,
        alarm_names=request.alarm_names,
        recreate_failed=recreate and not deleting,
    )
    update = dict(request.update_params)
    # Issue 17.9: a change of case only describes and updates the endpoint by its own name.
    update["EndpointName"] = state.target_id
    renamed = event["RequestType"] == "Update" and state.creates
    return Plan(goal=goal, create_params=request.create_params, update_params=update,
                deadline=state.deadline, request_id=str(event.get("RequestId", "")),
                owner=owner_of(event), started=state.started,
                stack_id=str(event.get("StackId", "")), discard_on_failure=renamed,
                stray=state.stray)


def owner_of(event: dict[str, Any]) -> str:
    """Which resource this is: a hash of the stack id and the logical id (tag-sized)."""
    import hashlib

    key = f"{event.get('StackId', '')}/{event.get('LogicalResourceId', '')}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def physical_id_on_failure(event: dict[str, Any]) -> str:
    """Failed Update/Delete keep the physical id; a failed Create that made nothing gets a
    marker, so the Delete CloudFormation sends next leaves any same-named endpoint alone."""
    if event["RequestType"] == "Create":
        name = str(event.get("ResourceProperties", {}).get("EndpointName", ""))
        return not_created_id(name or event["LogicalResourceId"])
    return str(event["PhysicalResourceId"])


def nothing_to_delete(event: dict[str, Any], properties: dict[str, Any]) -> bool:
    from .contract import ENDPOINT_NAME_PATTERN

    physical_id = str(event.get("PhysicalResourceId", ""))
    if not ENDPOINT_NAME_PATTERN.fullmatch(physical_id):
        logger.info({"message": "physical id is no endpoint name; nothing was created",
                     "physical_id": physical_id})
        return True
    if properties.get("RemovalPolicy") == "Retain":
        logger.info({"message": "removal policy Retain: the endpoint is kept",
                     "endpoint": physical_id})
        return True
    return False


def minimal_request(endpoint_name: str) -> RolloutRequest:
    params = {"EndpointName": endpoint_name, "EndpointConfigName": "unused"}
    return RolloutRequest(endpoint_name=endpoint_name, endpoint_config_name="unused",
                          update_params=params, create_params=params)
