"""The response body always fits CloudFormation's 4096 bytes and keeps what a person needs."""

from __future__ import annotations

import json

from sagemaker_rollout_handler.resource import RESPONSE_LIMIT, _fit, not_created_id


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
