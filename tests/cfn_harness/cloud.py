"""What wakes the provider function, on virtual time: Lambda, EventBridge Scheduler and the bus.

:class:`Cloud` is the harness's event loop. Every invocation of the provider function comes
from one of three sources, each delivered at its virtual time, each in its own thread (a Lambda
"container"), so invocations that AWS would run at the same time run at the same time:

* CloudFormation's requests (:class:`~cfn_harness.driver.CloudFormationStack` sends them);
* EventBridge Scheduler one-time schedules (moto holds them; the harness sees the function's
  CreateSchedule / UpdateSchedule / DeleteSchedule through hooks on its client): ``at(T)`` fires
  at a seeded-random moment in [T, T + 60) ("All schedule types ... invoke their targets with 60
  second precision", Scheduler user guide; waiting-at-scale.md) with the schedule's CURRENT
  Target.Input, if it still exists then. *Unverified*, modelled: a fired schedule with
  ActionAfterCompletion NONE stays, and UpdateSchedule re-arms it.
* SageMaker's events (``sagemaker_emulator.events``), matched against the rules on the default
  bus that target the function (moto's TestEventPattern), delivered when the emulator says.

Time moves only when every running invocation sleeps (``VirtualClock.settle``): to the next
delivery, or to the next moment a sleeping invocation wakes.
"""

from __future__ import annotations

import copy
import json
import random
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from .context import DEFAULT_LAMBDA_TIMEOUT, LambdaContext
from .events import Json
from .moto_aws import MotoAws
from .sleeps import preserved_logging

Handler = Callable[[Json, Any], Any]
Kind = Literal["request", "schedule", "event", "direct"]
#: Scheduler's precision (Scheduler user guide).
SCHEDULER_PRECISION = 60.0


class EventSource(Protocol):
    """Structurally ``sagemaker_emulator.SageMakerEmulator``: its published events."""

    def collect_events(self) -> list[Any]: ...

    def next_change_after(self, t: float) -> float | None: ...


