"""The response body always fits CloudFormation's 4096 bytes and keeps what a person needs."""

from __future__ import annotations

import json

from sagemaker_rollout_handler.decisions import Observation, Phase
from sagemaker_rollout_handler.resource import RESPONSE_LIMIT, _fit, not_created_id
from sagemaker_rollout_handler.schedule import bake_lengths, seconds_until_next_check


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


def test_waiting_skips_to_the_end_of_the_shortest_bake_when_every_variant_bakes() -> None:
    bakes = bake_lengths({"BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {"Type": "CANARY", "WaitIntervalInSeconds": 600},
        "TerminationWaitInSeconds": 300}})
    assert bakes == (300, 600)
    observed = Observation(status="Updating", config_name="a", pending_config_name="b",
                           phases=(Phase("AllTraffic", "Baking", "", start_time=1000.0),))
    assert seconds_until_next_check(observed, bakes, now=1010.0) == 290.0


def test_waiting_checks_steadily_when_nothing_predicts_the_next_change() -> None:
    observed = Observation(status="Updating", config_name="a", pending_config_name="b",
                           phases=(Phase("AllTraffic", "Creating", "", start_time=1000.0),))
    assert seconds_until_next_check(observed, (300,), now=1010.0) == 10.0


def test_the_handler_gives_up_exactly_where_the_construct_time_budget_expects() -> None:
    from sagemaker_rollout.time_budget import HANDLER_RESPONSE_MARGIN_SECONDS
    from sagemaker_rollout_handler.index import RESPONSE_MARGIN

    assert RESPONSE_MARGIN == HANDLER_RESPONSE_MARGIN_SECONDS
