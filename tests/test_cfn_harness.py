"""Self-tests of the CloudFormation harness (tests/cfn_harness), with trivial providers: the
driver must pass a well-behaved provider and catch each way a provider can break the protocol;
the quotas it models must bite."""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cfn_harness import (
    CloudFormationStack,
    Harness,
    HarnessViolation,
    LogCapture,
    assert_no_secrets,
    cfn_value,
    drive,
    preserved_logging,
)
from cfn_harness.moto_aws import POLICY_LIMIT, RULE_QUOTA
from crhelper import CfnResource
from sagemaker_emulator import VirtualClock

PROPS = {"EndpointName": "ep-1", "EndpointConfigName": "config-a", "Count": 2, "On": True}


def make_resource(
    harness: Harness,
    *,
    create: Callable[[dict[str, Any], Any], Any] | None = None,
    cls: type[CfnResource] = CfnResource,
    **options: Any,
) -> CfnResource:
    """A stock crhelper resource whose create/update/delete return the EndpointName (or run
    ``create``): it answers in its one invocation."""
    options = {"json_logging": True, "log_level": "INFO", "sleep_on_delete": 0, **options}
    with preserved_logging():
        resource = cls(**options)

    def default(event: dict[str, Any], context: Any) -> Any:
        return event["ResourceProperties"]["EndpointName"]

    resource.create(create or default)
    resource.update(default)
    resource.delete(default)
    return resource


def stock_stack(harness: Harness, resource: Any, **options: Any) -> CloudFormationStack:
    return harness.stack(resource, **options)


class Waiting:
    """A provider that waits by one-time schedules (as the real one does), then answers with a
    stock crhelper resource: each wake re-arms the schedule until ``seconds`` have passed."""

    def __init__(self, harness: Harness, clock: VirtualClock, seconds: float, *,
                 every: float = 120, clean_up: bool = True) -> None:
        self.harness, self.clock, self.seconds, self.every = harness, clock, seconds, every
        self.clean_up = clean_up
        self.resource = make_resource(harness)
        self.wakes: list[dict[str, Any]] = []

    def _arm(self, operation: str, request: dict[str, Any], started: float) -> None:
        when = datetime.fromtimestamp(math.ceil(self.clock.now() + self.every), UTC)
        getattr(self.harness.scheduler_client, operation)(
            Name="sagemaker-rollout-test", GroupName=self.harness.schedule_group,
            ScheduleExpression=f"at({when:%Y-%m-%dT%H:%M:%S})",
            FlexibleTimeWindow={"Mode": "OFF"},
            Target={"Arn": self.harness.function_arn, "RoleArn": self.harness.scheduler_role,
                    "Input": json.dumps({"Wake": {"request": request, "started": started,
                                                  "wakes": len(self.wakes)}})})

    def __call__(self, event: dict[str, Any], context: Any) -> None:
        if "Wake" not in event:
            self._arm("create_schedule", event, self.clock.now())
            return
        wake = event["Wake"]
        self.wakes.append(wake)
        if self.clock.now() - wake["started"] < self.seconds:
            self._arm("update_schedule", wake["request"], wake["started"])
            return
        if self.clean_up:
            self.harness.scheduler_client.delete_schedule(Name="sagemaker-rollout-test",
                                                          GroupName=self.harness.schedule_group)
        self.resource(wake["request"], context)


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
    # Only what CDK deploys with the stack: its rule on the default bus and its schedule group.
    rules = harness.aws.polling_state(harness.function_name).rules
    assert [rule.name for rule in rules] == ["SageMakerRolloutEvents"]
    assert harness.aws.schedules() == []
    stack = stock_stack(harness, make_resource(harness))
    assert isinstance(stack, CloudFormationStack)


def test_a_schedule_fires_within_the_minute_after_its_time_with_its_current_input(
    harness: Harness, clock: VirtualClock
) -> None:
    provider = Waiting(harness, clock, 300)
    response = harness.stack(provider).create(PROPS)
    assert response.status == "SUCCESS"
    kinds = [i.kind for i in response.invocations]
    assert kinds[0] == "request" and set(kinds[1:]) == {"schedule"}
    starts = [i.started_at for i in response.invocations]
    for before, after in itertools.pairwise(starts):
        assert 120 <= after - before < 181  # at(now + 120 s, rounded up): within the minute
    assert [wake["wakes"] for wake in provider.wakes] == list(range(len(provider.wakes)))
    assert response.schedules == ("sagemaker-rollout-test",)


