"""Reliability: every failure path of a rollout, with nothing lost (the issue's 16 scenarios).

Each scenario runs the real handler (lambda/sagemaker_rollout_handler) through crhelper with
CloudFormation-shaped events (tests/cfn_harness), against the SageMaker emulator on virtual time
(tests/sagemaker_emulator). Scenarios already covered by tests/test_lifecycle.py (canary alarm
rollback, its no-redeploy CloudFormation rollback, DescribeEndpoint throttled during the wait, a
malformed WaitIntervalInSeconds on Update, rename + cleanup Delete, Delete after a Create left the
endpoint Failed, Create over someone else's endpoint, a poll delivered after the answer) are not
repeated; the tests here strengthen them where the issue asks for more.

The issue's four invariants are checked after EVERY test by the autouse fixture ``invariants``
(:class:`Invariants`): no endpoint references a missing EndpointConfig; DeleteEndpoint only for
the physical id of the Delete being served; exactly one answer per request (or, for a request
delivered again after its answer, answers that agree), before the deadline, within 4096 bytes,
with a FAILED reason a person can act on; no polling rule or permission left behind; no
ResponseURL and no credentials in the function's logs.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from cfn_harness import (
    FAKE_CREDENTIALS,
    CloudFormationStack,
    Harness,
    Invocation,
    Response,
    assert_no_secrets,
)
from cfn_harness.tags import HANDLER_TAG_PREFIX, user_tags
from rollout_support import provider_factory
from sagemaker_emulator import SageMakerEmulator, Timings, VirtualClock

Json = dict[str, Any]
ENDPOINT = "ep"
CONFIG_A = "ep-config-a"
CONFIG_B = "ep-config-b"
CONFIG_C = "ep-config-c"
ALARM = "ep-5xx-errors-high"
ALARM_LATENCY = "ep-model-latency-high"
LOGICAL_ID = "EndpointRollout3F2A9C1B"
RESPONSE_LIMIT = 4096
#: The stack's one rule on the default bus (tests/cfn_harness/moto_aws.install_stack).
STACK_RULE = "SageMakerRolloutEvents"


def _canary(*alarms: str, wait: int = 300, termination_wait: int = 120) -> Json:
    return {
        "BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {
                "Type": "CANARY",
                "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1},
                "WaitIntervalInSeconds": wait,
            },
            "TerminationWaitInSeconds": termination_wait,
            "MaximumExecutionTimeoutInSeconds": 1800,
        },
        "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": a} for a in alarms or (ALARM,)]},
    }


#: Canary: 1 instance, bake 5 min, final bake 2 min, auto-rollback on two alarms.
CANARY = _canary(ALARM, ALARM_LATENCY)
#: Rolling: 2 batches of 2 instances (of 4), bake 5 min each, roll back 1 instance at a time.
ROLLING: Json = {
    "RollingUpdatePolicy": {
        "MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 2},
        "WaitIntervalInSeconds": 300,
        "MaximumExecutionTimeoutInSeconds": 3000,
        "RollbackMaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 1},
    },
    "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": ALARM}]},
}
#: Linear: 4 steps of 25 %, bake 7 min each, final bake 5 min: ~42 minutes of deployment.
LINEAR: Json = {
    "BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {
            "Type": "LINEAR",
            "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 25},
            "WaitIntervalInSeconds": 420,
        },
        "TerminationWaitInSeconds": 300,
        "MaximumExecutionTimeoutInSeconds": 3210,
    },
    "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": ALARM}]},
}

#: How a FAILED reason must name the phase an alarm tripped in (case-insensitive regexes, all of
#: which must match). SageMaker's VariantStatus for the phase, as the handler last saw it, is the
#: natural source: the emulator's StatusMessages are "Baking the canary", "Final baking period",
#: "Baking batch 2/2".
PHASE_WORDS: dict[str, tuple[str, ...]] = {
    "canary-bake": (r"canary", r"bak"),
    "final-bake": (r"final", r"bak"),
    "rolling-bake#1": (r"batch\W{0,3}2\b",),
}
#: A FAILED reason says what to do (or, for a property, what is allowed).
_ACTION = re.compile(
    r"deploy|retry|delete|fix|check|choose|adopt|request|recreate|inspect|reduce|shorten|rename|"
    r"allowed|expected|required|must|bring it back|quota", re.I)
_NOT_A_REASON = ("Traceback", "Execution timed out", "object at 0x", "NoneType", "KeyError")


def props(config: str, name: str = ENDPOINT, **extra: Any) -> Json:
    return {"EndpointName": name, "EndpointConfigName": config, **extra}


def make_configs(sagemaker: Any, *names: str, count: int = 4) -> None:
    """What CloudFormation's AWS::SageMaker::EndpointConfig resources would have created."""
    for name in names:
        sagemaker.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "model",
                                 "InitialInstanceCount": count, "InstanceType": "ml.m5.xlarge"}],
        )


def describe(sagemaker: Any, name: str = ENDPOINT) -> tuple[str, str]:
    answer = sagemaker.describe_endpoint(EndpointName=name)
    return answer["EndpointStatus"], answer["EndpointConfigName"]


def exists(emulator: SageMakerEmulator, name: str) -> bool:
    return emulator.endpoint(name) is not None


def mutations(emulator: SageMakerEmulator, since: int = 0) -> list[str]:
    """The state-changing SageMaker calls made since call number ``since``."""
    return [c.operation for c in emulator.calls[since:]
            if not c.operation.startswith(("Describe", "List"))]


def successful(emulator: SageMakerEmulator, operation: str) -> list[Any]:
    """The calls of ``operation`` that worked; for AddTags, those carrying the stack's own tags
    (not only the handler's ``sagemaker-rollout:`` bookkeeping tag)."""
    calls = [c for c in emulator.calls if c.operation == operation and c.error_code is None]
    if operation == "AddTags":
        calls = [c for c in calls if any(not t["Key"].startswith(HANDLER_TAG_PREFIX)
                                         for t in c.params.get("Tags", []))]
    return calls


