"""The response body always fits CloudFormation's 4096 bytes and keeps what a person needs."""

from __future__ import annotations

import json
from unittest import mock

import pytest
from botocore.exceptions import ClientError
from cfn_harness.sleeps import preserved_logging
from sagemaker_rollout_handler.resource import (
    RESPONSE_LIMIT,
    RolloutResource,
    _fit,
    not_created_id,
)


def test_a_long_reason_is_cut_in_the_middle_keeping_the_endpoint_name_and_the_advice() -> None:
    reason = 'Endpoint "ep-1": ' + "x" * 9000 + " deploy again."
    body = {"Status": "FAILED", "Reason": reason, "Data": {"a": "b"}, "PhysicalResourceId": "ep"}
    _fit(body)
    assert len(json.dumps(body).encode()) <= RESPONSE_LIMIT
    assert body["Reason"].startswith('Endpoint "ep-1": ')
    assert body["Reason"].endswith("deploy again.")


def test_a_short_reason_is_untouched() -> None:
    body = {"Status": "FAILED", "Reason": "short", "Data": {}, "PhysicalResourceId": "ep"}
    _fit(body)
    assert body["Reason"] == "short"


def test_the_not_created_marker_can_never_be_an_endpoint_name() -> None:
    assert ":" in not_created_id("ep")


def test_the_handler_gives_up_exactly_where_the_construct_time_budget_expects() -> None:
    from sagemaker_rollout.time_budget import HANDLER_RESPONSE_MARGIN_SECONDS
    from sagemaker_rollout_handler.index import RESPONSE_MARGIN

    assert RESPONSE_MARGIN == HANDLER_RESPONSE_MARGIN_SECONDS


def _finished_poll(lambda_client: object, monkeypatch: pytest.MonkeyPatch) -> RolloutResource:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    with preserved_logging():  # crhelper sets up JSON logging on the root logger
        resource = RolloutResource(events_client=mock.MagicMock(), lambda_client=lambda_client)
    resource._event = {"CrHelperPoll": True, "CrHelperPermission": "Statement1",
                       "CrHelperRule": "arn:aws:events:us-east-1:1:rule/sagemaker-rollout-x"}
    resource._context = mock.MagicMock(function_name="provider")
    resource.PhysicalResourceId = "ep"
    resource.Status = "SUCCESS"
    resource._polling_init(resource._event)
    return resource


def test_of_two_polls_finishing_at_once_only_the_one_that_removed_the_permission_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    gone = ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "no"}},
                       "RemovePermission")
    loser = _finished_poll(mock.MagicMock(remove_permission=mock.MagicMock(side_effect=gone)),
                           monkeypatch)
    winner = _finished_poll(mock.MagicMock(), monkeypatch)
    assert loser._send_response is False
    assert winner._send_response is True
