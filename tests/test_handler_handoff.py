"""The WaitCondition mode's pure decisions (lambda/sagemaker_rollout_handler/handoff.py): which
requests hand off and how, when CloudFormation is answered, the signal, what may be deleted."""

from __future__ import annotations

from typing import Any

import pytest
from sagemaker_rollout_handler import handoff
from sagemaker_rollout_handler.decisions import Observation, Progress
from sagemaker_rollout_handler.properties import PropertyError, parse_request
from sagemaker_rollout_handler.rollout import Done, Failed, Pending
from sagemaker_rollout_handler.state import WaitState, carried_request

H0, H1 = "https://s3.example/handle-0?X-Amz-Signature=0", "https://s3.example/handle-1?sig=1"
CREATED = {"a": 100.0, "b": 200.0}


def event(kind: str, config: str, handle: str | None, old: tuple[str, str | None] | None = None
          ) -> dict[str, Any]:
    properties: dict[str, Any] = {"EndpointName": "ep", "EndpointConfigName": config}
    if handle:
        properties["WaitHandle"] = handle
    request: dict[str, Any] = {"RequestType": kind, "ResourceProperties": properties,
                               "RequestId": "r", "ResponseURL": "https://x"}
    if old is not None:
        request["OldResourceProperties"] = {"EndpointName": "ep", "EndpointConfigName": old[0],
                                            **({"WaitHandle": old[1]} if old[1] else {})}
    return request


def kind_of(request: dict[str, Any]) -> str:
    return handoff.kind(request, parse_request(request["ResourceProperties"]), CREATED.get)


def test_a_create_with_a_handle_hands_off_forward() -> None:
    assert kind_of(event("Create", "a", H0)) == handoff.FORWARD


def test_an_update_with_a_new_handle_hands_off_forward() -> None:
    assert kind_of(event("Update", "b", H1, old=("a", H0))) == handoff.FORWARD


def test_an_update_back_to_an_older_config_is_a_rollback() -> None:
    assert kind_of(event("Update", "a", H0, old=("b", H1))) == handoff.ROLLBACK


def test_a_rollback_to_the_custom_resource_mode_is_a_rollback_too() -> None:
    assert kind_of(event("Update", "a", None, old=("b", H1))) == handoff.ROLLBACK


def test_an_update_keeping_its_handle_waits_in_the_custom_resource() -> None:
    assert kind_of(event("Update", "b", H1, old=("b", H1))) == ""


def test_a_delete_never_hands_off() -> None:
    assert kind_of(event("Delete", "a", H0)) == ""


def test_a_change_of_config_under_the_same_handle_is_refused_naming_the_fix() -> None:
    request = event("Update", "b", H1, old=("a", H1))
    refusal = handoff.same_handle_refusal(request, parse_request(request["ResourceProperties"]))
    assert refusal is not None and '"b"' in refusal and "rename the model" in refusal
    assert H1 not in refusal


def test_the_handle_must_be_an_https_url() -> None:
    with pytest.raises(PropertyError, match="WaitHandle"):
        parse_request({"EndpointName": "ep", "EndpointConfigName": "a", "WaitHandle": "x"})


def test_the_carried_request_holds_the_handle_only_in_the_state() -> None:
    assert "WaitHandle" not in carried_request(event("Create", "a", H0))["ResourceProperties"]


STATE = WaitState(target_id="ep", creates=False, deadline=0.0)
UPDATING = Observation(status="Updating", config_name="a", pending_config_name="b")


def test_a_forward_wait_answers_once_sagemaker_accepted() -> None:
    forward = WaitState(target_id="ep", creates=False, deadline=0.0, handoff=handoff.FORWARD)
    assert handoff.answers_now(forward, Pending(Progress(issued=True), "", UPDATING))
    assert not handoff.answers_now(forward, Pending(Progress(), "busy", UPDATING))
    assert not handoff.answers_now(forward, Failed("refused"))


def test_a_rollback_answers_at_once_while_the_endpoint_is_busy() -> None:
    rollback = WaitState(target_id="ep", creates=False, deadline=0.0, handoff=handoff.ROLLBACK)
    assert handoff.answers_now(rollback, Pending(Progress(), "busy", UPDATING))
    assert not handoff.answers_now(rollback, Done({}))  # answered by the custom resource


def test_the_custom_resource_mode_never_answers_early() -> None:
    assert not handoff.answers_now(STATE, Pending(Progress(issued=True), "", UPDATING))


def test_a_failure_signal_carries_the_engines_reason() -> None:
    body = handoff.signal_body(Failed('Endpoint "ep": SageMaker rolled back'), "r", "b")
    assert body == {"Status": "FAILURE", "UniqueId": "r", "Data": "",
                    "Reason": 'Endpoint "ep": SageMaker rolled back'}


def test_a_signal_fits_in_4_kb() -> None:
    body = handoff.signal_body(Failed("x" * 10_000), "r", "b")
    assert len(str(body["Reason"]).encode()) < 4096


def test_a_retained_config_goes_only_when_the_endpoint_serves_another_and_deploys_nothing(
) -> None:
    state = WaitState(target_id="ep", creates=False, deadline=0.0, retire="b")
    assert handoff.retirable(state, Observation(status="InService", config_name="a"))
    assert not handoff.retirable(state, Observation(status="InService", config_name="b"))
    assert not handoff.retirable(state, UPDATING)
    assert not handoff.retirable(state, None)
