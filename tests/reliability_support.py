"""What the reliability scenarios share (tests/test_reliability_*.py): the endpoint's configs
and strategies, helpers, and the invariants checked after every scenario (the autouse fixture
``invariants``, imported by each module).

Reliability: every failure path of a rollout, with nothing lost (the issue's 16 scenarios). Each
scenario runs the real handler (lambda/sagemaker_rollout_handler) through crhelper with
CloudFormation-shaped events (tests/cfn_harness), against the SageMaker emulator on virtual time
(tests/sagemaker_emulator). The four invariants checked after EVERY test (:class:`Invariants`):
no endpoint references a missing EndpointConfig; DeleteEndpoint only for the physical id of the
Delete being served, or of a Failed endpoint, or of one no stack knows; exactly one answer per
request (or, for a request delivered again after its answer, answers that agree), before the
deadline, within 4096 bytes, with a FAILED reason a person can act on; no schedule, rule or
permission left behind; no ResponseURL and no credentials in the function's logs.
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
    Response,
    assert_no_secrets,
)
from cfn_harness.tags import HANDLER_TAG_PREFIX
from rollout_support import provider_factory
from sagemaker_emulator import SageMakerEmulator, VirtualClock

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
        # 2. DeleteEndpoint only while serving a Delete whose physical id is that endpoint, or
        #    of an endpoint that serves nothing: a Failed one (replaced in place, or the failed
        #    Create of a rename removed: issue 13).
        #    An endpoint no stack ever had as its physical id (what a failed rename left,
        #    removed by the rollback) is no stack's live endpoint either.
        deletes = [r for stack in self.harness.stacks for r in stack.history
                   if r.request_type == "Delete"]
        known = {str(r.physical_resource_id).lower() for stack in self.harness.stacks
                 for r in stack.history}
        for call in self.emulator.calls:
            name = str(call.params.get("EndpointName", "")).lower()
            if call.operation != "DeleteEndpoint" or call.endpoint_status == "Failed" or (
                    name not in known):
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

