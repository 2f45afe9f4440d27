"""The wait engine over the wire (issue 11): the real handler, woken by SageMaker's events (from
the emulator, through the stack's rule on the default bus) and by its EventBridge Scheduler
schedules (moto, fired by the harness within the minute after their time), each invocation in
its own thread as Lambda runs them, on one virtual clock.

Every test ends with the harness's checks: one answer per request, before the deadline, nothing
left behind (no schedule, no rule, no permission of a request).
"""

from __future__ import annotations

import json
from typing import Any

from cfn_harness import CloudFormationStack, Harness, Invocation, LogCapture, drive
from cfn_harness.moto_aws import POLICY_LIMIT, RULE_QUOTA
from rollout_support import make_configs, props, provider_factory
from sagemaker_emulator import SageMakerEmulator, Timings, VirtualClock
from sagemaker_rollout_handler.contract import LEGACY_STATE_KEY
from sagemaker_rollout_handler.decisions import LAGGING_READ_GRACE
from sagemaker_rollout_handler.rollout import REQUEST_TAG
from sagemaker_rollout_handler.schedule import POLL_INTERVAL
from sagemaker_rollout_handler.waiting import owner_of
from waiting_support import ALARM, CANARY, CONFIG_A, CONFIG_B, ENDPOINT, Json

ALL_AT_ONCE: Json = {"BlueGreenUpdatePolicy": {
    "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
    "MaximumExecutionTimeoutInSeconds": 1800}}


def on_a(stack: CloudFormationStack, sagemaker: Any) -> CloudFormationStack:
    make_configs(sagemaker, CONFIG_A, CONFIG_B)
    created = stack.create(props(CONFIG_A))
    assert created.status == "SUCCESS", created.reason
    return stack


def latency(emulator: SageMakerEmulator, arrived_at: float, name: str = ENDPOINT) -> float:
    """How long after SageMaker's terminal transition the answer arrived."""
    return arrived_at - emulator.finished_operations(name)[-1].end


def describes(emulator: SageMakerEmulator, since: int) -> int:
    return sum(1 for call in emulator.calls[since:] if call.operation == "DescribeEndpoint")


# --- scale: 200 rollouts in one stack -------------------------------------------------------


def test_200_concurrent_updates_in_one_stack_with_150_rules_on_the_bus_all_succeed(
    harness: Harness, emulator: SageMakerEmulator, sagemaker_client: Any, clock: VirtualClock,
) -> None:
    """Issue 11: 80 rollouts in flight broke crhelper's polling on the function's 20 KB policy;
    the default bus's 300 rules are shared with the account's other workloads (150 here)."""
    emulator.reset(clock, timings=Timings(create=60.0, provision=(60.0, 240.0),
                                          traffic_shift=5.0, terminate=(20.0, 60.0)))
    harness.aws.add_filler_rules(150)
    harness.cloud.connect(emulator)
    factory = provider_factory(harness, sagemaker_client, clock)
    make_configs(sagemaker_client, CONFIG_A, CONFIG_B)
    stacks: list[CloudFormationStack] = []
    stack_arn = None
    for index in range(200):
        name = f"endpoint-{index:03d}"
        sagemaker_client.create_endpoint(EndpointName=name, EndpointConfigName=CONFIG_A)
        stack = harness.stack(factory(), factory=factory, logical_id=f"Endpoint{index:03d}",
                              stack_arn=stack_arn)
        stack_arn = stack.stack_id  # one stack, 200 resources
        stack.physical_id, stack.properties = name, props(CONFIG_A, name)
        stacks.append(stack)
    clock.advance(61)  # every endpoint InService on A
    rules_before = harness.aws.rule_count()
    policy_before = harness.aws.policy_size(harness.function_name)

    answers = drive([stack.prepare("Update", props(CONFIG_B, stack.physical_id or "",
                                                   DeploymentConfig=ALL_AT_ONCE),
                                   old_properties=stack.properties) for stack in stacks])

    assert [a.status for a in answers] == ["SUCCESS"] * 200, {a.reason for a in answers}
    assert {a.invocations[0].started_at for a in answers} == {answers[0].sent_at}
    assert harness.aws.rule_count() == rules_before < RULE_QUOTA  # no rule per request
    assert harness.aws.policy_size(harness.function_name) == policy_before < POLICY_LIMIT
    assert harness.aws.schedules() == []
    assert max(latency(emulator, a.arrived_at, str(a.physical_resource_id))
               for a in answers) <= 5.0
    for answer in answers:
        operations = {call.operation for call in answer.api_calls}
        assert not {"PutRule", "AddPermission", "PutTargets"} & operations
    assert emulator.calls_to("UpdateEndpoint") == 200
    # Events came for every endpoint: no request watched like a poller, in process (a refused
    # connection in a first invocation, or a safety wake that saw a change a moment before its
    # event, once made requests poll: 40,000 Lambda seconds for the 200).
    assert max(i.duration for i in harness.cloud.invocations) < POLL_INTERVAL


# --- events: delivered, doubled, lost ---------------------------------------------------------


