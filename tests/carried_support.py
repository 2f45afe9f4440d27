"""The largest wake the handler can write besides the request's properties: its ids at
CloudFormation's and Lambda's longest, a real ResponseURL's length, the typed wait state with every
field at its longest (tests/test_carried_size.py, tests/test_construct_carried_properties.py)."""

from __future__ import annotations

from dataclasses import fields
from typing import Any

from sagemaker_rollout_handler.contract import ENDPOINT_NAME_MAX_LENGTH, RESPONSE_URL_LENGTH
from sagemaker_rollout_handler.decisions import Observation, Phase, Progress
from sagemaker_rollout_handler.state import PHASE_LIMIT, WaitState, fingerprint

#: A moment with every digit a float's repr shows (epoch seconds, 2026).
MOMENT = 1_790_000_000.123456


def largest_state() -> WaitState:
    """The wait state with every field at its longest: the name at SageMaker's 63, the phase at
    the state's cut, the fingerprint of a read with many long phases (cut too)."""
    many = tuple(Phase("v" * 63, "ActivatingTraffic", "m" * 1024, MOMENT) for _ in range(10))
    observed = Observation("UpdateRollbackFailed", "c" * 63, pending_config_name="p" * 63,
                           phases=many)
    progress = Progress(**{f.name: True for f in fields(Progress) if f.type == "bool"},
                        last_phase="x" * (PHASE_LIMIT * 4), issued_at=MOMENT)
    state = WaitState(target_id="e" * ENDPOINT_NAME_MAX_LENGTH, creates=True, deadline=MOMENT,
                      progress=progress, started=MOMENT, degraded=True, watch_until=MOMENT,
                      events_seen=999_999).seen(observed, MOMENT)
    assert len(state.last_seen) == len(fingerprint(observed)) <= 400
    return state


def largest_request(properties: dict[str, Any]) -> dict[str, Any]:
    """An Update whose ids are at CloudFormation's and Lambda's longest."""
    arn = "arn:aws-us-gov:{}:us-gov-west-1:123456789012:"
    return {
        "RequestType": "Update",
        "ServiceToken": (arn.format("lambda") + "function:" + "f" * 140)[:140],
        "ResponseURL": "https://" + "u" * (RESPONSE_URL_LENGTH - len("https://")),
        "StackId": arn.format("cloudformation") + "stack/" + "s" * 128 + "/" + "0" * 36,
        "RequestId": "0" * 36,
        "LogicalResourceId": "L" * 255,
        "ResourceType": "Custom::SageMakerEndpointRollout",
        "PhysicalResourceId": "e" * ENDPOINT_NAME_MAX_LENGTH,
        "ResourceProperties": properties,
        "OldResourceProperties": properties,
    }
