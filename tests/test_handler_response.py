"""The answer: it fits CloudFormation's 4096 bytes, keeps what a person needs, and gets there."""

from __future__ import annotations

import json
from unittest import mock

from botocore.exceptions import ClientError
from sagemaker_rollout_handler.contract import RESPONSE_MARGIN_SECONDS
from sagemaker_rollout_handler.resource import not_created_id
from sagemaker_rollout_handler.response import RESPONSE_LIMIT, fit
from sagemaker_rollout_handler.wakes import Wakes, WakeTarget

TARGET = WakeTarget("group", "arn:aws:iam::123456789012:role/r", "arn:aws:lambda:::function:f")


def test_a_long_reason_is_cut_keeping_the_endpoint_name() -> None:
    reason = 'Endpoint "ep-1": ' + "x" * 9000 + " deploy again."
    body = {"Status": "FAILED", "Reason": reason, "Data": {"a": "b"}, "PhysicalResourceId": "ep"}
    fit(body)
    assert len(json.dumps(body).encode()) <= RESPONSE_LIMIT
    assert body["Reason"].startswith('Endpoint "ep-1": ')
    assert body["Reason"].endswith("[...]")


def test_a_long_non_ascii_failure_reason_keeps_its_head_and_sagemakers_words() -> None:
    # Issue 17.7: the old _fit measured JSON bytes but cut characters; "é" is 6 bytes of JSON
    # (\u00e9), so the Reason was halved until nothing but " [...] " was left.
    said = "Le conteneur principal n'a pas réussi le contrôle de santé. " * 60
    reason = (f'Endpoint "ep-1": SageMaker rolled back EndpointConfig "cfg-b". '
              f'SageMaker said: "{said}"')
    body = {"Status": "FAILED", "Reason": reason, "Data": {}, "PhysicalResourceId": "ep-1"}
    fit(body)
    assert len(json.dumps(body).encode()) <= RESPONSE_LIMIT
    assert body["Reason"].startswith('Endpoint "ep-1": SageMaker rolled back EndpointConfig')
    assert "réussi le contrôle" in body["Reason"]
    assert len(body["Reason"]) > 400


def test_a_short_reason_is_untouched() -> None:
    body = {"Status": "FAILED", "Reason": "short", "Data": {}, "PhysicalResourceId": "ep"}
    fit(body)
    assert body["Reason"] == "short"


def test_the_not_created_marker_can_never_be_an_endpoint_name() -> None:
    assert ":" in not_created_id("ep")


def test_the_handler_gives_up_exactly_where_the_construct_time_budget_expects() -> None:
    from sagemaker_rollout.time_budget import HANDLER_RESPONSE_MARGIN_SECONDS

    assert RESPONSE_MARGIN_SECONDS == HANDLER_RESPONSE_MARGIN_SECONDS


def test_of_two_invocations_finishing_at_once_only_the_one_that_deleted_the_schedule_answers(
) -> None:
    gone = ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no"}},
                       "DeleteSchedule")
    winner = Wakes(mock.MagicMock(), TARGET)
    loser = Wakes(mock.MagicMock(delete_schedule=mock.MagicMock(side_effect=gone)), TARGET)
    assert winner.claim("s") is True
    assert loser.claim("s") is False


def test_a_wake_moved_after_the_answer_does_not_come_back() -> None:
    gone = ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no"}},
                       "UpdateSchedule")
    wakes = Wakes(mock.MagicMock(update_schedule=mock.MagicMock(side_effect=gone)), TARGET)
    assert wakes.rearm("s", 0.0, "{}") is False
