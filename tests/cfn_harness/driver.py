"""CloudFormation around the custom resource, on virtual time.

:class:`CloudFormationStack` sends one CloudFormation request (Create / Update / Delete) to the
provider and carries it through to the answer, as AWS would: the request is delivered to the
function by the harness's event loop (:mod:`cfn_harness.cloud`), which then delivers whatever the
function arranged to be woken by (its EventBridge Scheduler schedules, SageMaker's events on the
default bus), each invocation in its own thread, until the answer arrives. ``send_many`` sends
requests of several resources at once (one stack update touching many endpoints).

At every step it asserts what AWS would punish (each failure is a :class:`HarnessViolation`, an
AssertionError, with what happened so far):

* the handler never raises out of the Lambda entry point (crhelper catches everything);
* an invocation ends with at least ``min_remaining_seconds`` of Lambda time left, never runs
  into its Lambda timeout, and runs within ``max_real_seconds`` of real time (no real sleeping);
* something will wake the function while the request is unanswered;
* the answer arrives before StackTime + ServiceTimeout, at a URL that was issued, with no
  Content-Type (the presigned URL signs none), at most 4096 bytes, with the request's StackId /
  RequestId / LogicalResourceId, a PhysicalResourceId of at most 1 KB, a Reason when FAILED, and
  exactly once per RequestId (unless ``allow_multiple_responses``);
* after the answer, no schedule of the request, and no EventBridge rule, target or Lambda
  permission made while it ran, is left behind.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict, Unpack

from .cloud import Cloud, Invocation, Kind, _request_of
from .context import DEFAULT_LAMBDA_TIMEOUT, LambdaContext
from .events import RESOURCE_TYPE, Json, RequestType, build_event, cfn_properties, stack_id
from .logs import LogCapture
from .moto_aws import MotoAws, PollingState
from .response_server import RecordedPut, ResponseServer
from .sleeps import preserved_logging

Handler = Callable[[Json, Any], Any]
#: CloudFormation's limit on the response body, and on a PhysicalResourceId.
RESPONSE_LIMIT = 4096
PHYSICAL_ID_LIMIT = 1024
#: crhelper sends FAILED "Execution timed out" this long before the Lambda's end.
CRHELPER_TIMER_MARGIN = 0.5


class HarnessViolation(AssertionError):
    """The provider did something CloudFormation, Lambda or EventBridge would not accept."""


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
    #: The names of the schedules the function created for this request.
    schedules: tuple[str, ...]
    puts: tuple[RecordedPut, ...]  # every answer to this RequestId (normally one)
    api_calls: tuple[ApiCall, ...] = ()

    @property
    def succeeded(self) -> bool:
        return self.status == "SUCCESS"

    @property
    def polled(self) -> bool:
        """Whether the request waited (was not answered in its first invocation)."""
        return bool(self.schedules) or len(self.invocations) > 1

    @property
    def billed_seconds(self) -> float:
        """Lambda's bill for the request's invocations: each rounded up to 1 ms."""
        return sum(max(0.001, round(i.duration + 0.0005, 3)) for i in self.invocations)

    @property
    def elapsed(self) -> float:
        return self.arrived_at - self.sent_at

    def __str__(self) -> str:
        return (f"{self.request_type} {self.status} after {self.elapsed:.0f}s in "
                f"{len(self.invocations)} invocation(s): PhysicalResourceId="
                f"{self.physical_resource_id!r} Reason={self.reason!r} Data={self.data!r}")


@dataclass
class _Run:
    stack: CloudFormationStack
    request_type: RequestType
    event: Json
    sent_at: float
    deadline: float
    baseline: PollingState
    first_invocation: int  # index into the cloud's invocations when the request was sent
    properties: Json = field(default_factory=dict)
    allow_multiple: bool = False
    first_call: int = 0  # index into the stack's api_calls when the request was sent
    #: What reaches the function first (default: the request itself; e.g. a poll of the
    #: previous version for a wait already in flight).
    delivery: Json | None = None

    @property
    def request_id(self) -> str:
        return str(self.event["RequestId"])

    def endpoints(self) -> set[str]:
        names = {str(self.event["ResourceProperties"].get("EndpointName", "")).lower(),
                 str(self.event.get("PhysicalResourceId", "")).lower()}
        return names - {""}

    @property
    def handed_off(self) -> bool:
        """A request of the WaitCondition mode: its wait may go on after the answer, until the
        handle's signal (cfn_harness.wait_condition checks that end)."""
        from sagemaker_rollout_handler.contract import WAIT_HANDLE_PROPERTY

        return any(WAIT_HANDLE_PROPERTY in (self.event.get(key) or {})
                   for key in ("ResourceProperties", "OldResourceProperties"))

    def owns(self, invocation: Invocation) -> bool:
        """Whether ``invocation`` worked for this request (its request, its schedule, or an event
        of its endpoint while it waited)."""
        event = invocation.event
        if invocation.kind in ("request", "direct"):
            return event.get("RequestId") == self.request_id
        if invocation.kind == "schedule":
            return _request_of(json.dumps(event)) == self.request_id
        name = str(event.get("detail", {}).get("EndpointName", "")).lower()
        return name in self.endpoints()

    def story(self, cloud: Cloud) -> str:
        lines = [f"{self.request_type} {self.request_id[:8]} sent at t+0 "
                 f"(deadline t+{self.deadline - self.sent_at:.0f})"]
        mine = [i for i in cloud.invocations[self.first_invocation:] if self.owns(i)]
        for index, inv in enumerate(mine[:40]):
            lines.append(
                f"  #{index} {inv.kind}: t+{inv.started_at - self.sent_at:.1f} .. "
                f"t+{inv.ended_at - self.sent_at:.1f} ({inv.remaining_ms / 1000:.1f}s left)")
        pending = cloud.pending_schedules()
        for name, at in pending.items():
            if cloud.schedule_requests.get(name) == self.request_id:
                lines.append(f"  schedule {name} fires at t+{at - self.sent_at:.1f}")
        return "\n".join(lines)


