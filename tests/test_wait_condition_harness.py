"""The harness's WaitCondition (tests/cfn_harness/wait_condition.py) behaves as CloudFormation's
does for the handler: over HTTPS, first signal wins, retransmissions ignored, Timeout from the
condition's creation, nothing counts after the handle was deleted, an empty Content-Type required.
"""

from __future__ import annotations

import json
import ssl
from http.client import HTTPException, HTTPSConnection
from urllib.parse import urlsplit

import pytest
from cfn_harness import Harness
from cfn_harness.wait_condition import WaitConditions
from sagemaker_emulator import VirtualClock

STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/s/guid"


@pytest.fixture
def conditions(harness: Harness, clock: VirtualClock) -> WaitConditions:
    return WaitConditions(harness.responses, clock)


def put(url: str, body: dict[str, str], content_type: str = "") -> int | None:
    """One signal PUT as the handler sends it; None when the connection failed."""
    parts = urlsplit(url)
    connection = HTTPSConnection(parts.netloc, context=ssl.create_default_context(), timeout=10)
    try:
        data = json.dumps(body).encode()
        connection.request("PUT", f"{parts.path}?{parts.query}", body=data,
                           headers={"Content-Type": content_type})
        return connection.getresponse().status
    except (OSError, HTTPException):
        return None
    finally:
        connection.close()


def signal(status: str, unique_id: str = "request-1", reason: str = "") -> dict[str, str]:
    return {"Status": status, "UniqueId": unique_id, "Data": "", "Reason": reason}


def test_the_first_signal_decides_and_a_retransmission_is_ignored(
    conditions: WaitConditions, clock: VirtualClock
) -> None:
    condition = conditions.create_handle(STACK, "Handle1", timeout=600)
    conditions.create_condition(condition)
    assert condition.outcome(clock.now()) == "WAITING"
    assert put(condition.url, signal("SUCCESS")) == 200
    assert put(condition.url, signal("SUCCESS")) == 200
    assert put(condition.url, signal("FAILURE", "request-2", "late")) == 200
    assert condition.outcome(clock.now()) == "SUCCESS"
    assert [s.unique_id for s in condition.signals()] == ["request-1", "request-2"]


def test_a_failure_signal_fails_the_condition_with_its_reason(
    conditions: WaitConditions, clock: VirtualClock
) -> None:
    condition = conditions.create_handle(STACK, "Handle1", timeout=600)
    conditions.create_condition(condition)
    assert put(condition.url, signal("FAILURE", reason="rolled back")) == 200
    assert condition.outcome(clock.now()) == "FAILURE"
    assert condition.signals()[0].reason == "rolled back"


def test_the_timeout_starts_when_the_condition_is_created(
    conditions: WaitConditions, clock: VirtualClock
) -> None:
    condition = conditions.create_handle(STACK, "Handle1", timeout=600)
    clock.advance(1000)  # the handle alone never times out
    assert condition.outcome(clock.now()) == "WAITING"
    conditions.create_condition(condition)
    clock.advance(599)
    assert condition.outcome(clock.now()) == "WAITING"
    clock.advance(1)
    assert condition.outcome(clock.now()) == "TIMEOUT"


def test_a_signal_before_the_condition_exists_counts(
    conditions: WaitConditions, clock: VirtualClock
) -> None:
    condition = conditions.create_handle(STACK, "Handle1", timeout=600)
    assert put(condition.url, signal("SUCCESS")) == 200
    conditions.create_condition(condition)
    assert condition.outcome(clock.now()) == "SUCCESS"


def test_a_recreated_handle_has_a_new_url_and_no_old_signal(
    conditions: WaitConditions, clock: VirtualClock
) -> None:
    first = conditions.create_handle(STACK, "Handle1", timeout=600)
    put(first.url, signal("FAILURE"))
    conditions.delete(first)
    again = conditions.create_handle(STACK, "Handle1", timeout=600)
    assert again.url != first.url
    assert again.signals() == []
    clock.advance(1)
    put(first.url, signal("SUCCESS", "request-2"))  # after the clean-up: seen by no one
    assert [s.status for s in first.signals()] == ["FAILURE"]


def test_a_content_type_is_refused_as_s3_refuses_the_signature(
    conditions: WaitConditions, clock: VirtualClock
) -> None:
    condition = conditions.create_handle(STACK, "Handle1", timeout=600)
    put(condition.url, signal("SUCCESS"), content_type="application/json")
    assert condition.outcome(clock.now()) == "WAITING"
