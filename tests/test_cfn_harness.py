"""Self-tests of the CloudFormation harness (tests/cfn_harness), with trivial crhelper resources:
the driver must pass a well-behaved provider and catch each way a provider can break the
protocol."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from cfn_harness import (
    CloudFormationStack,
    Harness,
    HarnessViolation,
    LogCapture,
    assert_no_secrets,
    cfn_value,
    preserved_logging,
)
from crhelper import CfnResource
from sagemaker_emulator import VirtualClock

PROPS = {"EndpointName": "ep-1", "EndpointConfigName": "config-a", "Count": 2, "On": True}
Poll = Callable[[dict[str, Any], Any], Any]


def make_resource(
    harness: Harness,
    *,
    create: Poll | None = None,
    poll: Poll | None = None,
    cls: type[CfnResource] = CfnResource,
    **options: Any,
) -> CfnResource:
    """A crhelper resource whose create/update/delete return the EndpointName (or run
    ``create``), with ``poll`` as poll_create/poll_update if given."""
    options = {"json_logging": True, "log_level": "INFO", "polling_interval": 1,
               "sleep_on_delete": 0, **options}
    with preserved_logging():
        resource = cls(**options)
    resource._events_client = harness.events_client  # type: ignore[attr-defined]
    resource._lambda_client = harness.lambda_client  # type: ignore[attr-defined]

    def default(event: dict[str, Any], context: Any) -> Any:
        return event["ResourceProperties"]["EndpointName"]

    resource.create(create or default)
    resource.update(default)
    resource.delete(default)
    if poll is not None:
        resource.poll_create(poll)
        resource.poll_update(poll)
    return resource


def stock_stack(harness: Harness, resource: Any, **options: Any) -> CloudFormationStack:
    """A stack for a stock crhelper resource (its rules are named after the logical id)."""
    return harness.stack(resource, rule_prefix="EndpointRollout3F2A9C1B", **options)


def done_after(clock: VirtualClock, seconds: float) -> Poll:
    """A poll function that finishes once ``seconds`` have passed since the first call."""
    started: list[float] = []

    def poll(event: dict[str, Any], context: Any) -> Any:
        started.append(clock.now())
        if clock.now() - started[0] >= seconds:
            return event["CrHelperData"]["PhysicalResourceId"]
        return None

    return poll


def test_properties_become_strings_like_cloudformation_sends_them() -> None:
    value = {"A": 600, "B": True, "C": False, "D": 1.5, "E": 2.0, "F": "x",
             "G": {"H": [1, {"I": False}]}, "J": None}
    assert cfn_value(value) == {"A": "600", "B": "true", "C": "false", "D": "1.5", "E": "2",
                                "F": "x", "G": {"H": ["1", {"I": "false"}]}}
    with pytest.raises(TypeError):
        cfn_value({"A": object()})


def test_a_resource_without_polling_answers_in_one_invocation(harness: Harness) -> None:
    stack = stock_stack(harness, make_resource(harness))
    response = stack.create(PROPS)
    assert response.status == "SUCCESS"
    assert response.physical_resource_id == "ep-1"
    assert not response.polled
    assert len(response.invocations) == 1
    event = response.event
    assert event["ResourceType"] == "Custom::SageMakerEndpointRollout"
    assert event["ResourceProperties"] == {"EndpointName": "ep-1", "EndpointConfigName":
                                           "config-a", "Count": "2", "On": "true",
                                           "ServiceTimeout": "3600"}
    assert "?X-Amz-Algorithm=AWS4-HMAC-SHA256&" in event["ResponseURL"]
    assert event["ResponseURL"].startswith("https://127.0.0.1:")
    assert response.arrived_at == response.sent_at
    assert response.size == len(response.puts[0].raw) <= 4096

    update = stack.update({**PROPS, "EndpointConfigName": "config-b"})
    assert update.event["PhysicalResourceId"] == "ep-1"
    assert update.event["OldResourceProperties"]["EndpointConfigName"] == "config-a"
    delete = stack.delete()
    assert delete.event["ResourceProperties"]["EndpointConfigName"] == "config-b"
    assert delete.status == "SUCCESS"
    assert stack.physical_id is None


def test_polling_fires_every_minute_from_the_rules_creation(
    harness: Harness, clock: VirtualClock
) -> None:
    stack = stock_stack(harness, make_resource(harness, poll=done_after(clock, 120)))
    response = stack.create(PROPS)
    assert response.status == "SUCCESS", response.reason
    assert response.physical_resource_id == "ep-1"
    assert [i.kind for i in response.invocations] == ["request", "poll", "poll", "poll"]
    (rule,) = response.rules
    assert rule.created_at == response.sent_at
    assert [i.started_at - rule.created_at for i in response.invocations[1:]] == [60, 120, 180]
    assert response.arrived_at == rule.created_at + 180
    assert [c.operation for c in response.api_calls] == [
        "PutRule", "AddPermission", "PutTargets", "RemoveTargets", "RemovePermission",
        "DeleteRule"]


def test_a_poll_overlapping_the_next_firing_is_caught(
    harness: Harness, clock: VirtualClock
) -> None:
    def slow(event: dict[str, Any], context: Any) -> Any:
        clock.sleep(70)
        return None

    stack = stock_stack(harness, make_resource(harness, poll=slow))
    with pytest.raises(HarnessViolation, match="after the polling rule's next firing"):
        stack.create(PROPS)


def test_running_out_of_lambda_time_is_caught(harness: Harness, clock: VirtualClock) -> None:
    def slow(event: dict[str, Any], context: Any) -> Any:
        clock.sleep(context.get_remaining_time_in_millis() / 1000 - 1)
        return "ep-1"

    stack = stock_stack(harness, make_resource(harness, create=slow))
    with pytest.raises(HarnessViolation, match="Lambda time left"):
        stack.create(PROPS)


def test_no_answer_and_no_rule_is_caught(harness: Harness, clock: VirtualClock) -> None:
    class Silent(CfnResource):
        def _polling_init(self, event: Any) -> None:
            return None

    stack = stock_stack(harness, make_resource(harness, poll=done_after(clock, 0), cls=Silent))
    with pytest.raises(HarnessViolation, match="left no polling rule"):
        stack.create(PROPS)


def test_no_answer_by_the_service_timeout_is_caught(
    harness: Harness, clock: VirtualClock
) -> None:
    stack = stock_stack(harness, make_resource(harness, poll=done_after(clock, 10_000)),
                          service_timeout=300)
    with pytest.raises(HarnessViolation, match=r"no answer before StackTime \+ ServiceTimeout"):
        stack.create(PROPS)


def test_two_answers_to_one_request_are_caught(harness: Harness) -> None:
    class Twice(CfnResource):
        def _cfn_response(self, event: Any) -> None:
            super()._cfn_response(event)  # type: ignore[misc]
            super()._cfn_response(event)  # type: ignore[misc]

    stack = stock_stack(harness, make_resource(harness, cls=Twice))
    with pytest.raises(HarnessViolation, match="2 answers to one request"):
        stack.create(PROPS)
    response = stack.create(PROPS, allow_multiple_responses=True)
    assert len(response.puts) == 2


def test_a_late_second_answer_is_caught(harness: Harness, clock: VirtualClock) -> None:
    """Stock crhelper: a poll delivered again after the answer (EventBridge delivers at least
    once) fails to remove the rule already gone and sends FAILED after the SUCCESS."""
    stack = stock_stack(harness, make_resource(harness, poll=done_after(clock, 60)))
    response = stack.create(PROPS)
    assert response.status == "SUCCESS"
    stack.invoke(response.invocations[-1].event, "poll")
    with pytest.raises(HarnessViolation, match=r"2 answers to the Create request .*'FAILED'"):
        stack.check_history()
    harness.stacks.remove(stack)  # so that the fixture's own check passes


def test_a_rule_left_after_the_answer_is_caught(harness: Harness, clock: VirtualClock) -> None:
    class Untidy(CfnResource):
        def _remove_polling(self) -> None:
            return None

    stack = stock_stack(harness, make_resource(harness, poll=done_after(clock, 60), cls=Untidy))
    with pytest.raises(HarnessViolation, match="left in moto: rule"):
        stack.create(PROPS)


def test_an_exception_escaping_the_entry_point_is_caught(harness: Harness) -> None:
    def broken(event: dict[str, Any], context: Any) -> None:
        raise RuntimeError("boom")

    with pytest.raises(HarnessViolation, match="raised out of the Lambda entry point"):
        harness.stack(broken).create(PROPS)


def test_an_oversized_answer_is_caught(harness: Harness) -> None:
    def big(event: dict[str, Any], context: Any) -> Any:
        raise ValueError("x" * 200)

    class Chatty(CfnResource):
        def _cfn_response(self, event: Any) -> None:
            self.Data = {"Blob": "y" * 5000}
            super()._cfn_response(event)  # type: ignore[misc]

    stack = stock_stack(harness, make_resource(harness, create=big, cls=Chatty))
    with pytest.raises(HarnessViolation, match=r"answer of \d+ bytes"):
        stack.create(PROPS)


def test_crhelpers_sleep_before_a_delete_answer_is_virtual(
    harness: Harness, clock: VirtualClock
) -> None:
    stack = stock_stack(harness, make_resource(harness, sleep_on_delete=120))
    stack.create(PROPS)
    response = stack.delete()
    assert response.status == "SUCCESS"
    assert response.arrived_at - response.sent_at == 120
    assert harness.sleeps == [("crhelper sleep_on_delete", 120)]
    assert response.invocations[0].real_seconds < 5


def test_a_failed_create_keeps_the_physical_id_for_the_delete(harness: Harness) -> None:
    def fails(event: dict[str, Any], context: Any) -> Any:
        raise ValueError("no such config")

    stack = stock_stack(harness, make_resource(harness, create=fails))
    response = stack.create(PROPS)
    assert response.status == "FAILED"
    assert response.reason == "no such config"
    assert stack.physical_id == response.physical_resource_id
    delete = stack.delete()
    assert delete.event["PhysicalResourceId"] == response.physical_resource_id


def test_the_poll_input_is_read_at_each_firing(harness: Harness, clock: VirtualClock) -> None:
    """A handler may rewrite its rule target's Input between polls (crhelper #27)."""
    seen: list[Any] = []

    class Stateful(CfnResource):
        def _polling_init(self, event: Any) -> None:
            if "CrHelperPoll" in event and not self.PhysicalResourceId:
                event["Count"] = event.get("Count", 0) + 1
                self._put_targets(self._context.function_name)  # type: ignore[attr-defined]
                return
            super()._polling_init(event)  # type: ignore[misc]

    def poll(event: dict[str, Any], context: Any) -> Any:
        seen.append(event.get("Count"))
        return "ep-1" if len(seen) == 3 else None

    stack = stock_stack(harness, make_resource(harness, poll=poll, cls=Stateful))
    assert stack.create(PROPS).status == "SUCCESS"
    assert seen == [None, 1, 2]