class RequestOptions(TypedDict, total=False):
    """What a request says besides its type and properties (``CloudFormationStack.prepare``)."""

    old_properties: Mapping[str, Any] | None
    physical_id: str | None
    allow_multiple_responses: bool


class CloudFormationStack:
    """One custom resource in one stack, driven request by request.

    The stack remembers CloudFormation's state: the physical id and properties of the last
    successful Create / Update (and the properties last attempted, for :meth:`rollback`).
    """

    def __init__(
        self,
        handler: Handler,
        *,
        cloud: Cloud,
        clock: Any,
        aws: MotoAws,
        responses: ResponseServer,
        function_name: str,
        logs: LogCapture | None = None,
        stack_name: str = "sagemaker-rollout-test",
        stack_arn: str | None = None,
        logical_id: str = "EndpointRollout3F2A9C1B",
        resource_type: str = RESOURCE_TYPE,
        service_timeout: int | None = 3600,
        lambda_timeout: float = DEFAULT_LAMBDA_TIMEOUT,
        min_remaining_seconds: float = 5.0,
        max_real_seconds: float = 60.0,
        api_clients: Iterable[Any] = (),
    ) -> None:
        self.handler = handler
        self.cloud = cloud
        self.clock = clock
        self.aws = aws
        self.responses = responses
        self.function_name = function_name
        self.function_arn = aws.function_arn(function_name)
        self.logs = logs
        self.stack_name = stack_name
        self.stack_id = stack_arn or stack_id(stack_name, region=aws.region,
                                              account_id=aws.account_id)
        self.logical_id = logical_id
        self.resource_type = resource_type
        self.service_timeout = service_timeout
        self.lambda_timeout = lambda_timeout
        self.min_remaining_seconds = min_remaining_seconds
        self.max_real_seconds = max_real_seconds
        #: CloudFormation's state of the resource.
        self.physical_id: str | None = None
        self.properties: Json | None = None  # as last applied successfully (caller's form)
        self.attempted: Json | None = None  # as last sent in a Create/Update
        #: Every request so far.
        self.history: list[Response] = []
        #: Every ResponseURL handed out (for the log assertions).
        self.response_urls: list[str] = []
        self._multiple_allowed: set[str] = set()
        self._lock = threading.Lock()
        for client in api_clients:
            cloud.record_calls(client)

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
        after_each: Callable[[Invocation], None] | None = None,
        **request: Unpack[RequestOptions],
    ) -> Response:
        """Send one request (``request``: as :meth:`prepare` takes it) and drive it to its answer
        (see the module docstring).

        ``after_each(invocation)`` runs after every invocation of the request, before the
        harness looks at its outcome: the place to inject a fault between two wakes."""
        (response,) = drive([self.prepare(request_type, properties, **request)],
                            after_each=after_each)
        return response

    def prepare(
        self,
        request_type: RequestType,
        properties: Mapping[str, Any],
        *,
        old_properties: Mapping[str, Any] | None = None,
        physical_id: str | None = None,
        allow_multiple_responses: bool = False,
    ) -> _Run:
        """A request, ready to be sent (by :func:`drive`, alone or with others)."""
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
        return _Run(self, request_type, event, now, now + timeout, PollingState((), ()),
                    len(self.cloud.invocations), dict(properties), allow_multiple_responses,
                    len(self.cloud.api_calls))

    def check_history(self) -> None:
        """No late answer arrived for an earlier request (a stale wake answering again)."""
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

    def invoke(self, event: Json, kind: Kind = "direct") -> Invocation:
        """One Lambda invocation with ``event`` now, outside the event loop (a re-delivery a
        test makes by hand); its sleeps move the clock at once."""
        started = self.clock.now()
        context = LambdaContext(self.clock, self.function_name, self.function_arn, started,
                                timeout=self.lambda_timeout)
        outcome: dict[str, Any] = {}

        def body() -> None:
            try:
                with preserved_logging():
                    self.handler(copy.deepcopy(event), context)
            except BaseException as exc:
                outcome["error"] = f"{exc!r}\n{traceback.format_exc()}"

        real_start = time.monotonic()
        worker = threading.Thread(target=body, name="lambda-direct", daemon=True)
        worker.start()
        worker.join(self.max_real_seconds)
        invocation = Invocation(kind, started, self.clock.now(),
                                context.get_remaining_time_in_millis(),
                                time.monotonic() - real_start, context.aws_request_id,
                                copy.deepcopy(event), outcome.get("error"))
        if worker.is_alive():
            raise HarnessViolation(f"a direct invocation still runs after "
                                   f"{self.max_real_seconds}s of real time")
        self.check_invocation(invocation)
        self.cloud.invocations.append(invocation)
        return invocation

    def check_invocation(self, invocation: Invocation) -> None:
        if invocation.error:
            raise HarnessViolation("an invocation raised out of the Lambda entry point (Lambda "
                                   f"would retry the event):\n{invocation.error}")
        left = invocation.remaining_ms / 1000
        if left < self.min_remaining_seconds:
            beyond = left <= CRHELPER_TIMER_MARGIN
            raise HarnessViolation(
                f"an invocation ended with {left:.1f}s of its {self.lambda_timeout:.0f}s Lambda "
                f"time left (minimum {self.min_remaining_seconds}s)"
                + (": crhelper's timer would have sent FAILED 'Execution timed out'"
                   if beyond else ""))

    # --- checks --------------------------------------------------------------------------------

    def answered(self, run: _Run, state: PollingState) -> Response:
        puts = self.responses.puts(run.request_id)
        mine = tuple(i for i in self.cloud.invocations[run.first_invocation:] if run.owns(i))
        schedules = tuple(name for name, request in self.cloud.schedule_requests.items()
                          if request == run.request_id)
        problems: list[str] = []
        if len(puts) > 1 and not run.allow_multiple:
            statuses = [p.body.get("Status") if p.body else None for p in puts]
            problems.append(f"{len(puts)} answers to one request ({statuses})")
        for put in puts:
            problems.extend(self._check_put(run, put))
        left = [name for name in schedules if self.aws.schedule_input(name) is not None]
        if left and not run.handed_off:
            problems.append(f"after the answer, schedules left in Scheduler: {left}")
        leftovers = _leftovers(run.baseline, state)
        if leftovers:
            problems.append(f"after the answer, left in moto: {leftovers}")
        if problems:
            self._fail(run, "; ".join(problems))
        first = puts[0]
        body = first.body or {}
        response = Response(
            request_type=run.request_type, request_id=run.request_id,
            event=run.event, status=str(body.get("Status")), reason=str(body.get("Reason", "")),
            physical_resource_id=str(body.get("PhysicalResourceId")),
            data=dict(body.get("Data") or {}), no_echo=bool(body.get("NoEcho", False)),
            body=body, size=first.size, sent_at=run.sent_at, arrived_at=first.arrived_at,
            deadline=run.deadline, invocations=mine, schedules=schedules, puts=tuple(puts),
        )
        calls = tuple(c for c in self.cloud.api_calls[run.first_call:]
                      if c.time <= first.arrived_at)
        response = dataclasses.replace(response, api_calls=calls)
        self._remember(response, run.properties, run.allow_multiple)
        return response

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
        raise HarnessViolation(f"{message}\n{run.story(self.cloud)}")

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