def test_an_update_is_answered_within_seconds_of_sagemakers_event(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    on_a(stack, sagemaker_client)
    before = len(emulator.calls)
    response = stack.update(props(CONFIG_B, DeploymentConfig=CANARY))
    assert response.status == "SUCCESS", response.reason
    assert latency(emulator, response.arrived_at) <= 5.0
    woken = {i.kind for i in response.invocations}
    assert "event" in woken
    # A 30 s poller would have looked ~ (duration / 30) times.
    duration = emulator.finished_operations(ENDPOINT)[-1].end - response.sent_at
    assert describes(emulator, before) <= 0.5 * (duration / 30 + 1)


def test_events_doubled_change_nothing(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    on_a(stack, sagemaker_client)
    emulator.faults.events(duplicates=2)
    before = len(emulator.calls)
    response = stack.update(props(CONFIG_B, DeploymentConfig=CANARY))
    assert response.status == "SUCCESS", response.reason
    assert emulator.calls_to("UpdateEndpoint") == 1
    events = [i for i in response.invocations if i.kind == "event"]
    wakes = [i for i in response.invocations if i.kind == "schedule"]
    # Three copies of every event woke the function; a copy about what was seen looks no more:
    # one look per distinct event, per safety wake, and the first invocation's two.
    assert describes(emulator, before) <= len(events) / 3 + len(wakes) + 3
    assert latency(emulator, response.arrived_at) <= 5.0


def test_an_event_slower_than_a_safety_wake_does_not_make_the_wait_poll(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    clock: VirtualClock, handler_logs: LogCapture,
) -> None:
    """Events arrive "in near real time", here 58 s late: the safety wake (at about 454 s on
    this seed) sees the end of provisioning (at 420 s) before its event (478 s). That is no lost
    event: the wait looks again a minute later, and the event has come. (Before: it polled.)"""
    emulator.reset(clock, timings=Timings(create=60.0, provision=420.0, traffic_shift=5.0,
                                          terminate=30.0))
    on_a(stack, sagemaker_client)
    emulator.faults.events(delay=58.0)
    response = stack.update(props(CONFIG_B, DeploymentConfig=CANARY))
    assert response.status == "SUCCESS", response.reason
    assert "polling" not in handler_logs.text()
    assert max(i.duration for i in response.invocations) < POLL_INTERVAL
    assert latency(emulator, response.arrived_at) <= 58.0 + 5.0


def test_a_first_look_that_failed_for_a_while_does_not_make_the_wait_poll(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    handler_logs: LogCapture,
) -> None:
    """Connections refused through all of botocore's attempts in the first invocation: the wait
    looks again later. That look is its first sight of the endpoint, not an unannounced change."""
    on_a(stack, sagemaker_client)
    emulator.faults.outage(30, kind="drop", operation="DescribeEndpoint")
    response = stack.update(props(CONFIG_B, DeploymentConfig=ALL_AT_ONCE))
    assert response.status == "SUCCESS", response.reason
    assert "polling" not in handler_logs.text()
    assert max(i.duration for i in response.invocations) < POLL_INTERVAL
    assert latency(emulator, response.arrived_at) <= 5.0


def test_events_lost_the_wait_still_ends_within_30_s_of_the_deployment(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    on_a(stack, sagemaker_client)
    emulator.faults.events(lose=1.0)
    before = len(emulator.calls)
    response = stack.update(props(CONFIG_B, DeploymentConfig=CANARY))
    assert response.status == "SUCCESS", response.reason
    assert {i.kind for i in response.invocations} == {"request", "schedule"}
    assert latency(emulator, response.arrived_at) <= 30.0
    operation = emulator.finished_operations(ENDPOINT)[-1]
    poller = (operation.end - operation.started) // 30 + 2
    assert describes(emulator, before) <= poller


def test_an_alarm_rollback_with_events_lost_fails_within_30_s_naming_the_alarm(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    on_a(stack, sagemaker_client)
    emulator.faults.events(lose=1.0)
    emulator.faults.trip_alarm(ENDPOINT, "canary-bake", after=100)
    response = stack.update(props(CONFIG_B, DeploymentConfig=CANARY))
    assert response.status == "FAILED"
    assert ALARM in response.reason and "rolled back" in response.reason
    assert latency(emulator, response.arrived_at) <= 30.0


# --- what DescribeEndpoint does not guarantee -------------------------------------------------


def test_a_stale_pending_deployment_summary_changes_nothing(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    on_a(stack, sagemaker_client)
    emulator.faults.stale_summary()
    response = stack.update(props(CONFIG_B, DeploymentConfig=CANARY))
    assert response.status == "SUCCESS", response.reason
    assert latency(emulator, response.arrived_at) <= 5.0


def test_an_absent_pending_deployment_summary_changes_nothing(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    on_a(stack, sagemaker_client)
    emulator.faults.absent_summary()
    emulator.faults.trip_alarm(ENDPOINT, "final-bake", after=30)
    response = stack.update(props(CONFIG_B, DeploymentConfig=CANARY))
    assert response.status == "FAILED"
    assert ALARM in response.reason
    assert latency(emulator, response.arrived_at) <= 5.0
    assert stack.rollback().status == "SUCCESS"


def test_a_read_lagging_update_endpoint_is_not_reported_as_a_rollback(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    """Issue 11: the old handler read the old InService view right after UpdateEndpoint as a
    SageMaker rollback "(no FailureReason given)", and the stack rolled back a deployment that
    was in fact running."""
    on_a(stack, sagemaker_client)
    emulator.faults.lag_reads_after_update(20)
    response = stack.update(props(CONFIG_B, DeploymentConfig=CANARY))
    assert response.status == "SUCCESS", response.reason
    assert emulator.calls_to("UpdateEndpoint") == 1


def test_a_read_that_never_shows_the_deployment_is_believed_after_the_grace_saying_so(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    on_a(stack, sagemaker_client)
    emulator.faults.lag_reads_after_update(10_000)
    response = stack.update(props(CONFIG_B, DeploymentConfig=CANARY))
    assert response.status == "FAILED"
    assert "never seen in flight" in response.reason and CONFIG_B in response.reason
    assert LAGGING_READ_GRACE <= response.elapsed <= LAGGING_READ_GRACE + 120
    emulator.faults.lag_reads_after_update(0)


# --- the answer lock --------------------------------------------------------------------------


def test_two_invocations_racing_to_answer_only_one_answers(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    harness: Harness,
) -> None:
    """Scheduler's wake, copies of it, and SageMaker's event all arrive when the deployment is
    done, at the same moment, in separate invocations: exactly one answers (the harness fails
    the test on a second answer)."""
    on_a(stack, sagemaker_client)

    def race(invocation: Invocation) -> None:
        if invocation.kind != "request":
            return
        (name,) = harness.aws.schedules()
        payload = json.loads(harness.aws.schedule_input(name) or "{}")
        end = emulator.deployment_end(ENDPOINT)
        assert end is not None
        for _ in range(3):
            harness.cloud.deliver("schedule", payload, at=end + 2.0)  # with the event

    response = stack.update(props(CONFIG_B, DeploymentConfig=ALL_AT_ONCE), after_each=race)
    assert response.status == "SUCCESS", response.reason
    racing = [i for i in response.invocations if i.started_at == response.arrived_at]
    assert len(racing) >= 4, [(i.kind, i.started_at) for i in response.invocations]


# --- a wait of the previous version -----------------------------------------------------------


def test_an_in_flight_wait_of_the_previous_state_version_still_finishes(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    harness: Harness, clock: VirtualClock,
) -> None:
    """A deploy of this library while a rollout waits under crhelper's polling (state version
    1): the old rule fires once more; the new handler takes the wait over (removing the rule and
    its permission, the old lock) and answers when SageMaker is done."""
    on_a(stack, sagemaker_client)
    run = stack.prepare("Update", props(CONFIG_B, DeploymentConfig=CANARY),
                        old_properties=stack.properties)
    # What version 1's first invocation did: its request tag, UpdateEndpoint, its polling rule.
    arn = sagemaker_client.describe_endpoint(EndpointName=ENDPOINT)["EndpointArn"]
    tag = f"{run.request_id}:update:{owner_of(run.event)}"
    sagemaker_client.add_tags(ResourceArn=arn, Tags=[{"Key": REQUEST_TAG, "Value": tag}])
    sagemaker_client.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=CONFIG_B,
                                     DeploymentConfig=CANARY)
    rule = harness.events_client.put_rule(Name="sagemaker-rollout-0123456789abcdef01234567",
                                          ScheduleExpression="rate(1 minute)")["RuleArn"]
    harness.events_client.put_targets(Rule="sagemaker-rollout-0123456789abcdef01234567",
                                      Targets=[{"Id": "1", "Arn": harness.function_arn}])
    harness.lambda_client.add_permission(
        FunctionName=harness.function_name, StatementId="EndpointRolloutPoll1234",
        Action="lambda:InvokeFunction", Principal="events.amazonaws.com", SourceArn=rule)
    now = clock.now()
    run.delivery = {
        **{k: v for k, v in run.event.items() if k != "OldResourceProperties"},
        "CrHelperPoll": True, "CrHelperRule": rule, "CrHelperPermission": "EndpointRolloutPoll1234",
        "CrHelperData": {"PhysicalResourceId": ENDPOINT},
        LEGACY_STATE_KEY: {"target_id": ENDPOINT, "creates": False, "deadline": now + 3510,
                           "progress": {"issued": True, "created": False, "last_phase": None,
                                        "owned": True},
                           "old_tags": {}, "rule_created": now},
    }
    clock.advance(60)  # the old rule's next firing

    (response,) = drive([run])

    assert response.status == "SUCCESS", response.reason
    assert emulator.calls_to("UpdateEndpoint") == 1  # only version 1's
    state = harness.aws.polling_state(harness.function_name)
    assert [r.name for r in state.rules] == ["SageMakerRolloutEvents"]
    assert [s["Sid"] for s in state.statements] == ["SageMakerRolloutEvents"]
    assert latency(emulator, response.arrived_at) <= 5.0
