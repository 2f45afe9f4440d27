"""CloudFormation, Lambda and EventBridge around the custom resource, on virtual time.

:class:`CloudFormationStack` sends one CloudFormation request (Create / Update / Delete) to the
provider and carries it through to the answer, as AWS would:

1. CloudFormation invokes the function with the request event at the current virtual time.
2. While no answer has reached the ResponseURL, the polling rule the function left in
   EventBridge (moto) fires every 60 s counted from its creation (PutRule, observed through a
   hook on the function's events client, else the end of the invocation that created it): the
   clock jumps to the firing, and the function is invoked with the rule target's CURRENT Input.
3. It stops at the first answer, and gives up (an assertion) at StackTime + ServiceTimeout.

At every step it asserts what AWS would punish (each failure is a :class:`HarnessViolation`, an
AssertionError, with what happened so far):

* the handler never raises out of the Lambda entry point (crhelper catches everything);
* an invocation ends with at least ``min_remaining_seconds`` of Lambda time left (crhelper's own
  timer sends FAILED "Execution timed out" 0.5 s before the end), and within
  ``max_real_seconds`` of real time (no real sleeping, no hang);
* an invocation that does not answer leaves exactly one polling rule for the request: named
  ``rule_prefix...``, ``rate(1 minute)``, ENABLED, one target (the function, with an Input), and
  a Lambda permission for events.amazonaws.com from that rule;
* no invocation overlaps the next firing (end <= next firing time);
* the answer arrives before StackTime + ServiceTimeout, during an invocation, at a URL that was
  issued, with no Content-Type (the presigned URL signs none), at most 4096 bytes, with the
  request's StackId / RequestId / LogicalResourceId, a PhysicalResourceId of at most 1 KB, a
  Reason when FAILED, and exactly once per RequestId (unless ``allow_multiple_responses``);
* after the answer, no rule, target or permission of the request is left in moto.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .clock import VirtualClockLike
from .context import DEFAULT_LAMBDA_TIMEOUT, LambdaContext
from .events import RESOURCE_TYPE, Json, RequestType, build_event, cfn_properties, stack_id
from .logs import LogCapture
from .moto_aws import MotoAws, PollingState, RuleState
from .response_server import RecordedPut, ResponseServer
from .sleeps import preserved_logging

Handler = Callable[[Json, Any], Any]
#: CloudFormation's limit on the response body, and on a PhysicalResourceId.
RESPONSE_LIMIT = 4096
PHYSICAL_ID_LIMIT = 1024
#: EventBridge's limit on a target's Input.
TARGET_INPUT_LIMIT = 8192
#: crhelper sends FAILED "Execution timed out" this long before the Lambda's end.
CRHELPER_TIMER_MARGIN = 0.5


class HarnessViolation(AssertionError):
    """The provider did something CloudFormation, Lambda or EventBridge would not accept."""


@dataclass(frozen=True)
class Invocation:
    """One Lambda invocation of the provider."""

    kind: Literal["request", "poll"]
    started_at: float  # virtual
    ended_at: float  # virtual
    remaining_ms: int  # Lambda time left at the end
    real_seconds: float
    aws_request_id: str
    event: Json  # as delivered

    @property
    def duration(self) -> float:
        return self.ended_at - self.started_at


@dataclass(frozen=True)
class PollingRule:
    name: str
    arn: str
    created_at: float  # virtual time of PutRule
    created_in: int  # index of the invocation that created it


@dataclass(frozen=True)
class ApiCall:
    """A call the function made to EventBridge or Lambda (polling set-up / clean-up)."""

    time: float
    service: str
    operation: str
    params: Json


@dataclass(frozen=True)
class Response:
    """CloudFormation's view of one request: the answer and how it came about."""

    request_type: RequestType
    request_id: str
    event: Json
    status: str
    reason: str
    physical_resource_id: str
    data: Json
    no_echo: bool
    body: Json
    size: int  # bytes
    sent_at: float  # virtual time CloudFormation sent the request
    arrived_at: float  # virtual time the (first) answer arrived
    deadline: float  # sent_at + ServiceTimeout
    invocations: tuple[Invocation, ...]
    rules: tuple[PollingRule, ...]
    puts: tuple[RecordedPut, ...]  # every answer to this RequestId (normally one)
    api_calls: tuple[ApiCall, ...] = ()

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCESS"

    @property
    def polled(self) -> bool:
        """Whether the request needed a polling rule (was not answered in the first invocation)."""
        return bool(self.rules) or len(self.invocations) > 1

    @property
    def elapsed(self) -> float:
        return self.arrived_at - self.sent_at

    def __str__(self) -> str:
        return (f"{self.request_type} {self.status} after {self.elapsed:.0f}s in "
                f"{len(self.invocations)} invocation(s): PhysicalResourceId="
                f"{self.physical_resource_id!r} Reason={self.reason!r} Data={self.data!r}")


