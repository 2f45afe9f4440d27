"""The largest wake the handler can write besides the request's properties: its ids at
CloudFormation's and Lambda's longest, a real ResponseURL's length, the typed wait state with every
field at its longest (tests/test_carried_size.py, tests/test_construct_carried_properties.py)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sagemaker_rollout_handler.contract import (
    ENDPOINT_NAME_MAX_LENGTH,
    MAX_LOGICAL_ID_LENGTH,
    MAX_STACK_NAME_LENGTH,
    RESPONSE_URL_LENGTH,
)
from sagemaker_rollout_handler.decisions import Observation, Phase, Progress
from sagemaker_rollout_handler.recreation import REASON_LIMIT
from sagemaker_rollout_handler.state import PHASE_LIMIT, WaitState, fingerprint

#: A moment with every digit a float's repr shows (epoch seconds, 2026).
MOMENT = 1_790_000_000.123456


#: The longest value of each text field of the state and its progress: a field added to either
#: must be given here (``largest_state`` refuses to guess), so that the reserve stays measured.
LONGEST_TEXT = {
    "target_id": "e" * ENDPOINT_NAME_MAX_LENGTH,  # an endpoint name
    "stray": "s" * ENDPOINT_NAME_MAX_LENGTH,  # an endpoint name
    "last_phase": "x" * (PHASE_LIMIT * 4),  # cut to PHASE_LIMIT by to_json
    "was_failed": "f" * REASON_LIMIT,  # SageMaker's FailureReason, cut by recreation
    "handoff": "rollback",  # "", "forward" or "rollback"
    # The WaitCondition handle's URL: the handler moves it from the properties into the state,
    # and the construct counts it among the properties (carried_properties.TOKEN_LENGTHS).
    "handle": "",
    "retire": "r" * ENDPOINT_NAME_MAX_LENGTH,  # an EndpointConfig name
}


def _largest(kind: type, given: dict[str, Any]) -> dict[str, Any]:
    """Every field of the dataclass ``kind`` not in ``given``, at its longest."""
    values = dict(given)
    for f in fields(kind):
        if f.name in values or f.name == "version":
            continue
        if f.type in ("bool", "bool | None"):
            values[f.name] = True
        elif f.type in ("float", "float | None"):
            values[f.name] = MOMENT
        elif f.type == "int":
            values[f.name] = 999_999
        else:
            assert f.name in LONGEST_TEXT, (
                f"{kind.__name__}.{f.name} ({f.type}): give its longest value in LONGEST_TEXT")
            values[f.name] = LONGEST_TEXT[f.name]
    return values


def largest_state() -> WaitState:
    """The wait state with every field at its longest (``LONGEST_TEXT``; the fingerprint of a
    read with many long phases, cut by ``fingerprint``)."""
    many = tuple(Phase("v" * 63, "ActivatingTraffic", "m" * 1024, MOMENT) for _ in range(10))
    observed = Observation("UpdateRollbackFailed", "c" * 63, pending_config_name="p" * 63,
                           phases=many)
    progress = Progress(**_largest(Progress, {}))
    state = WaitState(**_largest(WaitState, {"progress": progress, "last_seen": ""}))
    state = state.seen(observed, MOMENT)
    assert len(state.last_seen) == len(fingerprint(observed)) <= 400
    return state


def largest_request(properties: dict[str, Any], *, stack_name: str = "s" * MAX_STACK_NAME_LENGTH,
                    logical_id: str = "L" * MAX_LOGICAL_ID_LENGTH) -> dict[str, Any]:
    """An Update whose ids are at CloudFormation's and Lambda's longest (but for the stack name
    and logical id, when given)."""
    arn = "arn:aws-us-gov:{}:us-gov-west-1:123456789012:"
    return {
        "RequestType": "Update",
        "ServiceToken": (arn.format("lambda") + "function:" + "f" * 140)[:140],
        "ResponseURL": "https://" + "u" * (RESPONSE_URL_LENGTH - len("https://")),
        "StackId": arn.format("cloudformation") + "stack/" + stack_name + "/" + "0" * 36,
        "RequestId": "0" * 36,
        "LogicalResourceId": logical_id,
        "ResourceType": "Custom::SageMakerEndpointRollout",
        "PhysicalResourceId": "e" * ENDPOINT_NAME_MAX_LENGTH,
        "ResourceProperties": properties,
        "OldResourceProperties": properties,
    }