def run_until(clock: VirtualClock, condition: Callable[[], bool], *, limit: float = 3600) -> None:
    """Let virtual time pass (no handler involved) until ``condition`` holds."""
    start = clock.now()
    while not condition():
        assert clock.now() - start < limit, "condition never held"
        clock.advance(5)


def assert_names_phase(reason: str, phase: str) -> None:
    for word in PHASE_WORDS[phase]:
        assert re.search(word, reason, re.I), (
            f"the reason does not name the phase {phase} ({word!r} not found): {reason}")


class Abandoned(Exception):
    """Raised from ``after_each`` to stop driving a request, as CloudFormation stops waiting for
    it (CancelUpdateStack): its polling rule stays in EventBridge and keeps firing."""


# --- the invariants, checked after every test ---------------------------------------------------


@dataclass
class Invariants:
    emulator: SageMakerEmulator
    harness: Harness
    #: Configs the TEST deleted out of band: an endpoint referencing one of them is the test's
    #: doing, not the handler's (the handler must then answer FAILED, checked by the test).
    deleted_out_of_band: set[str] = field(default_factory=set)
    #: Requests CloudFormation stopped waiting for: (request id, stack) -> answered at most once.
    abandoned: list[tuple[str, CloudFormationStack]] = field(default_factory=list)

    def check(self) -> None:
        problems: list[str] = []
        # 1. The endpoint never references an EndpointConfig that does not exist.
        for violation in self.emulator.invariant_violations():
            if violation.config.lower() not in self.deleted_out_of_band:
                problems.append(f"endpoint {violation.endpoint} referenced the missing config "
                                f"{violation.config} ({violation.role}) at {violation.time}")
        # 2. DeleteEndpoint only while serving a Delete whose physical id is that endpoint.
        deletes = [r for stack in self.harness.stacks for r in stack.history
                   if r.request_type == "Delete"]
        for call in self.emulator.calls:
            if call.operation != "DeleteEndpoint":
                continue
            name = str(call.params.get("EndpointName", "")).lower()
            if not any(r.sent_at <= call.time <= r.arrived_at
                       and str(r.event["PhysicalResourceId"]).lower() == name for r in deletes):
                problems.append(f"DeleteEndpoint {name} at {call.time} outside a Delete for "
                                "that physical id")
        # 3. One answer per request (agreeing answers for a request delivered again after its
        #    answer), in time, small enough, with a reason a person can act on.
        for stack in self.harness.stacks:
            stack.check_history()
            for response in stack.history:
                problems.extend(self._check_answers(response.request_id, response.deadline,
                                                    self.harness.responses.puts(
                                                        response.request_id)))
        for request_id, _stack in self.abandoned:
            puts = self.harness.responses.puts(request_id)
            if len(puts) > 1:
                problems.append(f"{len(puts)} answers to the abandoned request {request_id}")
            problems.extend(self._check_answers(request_id, None, puts))
        # ... and no schedule, rule or permission left behind, whatever happened (the stack's
        # own rule on the default bus and its one permission are the stack's, not a request's).
        state = self.harness.aws.polling_state(self.harness.function_name)
        rules = [r.name for r in state.rules if r.name != STACK_RULE]
        grants = [s.get("Sid") for s in state.statements if s.get("Sid") != STACK_RULE]
        if rules or grants:
            problems.append(f"left in EventBridge / Lambda: rules {rules}, permissions {grants}")
        schedules = self.harness.aws.schedules()
        if schedules:
            problems.append(f"schedules left in Scheduler: {schedules}")
        # 4. No ResponseURL and no credentials in the logs.
        urls = [url for stack in self.harness.stacks for url in stack.response_urls]
        try:
            assert_no_secrets(self.harness.logs, response_urls=urls,
                              credentials=FAKE_CREDENTIALS.values())
        except AssertionError as error:
            problems.append(str(error))
        assert not problems, "invariants broken:\n- " + "\n- ".join(problems)

    @staticmethod
    def _check_answers(request_id: str, deadline: float | None, puts: list[Any]) -> list[str]:
        problems: list[str] = []
        bodies = [p.body or {} for p in puts]
        if len({(b.get("Status"), b.get("PhysicalResourceId")) for b in bodies}) > 1:
            problems.append(f"contradictory answers to {request_id}: "
                            f"{[(b.get('Status'), b.get('PhysicalResourceId')) for b in bodies]}")
        for put, body in zip(puts, bodies, strict=True):
            if put.size > RESPONSE_LIMIT:
                problems.append(f"answer of {put.size} bytes to {request_id}")
            if deadline is not None and put.arrived_at > deadline:
                problems.append(f"answer to {request_id} after its deadline")
            if body.get("Status") == "FAILED":
                reason = str(body.get("Reason", ""))
                if (len(reason) < 40 or any(bad in reason for bad in _NOT_A_REASON)
                        or not _ACTION.search(reason)):
                    problems.append(f"FAILED reason nobody can act on: {reason!r}")
        return problems


@pytest.fixture(autouse=True)
def invariants(emulator: SageMakerEmulator, harness: Harness) -> Iterator[Invariants]:
    checker = Invariants(emulator, harness)
    yield checker
    checker.check()


@pytest.fixture
def make_stack(harness: Harness, emulator: SageMakerEmulator, sagemaker_client: Any,
               clock: VirtualClock) -> Callable[..., CloudFormationStack]:
    """A stack with harness options (``lambda_timeout``, ...), served by the real handler."""
    def make(**options: Any) -> CloudFormationStack:
        harness.cloud.connect(emulator)
        factory = provider_factory(harness, sagemaker_client, clock)
        return harness.stack(factory(), factory=factory, **options)

    return make


@pytest.fixture
def on_a(stack: CloudFormationStack, sagemaker_client: Any) -> CloudFormationStack:
    """A stack whose endpoint was created on config A (configs B and C exist too)."""
    make_configs(sagemaker_client, CONFIG_A, CONFIG_B, CONFIG_C)
    created = stack.create(props(CONFIG_A))
    assert created.status == "SUCCESS", created.reason
    return stack