class ClockLike(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...

    def advance(self, seconds: float) -> float: ...

    def advance_to(self, when: float) -> float: ...

    def settle(self, timeout: float = 30.0) -> bool: ...

    def next_wake(self) -> float | None: ...

    def expect_joiner(self) -> None: ...

    def join(self) -> None: ...

    def leave(self) -> None: ...


@dataclass(frozen=True)
class Invocation:
    """One Lambda invocation of the provider."""

    kind: Kind
    started_at: float  # virtual
    ended_at: float  # virtual
    remaining_ms: int  # Lambda time left at the end
    real_seconds: float
    aws_request_id: str
    event: Json  # as delivered
    error: str | None = None  # a traceback, if something escaped the entry point

    @property
    def duration(self) -> float:
        return self.ended_at - self.started_at


@dataclass
class _Firing:
    name: str
    fire_at: float
    request_id: str
    version: int


@dataclass(order=True)
class _Delivery:
    at: float
    seq: int
    kind: Kind = field(compare=False)
    event: Json = field(compare=False)


@dataclass
class _Running:
    thread: threading.Thread
    context: LambdaContext
    kind: Kind
    event: Json
    real_start: float
    outcome: dict[str, Any]


class Cloud:
    """The event loop (see the module docstring). One per test, shared by its stacks."""

    def __init__(self, clock: ClockLike, aws: MotoAws, function_name: str, *, seed: int = 0,
                 lambda_timeout: float = DEFAULT_LAMBDA_TIMEOUT) -> None:
        self.clock = clock
        self.aws = aws
        self.function_name = function_name
        self.function_arn = aws.function_arn(function_name)
        self.lambda_timeout = lambda_timeout
        self.rng = random.Random(f"cloud-{seed}")
        self.sagemaker: EventSource | None = None
        self.invocations: list[Invocation] = []
        #: Every schedule the function created: name -> RequestId of the request it waits for.
        self.schedule_requests: dict[str, str] = {}
        self._firings: dict[str, _Firing] = {}
        self._queue: list[_Delivery] = []
        self._seq = 0
        self._published = 0
        self._lock = threading.Lock()
        self._running: list[_Running] = []
        self._factory: Callable[[], Handler] | None = None
        self._idle: list[Handler] = []
        self.max_real_seconds = 60.0
        #: Calls the function made through the hooked clients (EventBridge, Lambda, Scheduler).
        self.api_calls: list[Any] = []
        self._recorded: set[int] = set()
        #: Drop (or transform) a delivery before it reaches the function: returns None to drop.
        self.intercept: Callable[[Kind, Json], Json | None] | None = None

    # --- wiring --------------------------------------------------------------------------------

    def connect(self, source: EventSource) -> None:
        self.sagemaker = source

    def serve(self, factory: Callable[[], Handler]) -> None:
        """The function: ``factory()`` builds one container (a handler); idle ones are reused."""
        self._factory = factory
        self._idle = []

    def record_calls(self, client: Any) -> None:
        """Record every call made through ``client`` (once, however many stacks share it)."""
        if id(client) in self._recorded:
            return
        self._recorded.add(id(client))
        from .driver import ApiCall

        service = client.meta.service_model.service_id.hyphenize()

        def record(params: Json, model: Any, **_: Any) -> None:
            with self._lock:
                self.api_calls.append(ApiCall(self.clock.now(), service, model.name,
                                              copy.deepcopy(params)))

        client.meta.events.register(f"provide-client-params.{service}", record)

    def hook_scheduler(self, client: Any) -> None:
        """See the function's schedule calls (to fire them as Scheduler would)."""
        def remember(params: Json, context: Json, **_: Any) -> None:
            context["harness_params"] = copy.deepcopy(params)

        def done(http_response: Any, parsed: Json, model: Any, context: Json, **_: Any) -> None:
            if getattr(http_response, "status_code", 500) >= 300:
                return
            self._schedule_call(model.name, context.get("harness_params", {}))

        client.meta.events.register("provide-client-params.scheduler", remember)
        client.meta.events.register("after-call.scheduler", done)

    def _schedule_call(self, operation: str, params: Json) -> None:
        name = str(params.get("Name", ""))
        with self._lock:
            if operation == "DeleteSchedule":
                self._firings.pop(name, None)
                return
            if operation not in ("CreateSchedule", "UpdateSchedule"):
                return
            expression = str(params.get("ScheduleExpression", ""))
            when = _at(expression)
            request_id = _request_of(params.get("Target", {}).get("Input", ""))
            if operation == "CreateSchedule":
                self.schedule_requests[name] = request_id
            old = self._firings.get(name)
            delay = self.rng.uniform(0.0, SCHEDULER_PRECISION)
            fire_at = max(when, self.clock.now()) + delay
            self._firings[name] = _Firing(name, fire_at, request_id,
                                          (old.version + 1) if old else 0)

    # --- deliveries ----------------------------------------------------------------------------

    def deliver(self, kind: Kind, event: Json, at: float | None = None) -> None:
        with self._lock:
            self._seq += 1
            self._queue.append(_Delivery(self.clock.now() if at is None else at, self._seq,
                                         kind, copy.deepcopy(event)))

    def _collect_sagemaker_events(self) -> None:
        if self.sagemaker is None:
            return
        published = self.sagemaker.collect_events()
        for item in published[self._published:]:
            if self._matches(item.event):
                self.deliver("event", item.event, item.deliver_at)
        self._published = len(published)

    def _matches(self, event: Json) -> bool:
        for pattern in self.aws.function_rules(self.function_arn):
            if self.aws.matches(pattern, event):
                return True
        return False

    def _next_moment(self) -> tuple[float | None, bool]:
        """The next moment something happens, and whether it is only a SageMaker change (to be
        collected, delivering nothing yet)."""
        moments: list[float] = []
        with self._lock:
            moments += [d.at for d in self._queue]
            moments += [f.fire_at for f in self._firings.values()]
        wake = self.clock.next_wake()
        if wake is not None:
            moments.append(wake)
        change = self.sagemaker.next_change_after(self.clock.now()) if self.sagemaker else None
        if not moments and change is None:
            return None, False
        first = min(moments) if moments else None
        if change is not None and (first is None or change < first):
            return change, True
        return first, False

    def _due(self, now: float) -> list[_Delivery]:
        with self._lock:
            due = sorted(d for d in self._queue if d.at <= now)
            self._queue = [d for d in self._queue if d.at > now]
            fired = [f for f in self._firings.values() if f.fire_at <= now]
            for firing in fired:
                del self._firings[firing.name]
        for firing in sorted(fired, key=lambda f: f.fire_at):
            payload = self.aws.schedule_input(firing.name)
            if payload is not None:
                due.append(_Delivery(now, 0, "schedule", json.loads(payload)))
        return due

    # --- the loop ------------------------------------------------------------------------------

    def run(self, done: Callable[[], bool], deadline: float, story: Callable[[], str]) -> None:
        """Deliver and run invocations until ``done()`` holds and nothing runs any more."""
        while True:
            if not self.clock.settle(self.max_real_seconds):
                raise AssertionError(f"an invocation still runs after {self.max_real_seconds}s "
                                     f"of real time: hung, or sleeping for real\n{story()}")
            self._reap()
            if done() and not self._running:
                return
            self._collect_sagemaker_events()
            moment, change_only = self._next_moment()
            if moment is None:
                raise AssertionError("nothing will invoke the function again (no schedule, "
                                     f"no event, no sleeping invocation)\n{story()}")
            if moment > deadline and not self._running:
                raise AssertionError(f"no answer before StackTime + ServiceTimeout\n{story()}")
            self._check_lambda_timeouts(moment, story)
            self.clock.advance_to(moment)
            if change_only:
                continue
            for delivery in self._due(self.clock.now()):
                self._start(delivery.kind, delivery.event)

    def _check_lambda_timeouts(self, moment: float, story: Callable[[], str]) -> None:
        for running in self._running:
            if running.thread.is_alive() and moment >= running.context.deadline - 0.5:
                raise AssertionError(
                    f"an invocation ({running.kind}) started at {running.context.started_at} "
                    f"would still be running at {moment}: it runs into its "
                    f"{running.context.timeout:.0f}s Lambda timeout (crhelper's timer sends "
                    f"FAILED 0.5 s before)\n{story()}")

    def _start(self, kind: Kind, event: Json) -> None:
        if self.intercept is not None:
            changed = self.intercept(kind, event)
            if changed is None:
                return
            event = changed
        handler = self._container()
        started = self.clock.now()
        context = LambdaContext(self.clock, self.function_name, self.function_arn, started,
                                timeout=self.lambda_timeout)
        outcome: dict[str, Any] = {"handler": handler}

        def body() -> None:
            self.clock.join()
            try:
                with preserved_logging():
                    handler(copy.deepcopy(event), context)
            except BaseException as exc:
                outcome["error"] = f"{exc!r}\n{traceback.format_exc()}"
            finally:
                outcome["ended_at"] = self.clock.now()
                self.clock.leave()

        self.clock.expect_joiner()
        thread = threading.Thread(target=body, name=f"lambda-{kind}", daemon=True)
        self._running.append(_Running(thread, context, kind, event, time.monotonic(), outcome))
        thread.start()

    def _container(self) -> Handler:
        if self._idle:
            return self._idle.pop()
        if self._factory is None:
            raise AssertionError("Cloud.serve(factory) was never called")
        return self._factory()

    def _reap(self) -> None:
        still: list[_Running] = []
        for running in self._running:
            if "ended_at" in running.outcome:
                # The handler has returned and the thread left the clock: it only has to exit.
                # Waiting for it here closes a race in which a settled clock met a thread still
                # alive for a moment, and nothing else was due: "nothing will invoke the
                # function again" (a flake under load).
                running.thread.join()
            if running.thread.is_alive():
                still.append(running)
                continue
            outcome = running.outcome
            context = running.context
            self._idle.append(outcome["handler"])
            self.invocations.append(Invocation(
                running.kind, context.started_at, outcome.get("ended_at", self.clock.now()),
                context.get_remaining_time_in_millis(), time.monotonic() - running.real_start,
                context.aws_request_id, running.event, outcome.get("error")))
        self._running = still

    def pending_schedules(self) -> dict[str, float]:
        with self._lock:
            return {name: firing.fire_at for name, firing in self._firings.items()}


def _at(expression: str) -> float:
    if not expression.startswith("at("):
        raise AssertionError(f"a schedule that is not one-time: {expression!r}")
    moment = datetime.strptime(expression[3:-1], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return moment.timestamp()


def _request_of(payload: str) -> str:
    try:
        data = json.loads(payload)
    except ValueError:
        return ""
    for value in data.values():
        if isinstance(value, dict) and isinstance(value.get("request"), dict):
            return str(value["request"].get("RequestId", ""))
    return str(data.get("RequestId", ""))
