"""What a wake carries (contract.py): the request's properties the construct accepts
(``CARRIED_PROPERTIES_LIMIT``, rule ``properties-fit-wait``), a real ResponseURL's length and, at
its largest, the rest (``CARRIED_REQUEST_RESERVE``) fit the wake's Input limit, as the handler
itself writes the payload (``state.carried_request``, ``state.wake_payload``)."""

from __future__ import annotations

from typing import Any

from carried_support import largest_request, largest_state
from sagemaker_rollout_handler.contract import (
    CARRIED_PROPERTIES_LIMIT,
    CARRIED_REQUEST_RESERVE,
    RESPONSE_URL_LENGTH,
    WAKE_INPUT_LIMIT,
    carried_properties_limit,
    carried_size,
)
from sagemaker_rollout_handler.state import carried_request, wake_payload


def properties_of_size(size: int) -> dict[str, Any]:
    """ResourceProperties whose ``carried_size`` is exactly ``size`` (no Tags: a wake that carries
    them, as a recreation does, carries them in this size)."""
    properties: dict[str, Any] = {"EndpointName": "e" * 63, "Filler": ""}
    properties["Filler"] = "f" * (size - carried_size(properties))
    assert carried_size(properties) == size
    return properties


def test_properties_at_the_limit_fit_a_wake_with_the_largest_request_and_state() -> None:
    request = carried_request(largest_request(properties_of_size(CARRIED_PROPERTIES_LIMIT)))
    payload = wake_payload(largest_state(), request)
    assert len(payload) <= WAKE_INPUT_LIMIT


def test_a_stack_with_shorter_names_may_carry_that_much_more() -> None:
    names = {"stack_name": "prod", "logical_id": "ScoringEndpointRolloutA1B2C3D4"}
    limit = carried_properties_limit(stack_name_length=len(names["stack_name"]),
                                     logical_id_length=len(names["logical_id"]))
    assert limit > CARRIED_PROPERTIES_LIMIT
    request = carried_request(largest_request(properties_of_size(limit), **names))
    assert len(wake_payload(largest_state(), request)) <= WAKE_INPUT_LIMIT


def test_the_reserve_is_what_the_largest_request_and_state_take_with_little_to_spare() -> None:
    """The reserve is measured, not guessed: at most 256 characters above what the handler's
    largest payload takes besides the properties and the ResponseURL."""
    request = carried_request(largest_request({}))
    rest = len(wake_payload(largest_state(), request)) - RESPONSE_URL_LENGTH - carried_size({})
    assert rest <= CARRIED_REQUEST_RESERVE <= rest + 256


def test_carried_size_is_the_size_in_the_payload() -> None:
    """Non-ASCII characters are escaped in the payload (``\\u00e9``): the size counts them so."""
    properties = {"Tags": [{"Key": "équipe", "Value": "données"}]}
    bare = len(wake_payload(largest_state(), carried_request(largest_request({}))))
    full = len(wake_payload(largest_state(), {**carried_request(largest_request({})),
                                               "ResourceProperties": properties}))
    assert full - bare == carried_size(properties) - carried_size({})
    escaped = '{"Tags":[{"Key":"\\u00e9quipe","Value":"donn\\u00e9es"}]}'
    assert carried_size(properties) == len(escaped)