def rollback_to_a(stack: CloudFormationStack, failed: Json, **options: Any) -> Response:
    """CloudFormation's rollback Update: A's properties again, the failed ones as old."""
    return stack.update(props(CONFIG_A), old_properties=failed, **options)


def fire_stale_rules(stack: CloudFormationStack, harness: Harness) -> None:
    """Scheduler and SageMaker's events go on waking the requests CloudFormation no longer waits
    for, until they end by themselves."""
    harness.run_stale_waits()


# --- 1, 2. An alarm trips: SageMaker rolls back --------------------------------------------------


@pytest.mark.parametrize(("phase", "failure_reason"), [
    ("canary-bake", None),
    ("canary-bake", ""),  # SageMaker may give no FailureReason (terraform-provider-aws #48997)
    ("final-bake", None),
], ids=["canary-bake", "canary-bake-no-failure-reason", "final-bake"])
def test_alarm_in_a_bake_fails_naming_the_alarms_and_the_phase_and_rollback_needs_no_redeploy(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    phase: str, failure_reason: str | None,
) -> None:
    emulator.faults.trip_alarm(ENDPOINT, phase, after=90, alarm_name=ALARM_LATENCY,
                               reason=failure_reason)
    failed = props(CONFIG_B, DeploymentConfig=CANARY)

    response = on_a.update(failed)

    assert response.status == "FAILED"
    for name in (ENDPOINT, CONFIG_B, ALARM, ALARM_LATENCY):
        assert name in response.reason, (name, response.reason)
    assert response.physical_resource_id == ENDPOINT
    assert describe(sagemaker_client) == ("InService", CONFIG_A)

    rollback = rollback_to_a(on_a, failed)

    assert rollback.status == "SUCCESS", rollback.reason
    assert rollback.physical_resource_id == ENDPOINT
    assert emulator.calls_to("UpdateEndpoint") == 1
    assert not rollback.polled
    sagemaker_client.delete_endpoint_config(EndpointConfigName=CONFIG_B)  # rollback cleanup
    assert_names_phase(response.reason, phase)  # last: everything above holds already


def test_alarm_in_a_rolling_batch_fails_naming_the_alarm_and_the_batch_and_rollback_succeeds(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    emulator.faults.trip_alarm(ENDPOINT, "rolling-bake", index=1, after=120)
    failed = props(CONFIG_B, DeploymentConfig=ROLLING)

    response = on_a.update(failed)

    assert response.status == "FAILED"
    for name in (ENDPOINT, CONFIG_B, ALARM):
        assert name in response.reason, (name, response.reason)
    assert describe(sagemaker_client) == ("InService", CONFIG_A)
    # SageMaker rolled back batch by batch: the answer came only once it was back on A.
    assert emulator.deployment_end(ENDPOINT) is None

    rollback = rollback_to_a(on_a, failed)

    assert rollback.status == "SUCCESS", rollback.reason
    assert emulator.calls_to("UpdateEndpoint") == 1
    assert not rollback.polled
    sagemaker_client.delete_endpoint_config(EndpointConfigName=CONFIG_B)
    assert_names_phase(response.reason, "rolling-bake#1")  # last: everything above holds already


# --- 3. The new fleet fails to provision ---------------------------------------------------------

CAPACITY = ("Unable to provision requested ML compute capacity. Please retry using a different ML "
            "instance type.")


@pytest.mark.parametrize("cause", ["insufficient-capacity", "resource-limit", "bad-model"])
def test_new_fleet_failing_to_provision_fails_with_sagemakers_reason_and_rollback_succeeds(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any, cause: str,
) -> None:
    if cause == "insufficient-capacity":
        emulator.faults.fail_provisioning(ENDPOINT, reason=CAPACITY)
        said = CAPACITY
    elif cause == "resource-limit":
        emulator.faults.resource_limit("UpdateEndpoint")
        said = "account-level service limit 'ml.m5.xlarge for endpoint usage'"
    else:
        emulator.faults.fail_provisioning(ENDPOINT)  # the model's container fails its ping
        said = "did not pass the ping health check"
    failed = props(CONFIG_B, DeploymentConfig=CANARY)

    response = on_a.update(failed)

    assert response.status == "FAILED"
    assert said in response.reason
    assert ENDPOINT in response.reason and CONFIG_B in response.reason
    if cause == "resource-limit":
        assert "ResourceLimitExceeded" in response.reason
        assert not response.polled
    assert describe(sagemaker_client) == ("InService", CONFIG_A)

    rollback = rollback_to_a(on_a, failed)

    assert rollback.status == "SUCCESS", rollback.reason
    assert emulator.calls_to("UpdateEndpoint") == 1
    assert not rollback.polled
    sagemaker_client.delete_endpoint_config(EndpointConfigName=CONFIG_B)


# --- 4. Our update succeeded, another resource failed --------------------------------------------


def test_rollback_after_another_resource_failed_redeploys_the_previous_config_and_waits_for_it(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    updated = props(CONFIG_B, DeploymentConfig=CANARY)
    assert on_a.update(updated).status == "SUCCESS"
    ends: list[float] = []

    def watch(invocation: Invocation) -> None:
        end = emulator.deployment_end(ENDPOINT)
        if end is not None:
            ends.append(end)

    # Another resource of the stack failed: CloudFormation rolls back. Config A still exists
    # (it is deleted only in UPDATE_COMPLETE_CLEANUP_IN_PROGRESS, which never came).
    rollback = rollback_to_a(on_a, updated, after_each=watch)

    assert rollback.status == "SUCCESS", rollback.reason
    assert rollback.physical_resource_id == ENDPOINT
    assert rollback.data["EndpointConfigName"] == CONFIG_A
    assert describe(sagemaker_client) == ("InService", CONFIG_A)
    updates = successful(emulator, "UpdateEndpoint")
    assert [u.params["EndpointConfigName"] for u in updates] == [CONFIG_B, CONFIG_A]
    assert rollback.polled and ends
    assert ends[-1] <= rollback.arrived_at  # answered only once SageMaker serves A
    sagemaker_client.delete_endpoint_config(EndpointConfigName=CONFIG_B)  # rollback cleanup


# --- 5. CancelUpdateStack while SageMaker is still deploying -------------------------------------


@pytest.mark.parametrize("sagemaker_state", ["Updating", "RollingBack"])
def test_rollback_arriving_while_sagemaker_deploys_waits_for_it_then_restores_the_old_config(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    harness: Harness, invariants: Invariants, sagemaker_state: str,
) -> None:
    if sagemaker_state == "RollingBack":
        emulator.faults.trip_alarm(ENDPOINT, "canary-bake", after=30)
    failed = props(CONFIG_B, DeploymentConfig=CANARY)

    def cancel_update_stack(invocation: Invocation) -> None:
        if emulator.endpoint_status(ENDPOINT) == sagemaker_state:
            raise Abandoned

    with pytest.raises(Abandoned):
        on_a.send("Update", failed, old_properties=props(CONFIG_A),
                  after_each=cancel_update_stack)
    # The cancelled request still waits (its schedule fires on); nothing answered it yet.
    stale = harness.waiting_requests()
    assert len(stale) == 1
    stale_request = stale[0]
    assert harness.responses.puts(stale_request) == []
    invariants.abandoned.append((stale_request, on_a))
    updates_before = emulator.calls_to("UpdateEndpoint")

    rollback = rollback_to_a(on_a, failed)

    assert rollback.status == "SUCCESS", rollback.reason
    assert rollback.physical_resource_id == ENDPOINT
    assert describe(sagemaker_client) == ("InService", CONFIG_A)
    refused = [c for c in emulator.calls if c.operation == "UpdateEndpoint" and c.error_code]
    assert refused == []  # it waited for SageMaker to settle instead of racing it
    expected = 1 if sagemaker_state == "Updating" else 0  # back to A, or already there
    assert emulator.calls_to("UpdateEndpoint") == updates_before + expected
    # The cancelled request's rule fires on: it must change nothing and clean up after itself.
    calls_before = len(emulator.calls)
    fire_stale_rules(on_a, harness)
    assert mutations(emulator, calls_before) == []
    assert describe(sagemaker_client) == ("InService", CONFIG_A)
    sagemaker_client.delete_endpoint_config(EndpointConfigName=CONFIG_B)


# --- 6. Update while SageMaker is busy for another reason ----------------------------------------


@pytest.mark.parametrize("busy", ["SystemUpdating", "Updating", "RollingBack"])
def test_update_while_the_endpoint_is_busy_for_another_reason_waits_then_deploys(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    clock: VirtualClock, busy: str,
) -> None:
    if busy == "SystemUpdating":
        emulator.faults.set_system_updating(ENDPOINT, 900)
    elif busy == "Updating":  # someone deploys config C from the console
        sagemaker_client.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=CONFIG_C)
    else:  # someone's canary to config C trips an alarm
        sagemaker_client.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=CONFIG_C,
                                         DeploymentConfig=_canary(ALARM))
        emulator.faults.trip_alarm(ENDPOINT, "canary-bake", after=0)
        run_until(clock, lambda: emulator.endpoint_status(ENDPOINT) == "RollingBack")
    assert emulator.endpoint_status(ENDPOINT) == busy
    busy_until = emulator.deployment_end(ENDPOINT)
    assert busy_until is not None

    response = on_a.update(props(CONFIG_B, DeploymentConfig=CANARY))

    assert response.status == "SUCCESS", response.reason
    assert describe(sagemaker_client) == ("InService", CONFIG_B)
    ours = [c for c in emulator.calls
            if c.operation == "UpdateEndpoint" and c.params["EndpointConfigName"] == CONFIG_B]
    assert len(ours) == 1 and ours[0].error_code is None
    assert ours[0].time >= busy_until  # proceeded only once SageMaker had settled
    sagemaker_client.delete_endpoint_config(EndpointConfigName=CONFIG_A)