def test_running_out_of_lambda_time_is_caught(harness: Harness, clock: VirtualClock) -> None:
    def slow(event: dict[str, Any], context: Any) -> None:
        clock.sleep(context.get_remaining_time_in_millis() / 1000 - 1)

    with pytest.raises(HarnessViolation, match=r"Lambda timeout|Lambda time left"):
        harness.stack(slow).create(PROPS)


def test_no_answer_and_nothing_to_wake_the_function_is_caught(harness: Harness) -> None:
    def silent(event: dict[str, Any], context: Any) -> None:
        return None

    with pytest.raises(HarnessViolation, match="nothing will invoke the function again"):
        harness.stack(silent).create(PROPS)


def test_no_answer_by_the_service_timeout_is_caught(
    harness: Harness, clock: VirtualClock
) -> None:
    provider = Waiting(harness, clock, 10_000)
    with pytest.raises(HarnessViolation, match=r"no answer before StackTime \+ ServiceTimeout"):
        harness.stack(provider, service_timeout=600).create(PROPS)
    harness.scheduler_client.delete_schedule(Name="sagemaker-rollout-test",
                                             GroupName=harness.schedule_group)


def test_a_schedule_left_after_the_answer_is_caught(harness: Harness, clock: VirtualClock) -> None:
    provider = Waiting(harness, clock, 100, clean_up=False)
    with pytest.raises(HarnessViolation, match="schedules left in Scheduler"):
        harness.stack(provider).create(PROPS)
    harness.scheduler_client.delete_schedule(Name="sagemaker-rollout-test",
                                             GroupName=harness.schedule_group)


def test_a_late_second_answer_is_caught(harness: Harness) -> None:
    stack = stock_stack(harness, make_resource(harness))
    response = stack.create(PROPS)
    stack.invoke(response.invocations[0].event)
    with pytest.raises(HarnessViolation, match="2 answers"):
        stack.update({**PROPS, "EndpointConfigName": "config-b"})
    harness.stacks.clear()  # the fixture's own check would find the same


def test_invocations_at_the_same_time_run_at_the_same_time_on_one_clock(
    harness: Harness, clock: VirtualClock
) -> None:
    """Two requests of one stack update: each invocation sleeps in process; they overlap, and
    virtual time passes once for both, as in AWS."""
    def factory() -> Any:
        resource = make_resource(harness)

        def waits(event: dict[str, Any], context: Any) -> None:
            clock.sleep(float(event["ResourceProperties"]["Count"]))
            resource(event, context)

        return waits

    first = harness.stack(factory(), factory=factory, logical_id="First")
    second = harness.stack(factory(), factory=factory, logical_id="Second")
    start = clock.now()
    answers = drive([first.prepare("Create", {**PROPS, "Count": 10}),
                     second.prepare("Create", {**PROPS, "EndpointName": "ep-2", "Count": 20})])
    assert [a.status for a in answers] == ["SUCCESS", "SUCCESS"]
    assert [a.arrived_at - start for a in answers] == [10, 20]
    assert [a.invocations[0].started_at for a in answers] == [start, start]


def test_the_rule_quota_of_the_default_bus_is_enforced_with_the_accounts_other_rules(
    harness: Harness,
) -> None:
    harness.aws.add_filler_rules(RULE_QUOTA - 1)  # with the stack's own rule: full
    with pytest.raises(ClientError, match="LimitExceededException"):
        harness.events_client.put_rule(Name="one-more", ScheduleExpression="rate(1 minute)")


def test_the_20_kb_limit_of_the_functions_policy_is_enforced(harness: Harness) -> None:
    with pytest.raises(ClientError, match=r"PolicyLengthExceededException.*\(20480\)"):
        for index in range(100):
            harness.lambda_client.add_permission(
                FunctionName=harness.function_name, StatementId=f"poll-{index:03d}-" + "x" * 40,
                Action="lambda:InvokeFunction", Principal="events.amazonaws.com",
                SourceArn=f"arn:aws:events:us-east-1:123456789012:rule/sagemaker-rollout-{index}")
    assert harness.aws.policy_size(harness.function_name) <= POLICY_LIMIT
    for statement in harness.aws.polling_state(harness.function_name).statements:
        if str(statement.get("Sid", "")).startswith("poll-"):
            harness.lambda_client.remove_permission(FunctionName=harness.function_name,
                                                    StatementId=statement["Sid"])


def test_a_response_url_is_as_long_as_a_real_presigned_one(harness: Harness) -> None:
    stack = stock_stack(harness, make_resource(harness))
    response = stack.create(PROPS)
    assert 1200 <= len(response.event["ResponseURL"]) <= 1536