@dataclass
class _Run:
    request_type: RequestType
    event: Json
    sent_at: float
    deadline: float
    baseline: PollingState
    invocations: list[Invocation] = field(default_factory=list)
    rules: list[PollingRule] = field(default_factory=list)

    def story(self) -> str:
        lines = [f"{self.request_type} sent at t+0 (deadline t+{self.deadline - self.sent_at:.0f})"]
        for index, inv in enumerate(self.invocations):
            lines.append(
                f"  #{index} {inv.kind}: t+{inv.started_at - self.sent_at:.1f} .. "
                f"t+{inv.ended_at - self.sent_at:.1f} ({inv.remaining_ms / 1000:.1f}s left)")
        for rule in self.rules:
            lines.append(f"  rule {rule.name} created at t+{rule.created_at - self.sent_at:.1f}"
                         f" in #{rule.created_in}")
        return "\n".join(lines)


class CloudFormationStack:
    """One custom resource in one stack, driven request by request.

    The stack remembers CloudFormation's state: the physical id and properties of the last
    successful Create / Update (and the properties last attempted, for :meth:`rollback`).
    """

    def __init__(
        self,
        handler: Handler,
        *,
        clock: VirtualClockLike,
        aws: MotoAws,
        responses: ResponseServer,
        function_name: str,
        events_client: Any = None,
        lambda_client: Any = None,
        logs: LogCapture | None = None,
        stack_name: str = "sagemaker-rollout-test",
        logical_id: str = "EndpointRollout3F2A9C1B",
        resource_type: str = RESOURCE_TYPE,
        service_timeout: int | None = 3600,
        lambda_timeout: float = DEFAULT_LAMBDA_TIMEOUT,
        min_remaining_seconds: float = 5.0,
        max_real_seconds: float = 20.0,
        rule_prefix: str = "sagemaker-rollout-",
        polling_period: float = 60.0,
    ) -> None:
        self.handler = handler
        self.clock = clock
        self.aws = aws
        self.responses = responses
        self.function_name = function_name
        self.function_arn = aws.function_arn(function_name)
        self.logs = logs
        self.stack_name = stack_name
        self.stack_id = stack_id(stack_name, region=aws.region, account_id=aws.account_id)
        self.logical_id = logical_id
        self.resource_type = resource_type
        self.service_timeout = service_timeout
        self.lambda_timeout = lambda_timeout
        self.min_remaining_seconds = min_remaining_seconds
        self.max_real_seconds = max_real_seconds
        self.rule_prefix = rule_prefix
        self.polling_period = polling_period
        #: CloudFormation's state of the resource.
        self.physical_id: str | None = None
        self.properties: Json | None = None  # as last applied successfully (caller's form)
        self.attempted: Json | None = None  # as last sent in a Create/Update
        #: Every request so far.
        self.history: list[Response] = []
        #: Every ResponseURL handed out (for the log assertions).
        self.response_urls: list[str] = []
        #: EventBridge / Lambda calls the function made (through the hooked clients).
        self.api_calls: list[ApiCall] = []
        self._multiple_allowed: set[str] = set()
        self._lock = threading.Lock()
        for client in (events_client, lambda_client):
            if client is not None:
                self._hook(client)

    # --- requests ----------------------------------------------------------------------------

    def create(self, properties: Mapping[str, Any], **options: Any) -> Response:
        return self.send("Create", properties, **options)

    def update(
        self,
        properties: Mapping[str, Any],
        old_properties: Mapping[str, Any] | None = None,
        *,
        physical_id: str | None = None,
        **options: Any,
    ) -> Response:
        """An Update; ``old_properties`` default to the properties last applied."""
        old = old_properties if old_properties is not None else self.properties
        if old is None:
            raise ValueError("no old properties: create first or pass old_properties")
        return self.send("Update", properties, old_properties=old,
                         physical_id=physical_id, **options)

    def rollback(self, **options: Any) -> Response:
        """The Update CloudFormation sends when a stack update fails: the previous properties
        again, with the failed ones as OldResourceProperties."""
        if self.properties is None or self.attempted is None:
            raise ValueError("nothing to roll back")
        return self.send("Update", self.properties, old_properties=self.attempted, **options)

    def delete(
        self,
        properties: Mapping[str, Any] | None = None,
        physical_id: str | None = None,
        **options: Any,
    ) -> Response:
        """A Delete; properties default to the last attempted ones, the physical id to the
        stack's."""
        props = properties if properties is not None else (self.attempted or self.properties)
        if props is None:
            raise ValueError("no properties to delete with")
        return self.send("Delete", props, physical_id=physical_id, **options)

    def send(
        self,
        request_type: RequestType,
        properties: Mapping[str, Any],
        *,
        old_properties: Mapping[str, Any] | None = None,
        physical_id: str | None = None,
        allow_multiple_responses: bool = False,
        after_each: Callable[[Invocation], None] | None = None,
    ) -> Response:
        """Send one request and drive it to its answer (see the module docstring).

        ``after_each(invocation)`` runs after every invocation, before the harness looks at its
        outcome: the place to inject a fault between two polls, or to read the emulator's
        timeline while the deployment runs."""
        self.check_history()
        if request_type != "Create":
            physical_id = physical_id if physical_id is not None else self.physical_id
            if physical_id is None:
                raise ValueError(f"{request_type} needs a physical id: none known yet")
        else:
            physical_id = None
        request_id = str(uuid.uuid4())
        url = self.responses.issue_url(self.stack_id, self.logical_id, request_id)
        self.response_urls.append(url)
        props = cfn_properties(properties, service_timeout=self.service_timeout)
        old = (cfn_properties(old_properties, service_timeout=self.service_timeout)
               if old_properties is not None else None)
        event = build_event(
            request_type, service_token=self.function_arn, response_url=url,
            stack_id=self.stack_id, request_id=request_id,
            logical_resource_id=self.logical_id, properties=props, old_properties=old,
            physical_resource_id=physical_id, resource_type=self.resource_type,
        )
        now = self.clock.now()
        timeout = int(props.get("ServiceTimeout", 3600))
        run = _Run(request_type, event, now, now + timeout,
                   self.aws.polling_state(self.function_name))
        calls_before = len(self.api_calls)
        response = self._drive(run, allow_multiple_responses, after_each)
        with self._lock:
            calls = tuple(self.api_calls[calls_before:])
        response = dataclasses.replace(response, api_calls=calls)
        self._remember(response, properties, allow_multiple_responses)
        return response

    def check_history(self) -> None:
        """No late answer arrived for an earlier request (a stale poll answering again)."""
        for response in self.history:
            if response.request_id in self._multiple_allowed:
                continue
            puts = self.responses.puts(response.request_id)
            if len(puts) != 1:
                statuses = [p.body.get("Status") if p.body else None for p in puts]
                raise HarnessViolation(
                    f"{len(puts)} answers to the {response.request_type} request "
                    f"{response.request_id} ({statuses}); the later ones arrived at "
                    f"{[round(p.arrived_at - response.sent_at, 1) for p in puts[1:]]} s")

    # --- one request, to its answer ----------------------------------------------------------

    def _drive(self, run: _Run, allow_multiple: bool,
               after_each: Callable[[Invocation], None] | None) -> Response:
        delivery: Json = copy.deepcopy(run.event)
        kind: Literal["request", "poll"] = "request"
        rule: PollingRule | None = None
        next_firing = 0.0
        while True:
            invocation = self.invoke(delivery, kind, run=run)
            if after_each is not None:
                after_each(invocation)
            puts = self.responses.puts(str(run.event["RequestId"]))
            state = self.aws.polling_state(self.function_name)
            if puts:
                return self._answered(run, puts, state, allow_multiple)
            rule_state = self._request_rule(run, state)
            if rule is None or rule.name != rule_state.name:
                rule = PollingRule(rule_state.name, rule_state.arn,
                                   self._created_at(rule_state, invocation),
                                   len(run.invocations) - 1)
                run.rules.append(rule)
                next_firing = rule.created_at + self.polling_period
            self._check_rule(run, rule_state, state)
            if invocation.ended_at > next_firing:
                self._fail(run, f"invocation #{len(run.invocations) - 1} ended at "
                           f"t+{invocation.ended_at - run.sent_at:.1f}, after the polling rule's "
                           f"next firing at t+{next_firing - run.sent_at:.1f}: EventBridge would "
                           "start a concurrent invocation of the same request")
            if next_firing > run.deadline:
                self._fail(run, "no answer before StackTime + ServiceTimeout "
                           f"(t+{run.deadline - run.sent_at:.0f}): CloudFormation gives up; the "
                           f"polling rule {rule.name} is still there")
            self.clock.advance(next_firing - self.clock.now())
            next_firing += self.polling_period
            delivery = json.loads(rule_state.targets[0]["Input"])
            kind = "poll"

    def invoke(self, event: Json, kind: Literal["request", "poll"] = "request", *,
               run: _Run | None = None) -> Invocation:
        """One Lambda invocation with ``event`` at the current virtual time (in a worker thread,
        so a hung handler fails the test instead of hanging it)."""
        started = self.clock.now()
        context = LambdaContext(self.clock, self.function_name, self.function_arn, started,
                                timeout=self.lambda_timeout)
        outcome: dict[str, Any] = {}

        def body() -> None:
            try:
                with preserved_logging():
                    if self.logs is not None:
                        with self.logs.capturing():
                            self.handler(copy.deepcopy(event), context)
                    else:
                        self.handler(copy.deepcopy(event), context)
            except BaseException as exc:
                outcome["error"] = exc
                outcome["traceback"] = traceback.format_exc()

        real_start = time.monotonic()
        worker = threading.Thread(target=body, name=f"lambda-{context.aws_request_id[:8]}",
                                  daemon=True)
        worker.start()
        worker.join(self.max_real_seconds)
        real_seconds = time.monotonic() - real_start
        invocation = Invocation(kind, started, self.clock.now(),
                                context.get_remaining_time_in_millis(), real_seconds,
                                context.aws_request_id, copy.deepcopy(event))
        run = run or _Run(event["RequestType"], event, started, started, PollingState((), ()))
        run.invocations.append(invocation)
        index = len(run.invocations) - 1
        if worker.is_alive():
            self._fail(run, f"invocation #{index} still running after {self.max_real_seconds}s "
                       f"of real time (virtual time t+{self.clock.now() - run.sent_at:.0f}): "
                       "hung, or sleeping for real")
        if "error" in outcome:
            self._fail(run, f"invocation #{index} raised out of the Lambda entry point (Lambda "
                       f"would retry the event):\n{outcome['traceback']}")
        left = invocation.remaining_ms / 1000
        if left < self.min_remaining_seconds:
            beyond = left <= CRHELPER_TIMER_MARGIN
            self._fail(run, f"invocation #{index} ended with {left:.1f}s of its "
                       f"{self.lambda_timeout:.0f}s Lambda time left (minimum "
                       f"{self.min_remaining_seconds}s)"
                       + (": crhelper's timer would have sent FAILED 'Execution timed out'"
                          if beyond else ""))
        return invocation

    # --- checks --------------------------------------------------------------------------------

    def _request_rule(self, run: _Run, state: PollingState) -> RuleState:
        new = [r for r in state.rules if run.baseline.rule(r.name) is None]
        index = len(run.invocations) - 1
        if not new:
            self._fail(run, f"invocation #{index} returned without answering and left no polling "
                       "rule: nothing will invoke the function again, CloudFormation waits "
                       f"until its ServiceTimeout ({state.describe()})")
        if len(new) > 1:
            self._fail(run, f"more than one polling rule for one request: {state.describe()}")
        return new[0]

    def _check_rule(self, run: _Run, rule: RuleState, state: PollingState) -> None:
        problems: list[str] = []
        if not rule.name.startswith(self.rule_prefix):
            problems.append(f"name {rule.name!r} does not start with {self.rule_prefix!r}")
        if len(rule.name) > 64:
            problems.append(f"name {rule.name!r} is longer than 64 characters")
        if rule.schedule != "rate(1 minute)":
            problems.append(f"schedule {rule.schedule!r} is not 'rate(1 minute)'")
        if rule.state != "ENABLED":
            problems.append(f"state {rule.state!r}")
        if len(rule.targets) != 1:
            problems.append(f"{len(rule.targets)} targets")
        else:
            target = rule.targets[0]
            if target.get("Arn") != self.function_arn:
                problems.append(f"target {target.get('Arn')!r} is not {self.function_arn!r}")
            raw = target.get("Input")
            if not isinstance(raw, str):
                problems.append("target has no Input")
            else:
                if len(raw) > TARGET_INPUT_LIMIT:
                    problems.append(f"target Input of {len(raw)} characters (EventBridge allows "
                                    f"{TARGET_INPUT_LIMIT})")
                try:
                    delivered = json.loads(raw)
                except ValueError:
                    problems.append("target Input is not JSON")
                else:
                    if delivered.get("RequestId") != run.event["RequestId"]:
                        problems.append("target Input is not this request's event")
        grants = [s for s in state.statements_for(rule.arn)
                  if s.get("Principal", {}).get("Service") == "events.amazonaws.com"
                  and s.get("Action") == "lambda:InvokeFunction"]
        if len(grants) != 1:
            problems.append(f"{len(grants)} Lambda permission(s) for events.amazonaws.com from "
                            "the rule (want 1)")
        if problems:
            self._fail(run, f"polling rule {rule.name}: " + "; ".join(problems))

    def _answered(self, run: _Run, puts: list[RecordedPut], state: PollingState,
                  allow_multiple: bool) -> Response:
        last = run.invocations[-1]
        first = puts[0]
        problems: list[str] = []
        if len(puts) > 1 and not allow_multiple:
            statuses = [p.body.get("Status") if p.body else None for p in puts]
            problems.append(f"{len(puts)} answers to one request ({statuses})")
        for put in puts:
            problems.extend(self._check_put(run, put))
        if not last.started_at <= first.arrived_at <= last.ended_at:
            problems.append("the answer arrived outside the invocation that sent it")
        leftovers = _leftovers(run.baseline, state)
        if leftovers:
            problems.append(f"after the answer, left in moto: {leftovers}")
        if problems:
            self._fail(run, "; ".join(problems))
        body = first.body or {}
        return Response(
            request_type=run.request_type, request_id=str(run.event["RequestId"]),
            event=run.event, status=str(body.get("Status")), reason=str(body.get("Reason", "")),
            physical_resource_id=str(body.get("PhysicalResourceId")),
            data=dict(body.get("Data") or {}), no_echo=bool(body.get("NoEcho", False)),
            body=body, size=first.size, sent_at=run.sent_at, arrived_at=first.arrived_at,
            deadline=run.deadline, invocations=tuple(run.invocations), rules=tuple(run.rules),
            puts=tuple(puts),
        )

    def _check_put(self, run: _Run, put: RecordedPut) -> list[str]:
        problems: list[str] = []
        if not put.issued:
            problems.append(f"answer PUT to an URL that was never issued ({put.target[:60]}...)")
        if put.headers.get("content-type", ""):
            problems.append(f"answer sent with Content-Type {put.headers['content-type']!r}: the "
                            "presigned URL signs none, S3 would refuse it")
        if put.size > RESPONSE_LIMIT:
            problems.append(f"answer of {put.size} bytes (limit {RESPONSE_LIMIT})")
        if put.arrived_at > run.deadline:
            problems.append(f"answer at t+{put.arrived_at - run.sent_at:.0f}, after "
                            f"StackTime + ServiceTimeout (t+{run.deadline - run.sent_at:.0f})")
        body = put.body
        if body is None:
            return [*problems, f"answer is not a JSON object: {put.raw[:200]!r}"]
        if body.get("Status") not in ("SUCCESS", "FAILED"):
            problems.append(f"Status {body.get('Status')!r}")
        for key in ("StackId", "RequestId", "LogicalResourceId"):
            if body.get(key) != run.event[key]:
                problems.append(f"{key} {body.get(key)!r} is not the request's")
        physical = body.get("PhysicalResourceId")
        if not isinstance(physical, str) or not physical or physical == "None":
            problems.append(f"PhysicalResourceId {physical!r}")
        elif len(physical.encode()) > PHYSICAL_ID_LIMIT:
            problems.append(f"PhysicalResourceId of {len(physical.encode())} bytes")
        if body.get("Status") == "FAILED" and not body.get("Reason"):
            problems.append("FAILED without a Reason")
        if not isinstance(body.get("Data", {}), dict):
            problems.append(f"Data {body.get('Data')!r} is not an object")
        return problems

    def _fail(self, run: _Run, message: str) -> Any:
        raise HarnessViolation(f"{message}\n{run.story()}")

    def _created_at(self, rule: RuleState, invocation: Invocation) -> float:
        with self._lock:
            times = [c.time for c in self.api_calls
                     if c.operation == "PutRule" and c.params.get("Name") == rule.name]
        return times[-1] if times else invocation.ended_at

    def _remember(self, response: Response, properties: Mapping[str, Any],
                  allow_multiple: bool) -> None:
        self.history.append(response)
        if allow_multiple:
            self._multiple_allowed.add(response.request_id)
        kind = response.request_type
        if kind in ("Create", "Update"):
            self.attempted = dict(properties)
        if kind == "Create" or (response.succeeded and kind == "Update"):
            # A failed Create still leaves a physical id: CloudFormation's Delete carries it.
            self.physical_id = response.physical_resource_id
        if response.succeeded and kind in ("Create", "Update"):
            self.properties = dict(properties)
        if response.succeeded and kind == "Delete":
            self.physical_id = None
            self.properties = None

    def _hook(self, client: Any) -> None:
        service = client.meta.service_model.service_id.hyphenize()

        def record(params: Json, model: Any, **_: Any) -> None:
            with self._lock:
                self.api_calls.append(ApiCall(self.clock.now(), service, model.name,
                                              copy.deepcopy(params)))

        client.meta.events.register(f"provide-client-params.{service}", record)


def _leftovers(baseline: PollingState, state: PollingState) -> str:
    rules = [f"rule {r.name} ({len(r.targets)} target(s))" for r in state.rules
             if baseline.rule(r.name) is None]
    rules += [f"targets of rule {r.name}" for r in state.rules
              if (old := baseline.rule(r.name)) is not None and old.targets != r.targets]
    sids = {s.get("Sid") for s in baseline.statements}
    grants = [f"permission {s.get('Sid')}" for s in state.statements if s.get("Sid") not in sids]
    return ", ".join(rules + grants)