def test_update_blocked_beyond_the_time_budget_fails_clearly_in_time_and_rollback_succeeds(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    clock: VirtualClock,
) -> None:
    emulator.faults.set_system_updating(ENDPOINT, 3000)
    failed = props(CONFIG_B, DeploymentConfig=CANARY, ServiceTimeout=900)

    response = on_a.update(failed)

    assert response.status == "FAILED"
    assert response.arrived_at <= response.deadline - 30
    assert ENDPOINT in response.reason and "SystemUpdating" in response.reason
    assert re.search(r"gave up|timed? ?out|time budget|ran out", response.reason, re.I)
    assert emulator.calls_to("UpdateEndpoint") == 0
    run_until(clock, lambda: emulator.endpoint_status(ENDPOINT) == "InService")

    rollback = rollback_to_a(on_a, failed)

    assert rollback.status == "SUCCESS", rollback.reason
    assert emulator.calls_to("UpdateEndpoint") == 0
    sagemaker_client.delete_endpoint_config(EndpointConfigName=CONFIG_B)


# --- 7. Endpoint Failed or UpdateRollbackFailed ---------------------------------------------------


@pytest.mark.parametrize(("status", "what_to_do"), [
    ("Failed", r"delete"),
    ("UpdateRollbackFailed", r"UpdateEndpoint|console|InService"),
])
def test_update_of_a_broken_endpoint_fails_saying_its_state_and_what_to_do_and_delete_deletes_it(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    status: str, what_to_do: str,
) -> None:
    emulator.faults.set_status(ENDPOINT, status, failure_reason="the model server crashed")

    response = on_a.update(props(CONFIG_B, DeploymentConfig=CANARY))

    assert response.status == "FAILED"
    assert ENDPOINT in response.reason and status in response.reason
    assert "the model server crashed" in response.reason
    assert re.search(what_to_do, response.reason, re.I), response.reason
    assert mutations(emulator).count("UpdateEndpoint") == 0
    assert describe(sagemaker_client)[0] == status

    delete = on_a.delete()

    assert delete.status == "SUCCESS", delete.reason
    assert not exists(emulator, ENDPOINT)
    assert emulator.calls_to("DeleteEndpoint") == 1


# --- 8. Endpoint deleted out of band --------------------------------------------------------------


