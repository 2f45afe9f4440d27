"""The handler's loop (rollout.run) alone: a scripted fake SageMaker client, the virtual clock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError
from sagemaker_emulator import VirtualClock
from sagemaker_rollout_handler.decisions import Goal, Progress
from sagemaker_rollout_handler.rollout import Done, Failed, Pending, Plan, Watch, run
from sagemaker_rollout_handler.sagemaker import Endpoints

ARN = "arn:aws:sagemaker:us-east-1:123456789012:endpoint/ep"
GOAL = Goal(endpoint_name="ep", config_name="cfg-b")


def endpoint(status: str, config: str = "cfg-a", pending: str | None = None,
             reason: str = "") -> dict[str, Any]:
    answer: dict[str, Any] = {"EndpointName": "ep", "EndpointArn": ARN,
                              "EndpointConfigName": config, "EndpointStatus": status}
    if pending:
        answer["PendingDeploymentSummary"] = {"EndpointConfigName": pending}
    if reason:
        answer["FailureReason"] = reason
    return answer


class FakeSageMaker:
    """Answers DescribeEndpoint from ``script(now)``; records every call with its time."""

    def __init__(self, clock: VirtualClock, script: Callable[[float], Any]) -> None:
        self.clock, self.script = clock, script
        self.calls: list[tuple[float, str]] = []

    def describe_endpoint(self, EndpointName: str) -> Any:
        self.calls.append((self.clock.now(), "DescribeEndpoint"))
        answer = self.script(self.clock.now())
        if isinstance(answer, Exception):
            raise answer
        return answer

    def describe_endpoint_config(self, EndpointConfigName: str) -> Any:
        return {}

    def update_endpoint(self, **params: Any) -> Any:
        self.calls.append((self.clock.now(), "UpdateEndpoint"))
        return {}

    def add_tags(self, **params: Any) -> Any:
        return {}

    def list_tags(self, **params: Any) -> Any:
        return {"Tags": []}


def loop(clock: VirtualClock, script: Callable[[float], Any], watch: Watch,
         progress: Progress | None = None, deadline: float = 10_000.0) -> tuple[Any, FakeSageMaker]:
    fake = FakeSageMaker(clock, script)
    plan = Plan(goal=GOAL, create_params={}, update_params={"EndpointName": "ep",
                                                           "EndpointConfigName": "cfg-b"},
                deadline=clock.now() + deadline)
    outcome = run(plan, progress or Progress(issued=True, seen_in_flight=True),
                  Endpoints(fake), clock, watch)
    return outcome, fake


def test_a_watch_looks_every_interval_until_the_deployment_is_done() -> None:
    clock = VirtualClock(0.0)
    outcome, fake = loop(clock, lambda now: endpoint("InService", "cfg-b") if now >= 95 else
                         endpoint("Updating", pending="cfg-b"), Watch(0.0, 150.0, 30.0))
    assert isinstance(outcome, Done)
    assert [t for t, _ in fake.calls] == [0.0, 30.0, 60.0, 90.0, 120.0]


def test_a_watch_ends_pending_before_its_end_leaving_the_last_look_to_its_successor() -> None:
    clock = VirtualClock(0.0)
    outcome, fake = loop(clock, lambda now: endpoint("Updating", pending="cfg-b"),
                         Watch(10.0, 70.0, 30.0))
    assert isinstance(outcome, Pending)
    assert [t for t, _ in fake.calls] == [10.0, 40.0]  # the look at 70 is the successor's
    assert clock.now() == 40.0


def test_a_single_look_makes_one_call() -> None:
    clock = VirtualClock(0.0)
    outcome, fake = loop(clock, lambda now: endpoint("Updating", pending="cfg-b"),
                         Watch(0.0, 0.0))
    assert isinstance(outcome, Pending)
    assert len(fake.calls) == 1


@pytest.mark.parametrize("error", [
    ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
                 "ResponseMetadata": {"HTTPStatusCode": 400}}, "DescribeEndpoint"),
    ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "unavailable"},
                 "ResponseMetadata": {"HTTPStatusCode": 503}}, "DescribeEndpoint"),
    ConnectionClosedError(endpoint_url="https://api.sagemaker"),
], ids=["throttled", "503", "connection-closed"])
def test_trouble_that_outlasts_botocore_is_look_again_later_until_the_deadline(
    error: Exception,
) -> None:
    clock = VirtualClock(0.0)
    outcome, _ = loop(clock, lambda now: error, Watch(0.0, 0.0))
    assert isinstance(outcome, Pending)
    assert "looking again" in outcome.why


def test_trouble_at_the_deadline_fails_naming_the_endpoint_and_what_sagemaker_said() -> None:
    clock = VirtualClock(0.0)
    error = ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"},
                         "ResponseMetadata": {"HTTPStatusCode": 400}}, "DescribeEndpoint")
    outcome, _ = loop(clock, lambda now: error, Watch(0.0, 0.0), deadline=0.0)
    assert isinstance(outcome, Failed)
    assert '"ep"' in outcome.reason and "ThrottlingException" in outcome.reason


def test_a_refusal_for_good_fails_at_once() -> None:
    clock = VirtualClock(0.0)
    error = ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"},
                         "ResponseMetadata": {"HTTPStatusCode": 400}}, "DescribeEndpoint")
    outcome, _ = loop(clock, lambda now: error, Watch(0.0, 0.0))
    assert isinstance(outcome, Failed)
    assert "AccessDeniedException" in outcome.reason


def test_an_update_is_followed_by_a_look_and_a_lagging_read_is_waited_out() -> None:
    clock = VirtualClock(0.0)
    outcome, fake = loop(clock, lambda now: endpoint("InService", "cfg-a"), Watch(0.0, 60.0),
                         progress=Progress())
    assert isinstance(outcome, Pending)  # InService on A right after our call: a lagging read
    assert [op for _, op in fake.calls][:3] == ["DescribeEndpoint", "UpdateEndpoint",
                                                 "DescribeEndpoint"]
    assert outcome.progress.issued and outcome.progress.issued_at == 0.0