def drive(runs: Sequence[_Run], *, after_each: Callable[[Invocation], None] | None = None
          ) -> list[Response]:
    """Send every request at once (as one stack update does) and drive them to their answers."""
    cloud = runs[0].stack.cloud
    stack = runs[0].stack
    baseline = stack.aws.polling_state(stack.function_name)
    for run in runs:
        run.baseline = baseline
        cloud.deliver("request", run.delivery or run.event)
    deadline = max(run.deadline for run in runs)
    seen = len(cloud.invocations)

    def done() -> bool:
        nonlocal seen
        for invocation in cloud.invocations[seen:]:
            owner = next((r for r in runs if r.owns(invocation)), runs[0])
            owner.stack.check_invocation(invocation)
            if after_each is not None and any(r.owns(invocation) for r in runs):
                after_each(invocation)
        seen = len(cloud.invocations)
        return all(run.stack.responses.puts(run.request_id) for run in runs)

    def story() -> str:
        return "\n".join(run.story(cloud) for run in runs[:5])

    logs = runs[0].stack.logs
    try:
        if logs is not None:
            with logs.capturing():
                cloud.run(done, deadline, story)
        else:
            cloud.run(done, deadline, story)
    except HarnessViolation:
        raise
    except AssertionError as error:
        raise HarnessViolation(str(error)) from None
    done()
    state = stack.aws.polling_state(stack.function_name)
    return [run.stack.answered(run, state) for run in runs]


def _leftovers(baseline: PollingState, state: PollingState) -> str:
    rules = [f"rule {r.name} ({len(r.targets)} target(s))" for r in state.rules
             if baseline.rule(r.name) is None]
    rules += [f"targets of rule {r.name}" for r in state.rules
              if (old := baseline.rule(r.name)) is not None and old.targets != r.targets]
    sids = {s.get("Sid") for s in baseline.statements}
    grants = [f"permission {s.get('Sid')}" for s in state.statements if s.get("Sid") not in sids]
    return ", ".join(rules + grants)