def test_update_of_an_endpoint_deleted_out_of_band_recreates_it_and_a_later_rollback_succeeds(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    """Decision: recreate. CloudFormation believes the endpoint exists; recreating it on the
    requested config restores the stack's declared state, so the next update, a rollback, and
    the final Delete all work; failing would leave a stack that can neither update nor roll
    back until someone recreates the endpoint by hand."""
    make_configs(sagemaker_client, CONFIG_A, CONFIG_B)
    tags = [{"Key": "team", "Value": "ml"}]
    assert stack.create(props(CONFIG_A, Tags=tags)).succeeded
    emulator.faults.delete_endpoint_out_of_band(ENDPOINT)
    updated = props(CONFIG_B, DeploymentConfig=CANARY, Tags=tags)

    response = stack.update(updated)

    assert response.status == "SUCCESS", response.reason
    assert response.physical_resource_id == ENDPOINT
    assert describe(sagemaker_client) == ("InService", CONFIG_B)
    arn = response.data["EndpointArn"]
    assert user_tags(sagemaker_client, arn) == tags
    assert [c.params["EndpointConfigName"] for c in successful(emulator, "CreateEndpoint")] == [
        CONFIG_A, CONFIG_B]

    rollback = stack.update(props(CONFIG_A, Tags=tags), old_properties=updated)

    assert rollback.status == "SUCCESS", rollback.reason
    assert describe(sagemaker_client) == ("InService", CONFIG_A)
    delete = stack.delete()
    assert delete.status == "SUCCESS", delete.reason
    assert not exists(emulator, ENDPOINT)


# --- 9. The endpoint's config deleted out of band -------------------------------------------------


@pytest.mark.parametrize("case", ["update-to-b", "tags-only-update", "rollback-target"])
def test_a_config_deleted_out_of_band_fails_clearly_and_never_silently_succeeds(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    invariants: Invariants, case: str,
) -> None:
    if case == "rollback-target":
        updated = props(CONFIG_B, DeploymentConfig=CANARY)
        assert on_a.update(updated).succeeded
        invariants.deleted_out_of_band.add(CONFIG_A)
        emulator.faults.delete_config_out_of_band(CONFIG_A)  # someone "cleans up" A
        response = rollback_to_a(on_a, updated)
        serving = CONFIG_B
    else:
        invariants.deleted_out_of_band.add(CONFIG_A)
        emulator.faults.delete_config_out_of_band(CONFIG_A)  # the config the endpoint serves
        wanted = CONFIG_B if case == "update-to-b" else CONFIG_A
        response = on_a.update(props(wanted, Tags=[{"Key": "team", "Value": "ml"}]))
        serving = CONFIG_A

    assert response.status == "FAILED"
    assert ENDPOINT in response.reason and CONFIG_A in response.reason
    assert re.search(r"does not exist|could not find|deleted", response.reason, re.I)
    assert describe(sagemaker_client) == ("InService", serving)
    assert [c for c in emulator.calls if c.operation == "UpdateEndpoint" and c.error_code is None
            and c.params["EndpointConfigName"] != CONFIG_B] == []


# --- 10. Throttling and transient 5xx on every API -----------------------------------------------

TRANSIENT = {"throttle": "ThrottlingException", "500": "InternalFailure",
             "503": "ServiceUnavailable"}


def _inject(emulator: SageMakerEmulator, operation: str, server_error: str) -> None:
    """Two throttles, then one 5xx: three failed attempts before one that works (botocore's
    standard mode allows 8 here)."""
    emulator.faults.throttle(operation, times=2)
    emulator.faults.server_error(operation, http_status=500 if server_error == "500" else 503)


@pytest.mark.parametrize(("operation", "kind"), [
    ("DescribeEndpointConfig", "500"),
    ("CreateEndpoint", "503"),
    ("UpdateEndpoint", "500"),
    ("DescribeEndpoint", "503"),  # during the wait (throttling alone: test_lifecycle)
    ("DeleteEndpoint", "500"),
    ("AddTags", "503"),
    ("DeleteTags", "500"),
])
def test_throttling_and_5xx_on_every_api_are_retried_with_backoff_and_never_fail_the_request(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    harness: Harness, operation: str, kind: str,
) -> None:
    make_configs(sagemaker_client, CONFIG_A, CONFIG_B)
    tags = [{"Key": "team", "Value": "a"}]
    if operation in ("DescribeEndpointConfig", "CreateEndpoint"):
        _inject(emulator, operation, kind)
    response = stack.create(props(CONFIG_A, Tags=tags))
    assert response.status == "SUCCESS", response.reason
    if operation == "UpdateEndpoint":
        _inject(emulator, operation, kind)
        response = stack.update(props(CONFIG_B, Tags=tags))
    elif operation == "DescribeEndpoint":
        def during_the_wait(invocation: Invocation) -> None:
            if invocation.kind == "request":
                _inject(emulator, operation, kind)
        response = stack.update(props(CONFIG_B, Tags=tags), after_each=during_the_wait)
    elif operation == "DeleteEndpoint":
        _inject(emulator, operation, kind)
        response = stack.delete()
    elif operation == "AddTags":
        _inject(emulator, operation, kind)
        response = stack.update(props(CONFIG_A, Tags=[{"Key": "team", "Value": "b"}]))
    elif operation == "DeleteTags":
        _inject(emulator, operation, kind)
        response = stack.update(props(CONFIG_A))

    assert response.status == "SUCCESS", response.reason
    transient = [c for c in emulator.calls if c.error_code in TRANSIENT.values()]
    assert [(c.operation, c.error_code) for c in transient] == [
        (operation, "ThrottlingException")] * 2 + [(operation, TRANSIENT[kind])]
    assert [where for where, _ in harness.sleeps] == ["botocore retry"] * 3  # virtual back-off
    if operation not in ("DescribeEndpointConfig", "DescribeEndpoint"):
        assert len(successful(emulator, operation)) == 1
    if operation == "DeleteEndpoint":
        assert not exists(emulator, ENDPOINT)
    elif operation in ("AddTags", "DeleteTags"):
        expected = [{"Key": "team", "Value": "b"}] if operation == "AddTags" else []
        assert user_tags(sagemaker_client, response.data["EndpointArn"]) == expected
    else:
        wanted = CONFIG_B if operation in ("UpdateEndpoint", "DescribeEndpoint") else CONFIG_A
        assert describe(sagemaker_client) == ("InService", wanted)


@pytest.mark.parametrize("operation", ["CreateEndpoint", "UpdateEndpoint", "DeleteEndpoint"])
def test_a_5xx_whose_call_took_effect_is_retried_without_failing_or_repeating_the_change(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    operation: str,
) -> None:
    """A 500 can come after SageMaker did the work (the answer was lost): botocore's retry then
    meets "already existing" / "in-progress" — a consequence of our own call, not a failure."""
    make_configs(sagemaker_client, CONFIG_A, CONFIG_B)
    if operation == "CreateEndpoint":
        emulator.faults.server_error(operation, applied=True)
        response = stack.create(props(CONFIG_A))
        wanted: str | None = CONFIG_A
    else:
        assert stack.create(props(CONFIG_A)).succeeded
        emulator.faults.server_error(operation, applied=True)
        if operation == "UpdateEndpoint":
            response = stack.update(props(CONFIG_B, DeploymentConfig=CANARY))
            wanted = CONFIG_B
        else:
            response = stack.delete()
            wanted = None

    assert response.status == "SUCCESS", response.reason
    if wanted is None:
        assert not exists(emulator, ENDPOINT)
    else:
        assert describe(sagemaker_client) == ("InService", wanted)
        assert response.physical_resource_id == ENDPOINT
    assert len(successful(emulator, operation)) == 0  # the one that worked answered 500
    first = next(c for c in emulator.calls if c.operation == operation)
    assert first.error_code == "InternalFailure"


# --- 11. The same event twice ---------------------------------------------------------------------


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_the_first_event_delivered_again_while_waiting_makes_one_call_and_one_answer(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    request_type: str,
) -> None:
    make_configs(sagemaker_client, CONFIG_A, CONFIG_B)
    if request_type == "Update":
        assert stack.create(props(CONFIG_A)).succeeded
    operation = "CreateEndpoint" if request_type == "Create" else "UpdateEndpoint"
    before = emulator.calls_to(operation)

    def deliver_again(invocation: Invocation) -> None:
        if invocation.kind == "request":  # Lambda / CloudFormation at-least-once delivery
            stack.invoke(invocation.event, "request")

    if request_type == "Create":
        response = stack.create(props(CONFIG_A), after_each=deliver_again)
        wanted = CONFIG_A
    else:
        response = stack.update(props(CONFIG_B, DeploymentConfig=CANARY),
                                after_each=deliver_again)
        wanted = CONFIG_B

    assert response.status == "SUCCESS", response.reason
    assert response.physical_resource_id == ENDPOINT
    assert emulator.calls_to(operation) == before + 1
    assert describe(sagemaker_client) == ("InService", wanted)


@pytest.mark.parametrize("case", ["create", "update", "update-rolled-back"])
def test_the_first_event_delivered_again_after_the_answer_changes_nothing_and_contradicts_nothing(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    harness: Harness, case: str,
) -> None:
    make_configs(sagemaker_client, CONFIG_A, CONFIG_B)
    if case == "create":
        response = stack.create(props(CONFIG_A), allow_multiple_responses=True)
        serving = CONFIG_A
    else:
        assert stack.create(props(CONFIG_A)).succeeded
        if case == "update-rolled-back":
            emulator.faults.trip_alarm(ENDPOINT, "canary-bake", after=60)
        response = stack.update(props(CONFIG_B, DeploymentConfig=CANARY),
                                allow_multiple_responses=True)
        serving = CONFIG_A if case == "update-rolled-back" else CONFIG_B
    assert response.status == ("FAILED" if case == "update-rolled-back" else "SUCCESS")
    calls_before = len(emulator.calls)

    stack.invoke(response.event, "request")  # the same event, again
    fire_stale_rules(stack, harness)  # whatever it set up runs to its end

    answers = [(p.body or {}).get("Status") for p in harness.responses.puts(response.request_id)]
    assert set(answers) == {response.status}, answers  # a repeat may only say the same
    assert mutations(emulator, calls_before) == []
    assert describe(sagemaker_client) == ("InService", serving)


# --- 12. A deployment longer than one Lambda invocation -------------------------------------------


@pytest.mark.parametrize(("outcome", "lambda_timeout"), [
    ("deployed", 60.0), ("rolled-back", 180.0)])
def test_a_long_deployment_waits_across_invocations_and_always_removes_its_schedule(
    make_stack: Callable[..., CloudFormationStack], emulator: SageMakerEmulator,
    sagemaker_client: Any, outcome: str, lambda_timeout: float,
) -> None:
    stack = make_stack(lambda_timeout=lambda_timeout)
    make_configs(sagemaker_client, CONFIG_A, CONFIG_B)
    assert stack.create(props(CONFIG_A)).succeeded
    if outcome == "rolled-back":
        emulator.faults.trip_alarm(ENDPOINT, "linear-bake", index=3, after=300)

    response = stack.update(props(CONFIG_B, DeploymentConfig=LINEAR))

    assert response.status == ("SUCCESS" if outcome == "deployed" else "FAILED"), response.reason
    assert response.elapsed > 2000  # ~40 minutes of SageMaker, many invocations
    assert len(response.invocations) > 10
    assert all(i.remaining_ms >= 5000 for i in response.invocations)  # crhelper's timer never
    assert "Execution timed out" not in response.reason
    calls = [c.operation for c in response.api_calls]
    assert calls.count("CreateSchedule") == 1 and calls.count("DeleteSchedule") == 1, calls
    assert not {"PutRule", "AddPermission"} & set(calls)  # no per-request rule or permission
    assert emulator.calls_to("UpdateEndpoint") == 1
    assert describe(sagemaker_client) == (
        "InService", CONFIG_B if outcome == "deployed" else CONFIG_A)


def test_a_deployment_outlasting_the_service_timeout_fails_in_time_and_the_rollback_restores_a(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    failed = props(CONFIG_B, DeploymentConfig=LINEAR, ServiceTimeout=1200)

    response = on_a.update(failed)

    assert response.status == "FAILED"
    assert response.arrived_at <= response.deadline - 30
    assert ENDPOINT in response.reason and CONFIG_B in response.reason
    assert emulator.endpoint_status(ENDPOINT) == "Updating"  # SageMaker goes on

    rollback = rollback_to_a(on_a, failed)

    assert rollback.status == "SUCCESS", rollback.reason
    assert describe(sagemaker_client) == ("InService", CONFIG_A)
    assert [c.params["EndpointConfigName"] for c in successful(emulator, "UpdateEndpoint")] == [
        CONFIG_B, CONFIG_A]
    sagemaker_client.delete_endpoint_config(EndpointConfigName=CONFIG_B)


# --- 13. Malformed properties --------------------------------------------------------------------

_OVERSIZED_TAGS = [{"Key": f"k{i:02d}-" + "x" * 120, "Value": "v" * 256} for i in range(50)]


@pytest.mark.parametrize(("broken", "named"), [
    ({"EndpointName": None}, "EndpointName"),
    ({"DeploymentConfig": _canary(termination_wait="ten minutes")},  # type: ignore[arg-type]
     "TerminationWaitInSeconds"),
    ({"DeploymentConfig": {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": {
        "Type": "BLUE_GREEN_SPLIT", "WaitIntervalInSeconds": 60}}}}, "Type"),
    ({"Tags": _OVERSIZED_TAGS}, "Tags"),
], ids=["missing-EndpointName", "non-numeric-wait", "unknown-strategy-type", "too-many-tags"])
def test_malformed_create_fails_naming_the_property_with_no_sagemaker_call_and_delete_is_a_noop(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    broken: Json, named: str,
) -> None:
    make_configs(sagemaker_client, CONFIG_A)
    properties = {k: v for k, v in {**props(CONFIG_A), **broken}.items() if v is not None}
    calls_before = len(emulator.calls)

    response = stack.create(properties)

    assert response.status == "FAILED"
    assert named in response.reason, response.reason
    assert emulator.calls[calls_before:] == []
    assert not response.polled
    assert response.physical_resource_id != ENDPOINT
    delete = stack.delete()

    assert delete.status == "SUCCESS", delete.reason
    assert emulator.calls[calls_before:] == []
    assert not exists(emulator, ENDPOINT)