def test_secrets_in_the_logs_are_caught(harness: Harness) -> None:
    stack = stock_stack(harness, make_resource(harness, log_level="DEBUG"))  # logs the whole event
    stack.create(PROPS)
    with pytest.raises(AssertionError, match="ResponseURL part"):
        harness.assert_no_secrets_in_logs()
    assert any(json.loads(r.formatted).get("level") == "DEBUG" for r in harness.logs.records)
    harness.logs.clear()  # so that the fixture's own check passes


def test_log_assertion_finds_credentials_and_signatures() -> None:
    capture = LogCapture()
    url = "https://h/b/k?X-Amz-Algorithm=A&X-Amz-Signature=0123456789abcdef"
    with capture.capturing():
        import logging

        logging.getLogger("crhelper.test").warning("signature=0123456789abcdef")
    with pytest.raises(AssertionError, match="ResponseURL part"):
        assert_no_secrets(capture, response_urls=[url])
    assert_no_secrets(capture, response_urls=["https://h/b/k?X-Amz-Signature=feedfeedfeed"],
                      credentials=["AKIANOTLOGGED000"])


def test_a_fresh_stack_starts_from_clean_aws(harness: Harness) -> None:
    assert harness.aws.polling_state(harness.function_name).rules == ()
    stack = stock_stack(harness, make_resource(harness))
    assert isinstance(stack, CloudFormationStack)