def test_an_update_with_too_many_tags_fails_naming_tags_with_no_sagemaker_call(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    calls_before = len(emulator.calls)

    response = on_a.update(props(CONFIG_B, DeploymentConfig=CANARY, Tags=_OVERSIZED_TAGS))

    assert response.status == "FAILED"
    assert "Tags" in response.reason
    assert emulator.calls[calls_before:] == []
    assert describe(sagemaker_client) == ("InService", CONFIG_A)


# --- 14. Delete after a failed Create -------------------------------------------------------------


def test_delete_after_a_create_that_made_nothing_succeeds_with_no_call(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    make_configs(sagemaker_client, CONFIG_A)
    emulator.faults.resource_limit("CreateEndpoint")

    response = stack.create(props(CONFIG_A))

    assert response.status == "FAILED"
    assert "ResourceLimitExceeded" in response.reason and ENDPOINT in response.reason
    # Not crhelper's generated "<stack>_<logical id>_<random>", and not the endpoint's name.
    assert response.physical_resource_id != ENDPOINT
    assert LOGICAL_ID + "_" not in response.physical_resource_id
    calls_before = len(emulator.calls)

    delete = stack.delete()

    assert delete.event["PhysicalResourceId"] == response.physical_resource_id
    assert delete.status == "SUCCESS", delete.reason
    assert emulator.calls[calls_before:] == []
    assert not delete.polled


def test_delete_after_a_create_that_timed_out_while_creating_removes_what_it_made(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    clock: VirtualClock,
) -> None:
    emulator.reset(clock, timings=Timings(create=900.0))
    make_configs(sagemaker_client, CONFIG_A)

    response = stack.create(props(CONFIG_A, ServiceTimeout=600))

    assert response.status == "FAILED"
    assert response.arrived_at <= response.deadline - 30
    assert ENDPOINT in response.reason and "Creating" in response.reason
    assert response.physical_resource_id == ENDPOINT  # it made the endpoint: Delete removes it
    delete = stack.delete()

    assert delete.status == "SUCCESS", delete.reason
    assert not exists(emulator, ENDPOINT)
    assert len(successful(emulator, "DeleteEndpoint")) == 1


# --- 15. Create over an existing endpoint: adoption, Retain ---------------------------------------


@pytest.mark.parametrize("deploy", ["succeeds", "rolled-back"])
def test_create_adopting_an_existing_endpoint_deploys_onto_it(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    clock: VirtualClock, deploy: str,
) -> None:
    make_configs(sagemaker_client, CONFIG_A, CONFIG_B)
    sagemaker_client.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=CONFIG_B)
    run_until(clock, lambda: emulator.endpoint_status(ENDPOINT) == "InService")
    if deploy == "rolled-back":
        emulator.faults.trip_alarm(ENDPOINT, "canary-bake", after=60)

    response = stack.create(props(CONFIG_A, AdoptExisting="true", DeploymentConfig=CANARY))

    if deploy == "succeeds":
        assert response.status == "SUCCESS", response.reason
        assert response.physical_resource_id == ENDPOINT
        assert describe(sagemaker_client) == ("InService", CONFIG_A)
    else:
        assert response.status == "FAILED"
        assert ALARM in response.reason
        # The endpoint was someone else's: the failed Create must not hand it to the Delete.
        assert response.physical_resource_id != ENDPOINT
        assert describe(sagemaker_client) == ("InService", CONFIG_B)
    assert emulator.calls_to("CreateEndpoint") == 1  # the test's own
    assert emulator.calls_to("UpdateEndpoint") == 1

    delete = stack.delete()

    assert delete.status == "SUCCESS", delete.reason
    assert exists(emulator, ENDPOINT) == (deploy == "rolled-back")


def test_delete_with_removal_policy_retain_keeps_the_endpoint(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    make_configs(sagemaker_client, CONFIG_A)
    assert stack.create(props(CONFIG_A, RemovalPolicy="Retain")).succeeded

    delete = stack.delete()

    assert delete.status == "SUCCESS", delete.reason
    assert not delete.polled
    assert emulator.calls_to("DeleteEndpoint") == 0
    assert describe(sagemaker_client) == ("InService", CONFIG_A)


# --- 16. Endpoint name changed, then the stack rolls back -----------------------------------------


def test_rename_rolled_back_by_the_stack_deletes_only_the_new_endpoint(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    renamed = props(CONFIG_A, name="ep-renamed")
    response = on_a.update(renamed)
    assert response.status == "SUCCESS", response.reason
    assert response.physical_resource_id == "ep-renamed"

    # Another resource failed: CloudFormation goes back to the old physical resource ("ep", never
    # touched) and, in UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS, deletes the new one.
    cleanup = on_a.delete(renamed, physical_id="ep-renamed")

    assert cleanup.status == "SUCCESS", cleanup.reason
    assert not exists(emulator, "ep-renamed")
    assert describe(sagemaker_client, ENDPOINT) == ("InService", CONFIG_A)
    assert [c.params["EndpointName"] for c in emulator.calls
            if c.operation == "DeleteEndpoint"] == ["ep-renamed"]


def test_rename_rolled_back_by_the_stack_goes_back_to_the_old_endpoint_and_cleanup_removes_the_new(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    renamed = props(CONFIG_A, name="ep-renamed")
    assert on_a.update(renamed).status == "SUCCESS"

    # Another resource failed: the rollback Update names the old endpoint ("ep", still there: it
    # is deleted only in cleanup after a success) under the new physical id. It is this
    # resource's own endpoint, not a conflict.
    rollback = on_a.update(props(CONFIG_A), old_properties=renamed, physical_id="ep-renamed")
    assert rollback.status == "SUCCESS", rollback.reason
    assert rollback.physical_resource_id == ENDPOINT

    cleanup = on_a.delete(renamed, physical_id="ep-renamed")
    assert cleanup.status == "SUCCESS", cleanup.reason
    assert not exists(emulator, "ep-renamed")
    assert describe(sagemaker_client, ENDPOINT) == ("InService", CONFIG_A)


def test_a_change_of_case_only_in_the_name_keeps_the_physical_id_so_nothing_is_deleted(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    response = on_a.update(props(CONFIG_A, name=ENDPOINT.upper()))
    assert response.status == "SUCCESS", response.reason
    assert response.physical_resource_id == ENDPOINT  # no replacement, so no cleanup Delete
    assert emulator.calls_to("DeleteEndpoint") == 0
    assert describe(sagemaker_client, ENDPOINT) == ("InService", CONFIG_A)


def test_a_delete_for_an_endpoint_another_resource_has_claimed_leaves_it_alone(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    arn = sagemaker_client.describe_endpoint(EndpointName=ENDPOINT)["EndpointArn"]
    # The endpoint was adopted under a new logical id (the construct moved): its request tag
    # now names another owner.
    sagemaker_client.add_tags(ResourceArn=arn, Tags=[
        {"Key": "sagemaker-rollout:request", "Value": "other-request:claim:0123456789abcdef"}])

    response = on_a.delete(props(CONFIG_A))

    assert response.status == "SUCCESS", response.reason
    assert emulator.calls_to("DeleteEndpoint") == 0
    assert describe(sagemaker_client, ENDPOINT) == ("InService", CONFIG_A)


def test_a_call_refused_for_good_after_create_answers_with_the_endpoint_so_delete_removes_it(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    make_configs(sagemaker_client, CONFIG_A)

    injected: list[bool] = []

    def refuse_describe_once_created(invocation: Any) -> None:
        if exists(emulator, ENDPOINT) and not injected:
            injected.append(True)
            emulator.faults.error("DescribeEndpoint", "AccessDeniedException",
                                  "User is not authorized to perform: sagemaker:DescribeEndpoint",
                                  times=100)

    response = stack.create(props(CONFIG_A), after_each=refuse_describe_once_created)

    assert response.status == "FAILED"
    assert response.physical_resource_id == ENDPOINT  # it made the endpoint: Delete removes it
    assert f'"{ENDPOINT}"' in response.reason and "AccessDeniedException" in response.reason
    assert "permissions" in response.reason


def test_a_cancelled_update_still_waiting_never_deploys_after_the_stack_rolled_back(
    on_a: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    harness: Harness, invariants: Invariants, clock: VirtualClock,
) -> None:
    # The update to B waits for a maintenance window; CancelUpdateStack comes meanwhile.
    emulator.faults.set_system_updating(ENDPOINT, 600)
    failed = props(CONFIG_B, DeploymentConfig=CANARY)

    def cancel_update_stack(invocation: Invocation) -> None:
        raise Abandoned

    with pytest.raises(Abandoned):
        on_a.send("Update", failed, old_properties=props(CONFIG_A),
                  after_each=cancel_update_stack)
    stale = harness.waiting_requests()
    assert len(stale) == 1
    invariants.abandoned.append((stale[0], on_a))

    # The rollback Update finds the endpoint on A (SystemUpdating, then InService) and is done.
    rollback = rollback_to_a(on_a, failed)
    assert rollback.status == "SUCCESS", rollback.reason

    # Maintenance ends; the cancelled request's rule fires on. It must not deploy B now
    # (CloudFormation deletes config B in cleanup: the endpoint would point at nothing).
    run_until(clock, lambda: emulator.endpoint_status(ENDPOINT) == "InService")
    calls_before = len(emulator.calls)
    fire_stale_rules(on_a, harness)
    assert [c for c in emulator.calls[calls_before:] if c.operation == "UpdateEndpoint"] == []
    assert describe(sagemaker_client) == ("InService", CONFIG_A)
    sagemaker_client.delete_endpoint_config(EndpointConfigName=CONFIG_B)
