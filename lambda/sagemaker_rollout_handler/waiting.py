"""One invocation of a request: its start, or a wake of its wait. The crhelper function.

- ``start`` (CloudFormation's request): look, act, and answer at once when nothing is left to
  wait for; else arm the request's schedule (``wakes``) with its state and stay silent.
- ``resume`` (a wake: the request's schedule fired, or a SageMaker event about its endpoint):
  read the truth (DescribeEndpoint), act, and either answer (only after winning the answer lock,
  DeleteSchedule) or store the new state and the next wake (UpdateSchedule).

What to do is `rollout.run` (which calls `decisions.decide`); when to look and wake is
`schedule`; the state is `state.WaitState`; what the request's event says (its first state, its
plan, its owner) is `request_event`. crhelper sends whatever this function returns or
raises, unless it set ``resource.silent``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from . import handoff, recreation
from .clock import Clock
from .contract import WAIT_HANDLE_PROPERTY, WAKE_INPUT_LIMIT
from .decisions import Observation
from .handoff import Handoffs, handoff_schedule_name
from .properties import PropertyError, RolloutRequest, parse_request
from .request_event import (
    initial_state,
    make_plan,
    minimal_request,
    nothing_to_delete,
    owner_of,
    physical_id_on_failure,
    stray_of,
)
from .resource import RolloutResource
from .rollout import Done, Failed, Outcome, Pending, Watch, run
from .sagemaker import SageMakerError
from .schedule import (
    POLL_INTERVAL,
    UNANNOUNCED_GRACE,
    events_lost,
    next_safety_wake,
    plan_wake,
)
from .state import WaitState, carried_request, fingerprint, read_payload, wake_payload
from .wakes import Wakes, schedule_name

__all__ = [
    "LAMBDA_RESERVE",
    "RECREATION_ALLOWANCE",
    "RolloutFailure",
    "Waiter",
    "Wake",
    "event_time",
    "owner_of",
    "stray_of",
]

logger = logging.getLogger(__name__)

#: Seconds of Lambda time always left unused (botocore retries, the response PUT).
LAMBDA_RESERVE = 30.0


class RolloutFailure(Exception):
    """The request failed; str() is the reason CloudFormation shows."""


@dataclass(frozen=True)
class Wake:
    """Why an invocation resumes a waiting request."""

    name: str
    state: WaitState
    #: The schedule's current wake time (kept by an event's wake).
    wake_at: float
    #: The SageMaker event's time (epoch seconds), None for the schedule's own wake.
    event_time: float | None = None


class Waiter:
    """The function crhelper calls for Create, Update and Delete."""

    def __init__(self, resource: RolloutResource, endpoints: Any, wakes: Any, clock: Clock,
                 response_margin: float) -> None:
        self.resource = resource
        self._endpoints = endpoints
        self._wakes = wakes
        self.clock = clock
        self.response_margin = response_margin
        #: Set by the entry point before crhelper runs a wake.
        self.wake: Wake | None = None
        self.handoffs = Handoffs(endpoints, wakes, clock)

    def __call__(self, event: dict[str, Any], context: Any) -> str | None:
        self._lambda_end = self.clock.now() + (
            context.get_remaining_time_in_millis() / 1000 - LAMBDA_RESERVE)
        wake, self.wake = self.wake, None
        if wake is not None:
            return self.resume(event, wake)
        return self.start(event)

    # -- the request's first invocation ------------------------------------------------------

    def start(self, event: dict[str, Any]) -> str | None:
        kind = event["RequestType"]
        physical_id = physical_id_on_failure(event)
        request = self._request(event, physical_id)
        if request is None:
            return physical_id
        now = self.clock.now()
        state = self._initial(event, request, now)
        name = schedule_name(state.target_id, owner_of(event), str(event.get("RequestId", "")))
        wakes: Wakes = self._wakes()
        if wakes.read(name) is not None:
            logger.info({"message": "request delivered again while it waits; nothing to do"})
            self.resource.silent = True
            return None
        if state.handoff and wakes.read(self._handoff_name(event, state)) is not None:
            logger.info({"message": "request delivered again after its handoff; SUCCESS"})
            return state.target_id
        plan = make_plan(event, request, state, recreate=_may_recreate(event, state))
        outcome = run(plan, state.progress, self._endpoints(), self.clock, Watch(now, now),
                      first=True)
        made = getattr(outcome, "progress", None)
        if kind == "Create" and made is not None and made.created:
            self.resource.made_endpoint = state.target_id
        self._sync_tags(event, request, state, outcome)
        if handoff.answers_now(state, outcome):
            assert isinstance(outcome, Done | Pending)
            return self._hand_off(event, request, state, outcome)
        if isinstance(outcome, Pending):
            return self._start_waiting(event, state, outcome, name, wakes)
        return self._finish(event, state, outcome)

    def _start_waiting(self, event: dict[str, Any], state: WaitState, outcome: Pending,
                       name: str, wakes: Wakes) -> str | None:
        """Arm the request's schedule with its state, and stay silent."""
        state = replace(state, progress=outcome.progress).seen(
            outcome.observed, self.clock.now(), looked=outcome.looked)
        carried = carried_request(event, keep_tags=recreation.deleting(state.progress))
        payload = wake_payload(state, carried)
        if len(payload) > WAKE_INPUT_LIMIT:
            self._fail(event, state, _too_large(event, len(payload)))
        deleting = _deleting(event, state)
        when = next_safety_wake(state, self.clock.now(), deleting=deleting)
        if outcome.recheck_at is not None:
            when = min(when, max(outcome.recheck_at, self.clock.now() + 1.0))
        if not wakes.arm(name, when, payload):
            logger.info({"message": "another delivery of this request armed its wait"})
            return self._silent("request delivered again")
        if _deleting_now(outcome.observed, deleting):
            return self._wait_on(carried, Wake(name, state, when), state, outcome, when)
        self.resource.silent = True
        logger.info({"message": "waiting", "endpoint": state.target_id, "why": outcome.why})
        return None

    def _initial(self, event: dict[str, Any], request: RolloutRequest, now: float) -> WaitState:
        """The request's first state; in the WaitCondition mode its kind of handoff (a rollback
        first takes over the wait of the deployment it undoes)."""
        state = initial_state(event, request, now, self.response_margin)
        refusal = handoff.same_handle_refusal(event, request)
        if refusal is not None:
            self._fail(event, state, refusal)
        old = event.get("OldResourceProperties") or {}
        if not (request.wait_handle or old.get(WAIT_HANDLE_PROPERTY)):
            return state
        kind = handoff.kind(event, request, self._endpoints().config_created)
        if kind == handoff.ROLLBACK:
            self.handoffs.take_over(event, state, owner_of(event))
        return handoff.initial(state, event, request, kind)

    def _handoff_name(self, event: dict[str, Any], state: WaitState) -> str:
        return handoff_schedule_name(state.target_id, owner_of(event),
                                     str(event.get("RequestId", "")))

    def _hand_off(self, event: dict[str, Any], request: RolloutRequest, state: WaitState,
                  outcome: Done | Pending) -> str:
        """Answer CloudFormation SUCCESS now; the wait goes on under its handed-off schedule."""
        self.handoffs.hand_off(event, state, outcome, self._handoff_name(event, state))
        observed = outcome.observed if isinstance(outcome, Pending) else None
        attributes = outcome.attributes if isinstance(outcome, Done) else {
            "EndpointName": state.target_id,
            "EndpointArn": observed.endpoint_arn if observed is not None else "",
        }
        self.resource.Data.update({**attributes,
                                   "EndpointConfigName": request.endpoint_config_name})
        return state.target_id

    def _request(self, event: dict[str, Any], physical_id: str) -> RolloutRequest | None:
        properties = event.get("ResourceProperties", {})
        if event["RequestType"] == "Delete" and nothing_to_delete(event, properties):
            return None
        try:
            return parse_request(properties, stack_id=str(event.get("StackId", "")))
        except PropertyError as error:
            if event["RequestType"] != "Delete":
                self.resource.PhysicalResourceId = physical_id
                raise RolloutFailure(f"{event['LogicalResourceId']}: invalid properties, "
                                     f"nothing was changed. {error}") from None
            # A Delete needs only the physical id: properties that never deployed (a Create
            # that failed on them) must not make the stack's rollback fail.
            return minimal_request(physical_id)

    def _sync_tags(self, event: dict[str, Any], request: RolloutRequest, state: WaitState,
                   outcome: Outcome) -> None:
        """The stack's tags follow the properties in the first invocation (issue 17.1: nothing
        of the old properties travels with a wait). An adopted endpoint gets them too (17.8)."""
        arn = _arn_of(outcome)
        if not arn or isinstance(outcome, Failed) or (
                isinstance(outcome, Pending) and recreation.deleting(outcome.progress)):
            # A Failed endpoint being replaced gets the tags with its CreateEndpoint.
            return
        kind = event["RequestType"]
        before: dict[str, str] | None = None
        if kind == "Update" and not state.creates:
            old = event.get("OldResourceProperties", {}).get("Tags") or []
            before = {str(tag.get("Key")): str(tag.get("Value", "")) for tag in old}
        elif kind == "Create" and request.adopt_existing:
            before = {}
        if before is None or before == request.tags:
            return
        try:
            self._endpoints().sync_tags(arn, before, request.tags)
        except SageMakerError as error:
            self._fail(event, state, (
                f'Endpoint "{state.target_id}": the stack\'s tags could not be applied. '
                f'SageMaker said: {error.code}: "{error.message}". Fix the Tags property and '
                "deploy again."))

    # -- a wake ------------------------------------------------------------------------------

    def resume(self, event: dict[str, Any], wake: Wake) -> str | None:
        state = wake.state
        request = self._request(event, physical_id_on_failure(event))
        if request is None:  # pragma: no cover - a Delete with nothing to delete never waits
            return physical_id_on_failure(event)
        # A recreation under way carries its tags (``carried_request``); another wake does not,
        # so it cannot recreate.
        plan = make_plan(event, request, state, recreate=state.progress.was_failed is not None)
        wakes: Wakes = self._wakes()
        deleting = _deleting(event, state)
        if wake.event_time is not None:
            state = replace(state, events_seen=state.events_seen + 1, degraded=False,
                            unannounced_at=None)
            if wake.event_time + 1 <= state.looked_at:
                # About a change our last look already saw (a duplicate, or a late event: it
                # announces what a scheduled look saw first).
                if state.events_seen == 1 or wake.state.unannounced_at is not None:
                    wakes.rearm(wake.name, wake.wake_at, wake_payload(state, event))
                self.resource.silent = True
                return None
            watch, wake_at = Watch(self.clock.now(), self.clock.now()), wake.wake_at
        else:
            step = plan_wake(state, self.clock.now(), deleting=deleting,
                             budget_end=self._lambda_end)
            watch = Watch(step.first_look, step.watch_until, POLL_INTERVAL)
            wake_at = step.wake_at
            if state.degraded:
                # Arm the successor first: it takes over where this watch ends.
                state = replace(state, watch_until=step.watch_until)
                if not wakes.rearm(wake.name, wake_at, wake_payload(state, event)):
                    return self._silent("answered by another invocation")
        outcome = run(plan, state.progress, self._endpoints(), self.clock, watch)
        return self._after_look(event, request, wake, state, outcome, wake_at)

    def _after_look(self, event: dict[str, Any], request: RolloutRequest, wake: Wake,
                    state: WaitState, outcome: Outcome, wake_at: float) -> str | None:
        """A wake's outcome: hand off, wait on, or (after winning the lock) answer or signal."""
        wakes: Wakes = self._wakes()
        if handoff.answers_now(state, outcome):
            assert isinstance(outcome, Done | Pending)
            if not wakes.claim(wake.name):
                return self._silent("another invocation answered this request")
            return self._hand_off(event, request, state, outcome)
        if isinstance(outcome, Pending):
            return self._wait_on(event, wake, state, outcome, wake_at)
        if not wakes.claim(wake.name):
            return self._silent("another invocation answered this request")
        if state.answered:
            self.handoffs.end(event, replace(state, progress=getattr(outcome, "progress",
                                                                      state.progress)), outcome,
                              wake.name, request.endpoint_config_name)
            return self._silent("the handed-off wait ended")
        return self._finish(event, state, outcome)

    def _wait_on(self, event: dict[str, Any], wake: Wake, state: WaitState, outcome: Pending,
                 wake_at: float) -> str | None:
        now = self.clock.now()
        changed = (outcome.looked and bool(state.last_seen)
                   and fingerprint(outcome.observed) != state.last_seen)
        if state.degraded and wake.event_time is None and self._superseded(wake, state):
            return self._silent("the next watch took over")
        lost = events_lost(state, now, by_event=wake.event_time is not None)
        state = replace(state, progress=outcome.progress).seen(outcome.observed, now,
                                                              looked=outcome.looked)
        deleting = _deleting(event, state)
        if _deleting_now(outcome.observed, deleting) and not state.degraded:
            # SageMaker announces no event when an endpoint is finally gone, and deleting takes
            # a minute or two: watch it.
            lost = True
        if lost and not state.degraded:
            # Events are not arriving: watch like a poller from now on, starting here.
            logger.info({"message": "no SageMaker event announced what was seen; polling",
                         "endpoint": state.target_id})
            state = replace(state, degraded=True, watch_until=now + POLL_INTERVAL,
                            unannounced_at=None)
            return self.resume(event, replace(wake, state=state))
        if wake.event_time is None and not state.degraded:
            wake_at = next_safety_wake(state, now, deleting=deleting)
            if changed:
                # Its event may still be on its way: look again soon, and call events lost
                # only if none has come by then.
                state = replace(state, unannounced_at=now)
                wake_at = min(wake_at, now + UNANNOUNCED_GRACE)
        if outcome.recheck_at is not None and not state.degraded:
            wake_at = min(wake_at, max(outcome.recheck_at, now + 1.0))
        if not self._wakes().rearm(wake.name, wake_at, wake_payload(state, event)):
            return self._silent("answered by another invocation")
        logger.info({"message": "still waiting", "endpoint": state.target_id,
                     "why": outcome.why})
        self.resource.silent = True
        return None

    def _superseded(self, wake: Wake, state: WaitState) -> bool:
        """Whether the successor of this watch has already armed its own: then this watch's
        state is not written back (it would move the wake into the past)."""
        found = self._wakes().read(wake.name)
        if found is None:
            return False
        current, _ = read_payload(found[0])
        return current.watch_until > state.watch_until

    def _silent(self, why: str) -> str | None:
        logger.info({"message": f"{why}; silent"})
        self.resource.silent = True
        return None

    # -- the answer --------------------------------------------------------------------------

    def _finish(self, event: dict[str, Any], state: WaitState, outcome: Outcome) -> str:
        if isinstance(outcome, Failed):
            self._fail(event, replace(state, progress=outcome.progress), outcome.reason)
        assert isinstance(outcome, Done)
        self.handoffs.retire(state, None)
        self.resource.Data.update(outcome.attributes)
        if outcome.note:
            logger.info({"message": "recreated a Failed endpoint", "endpoint": state.target_id,
                         "note": outcome.note})
            self.resource.Reason = outcome.note
        return state.target_id

    def _fail(self, event: dict[str, Any], state: WaitState, reason: str) -> None:
        """Answer FAILED with the physical id of what was really done (issue 17.3): a Create
        that made the endpoint answers with its name, so that CloudFormation's Delete removes
        it; one that made nothing (or adopted an endpoint) answers with the marker."""
        made = event["RequestType"] == "Create" and state.progress.created
        self.resource.PhysicalResourceId = (
            state.target_id if made else physical_id_on_failure(event))
        raise RolloutFailure(reason)


def _deleting(event: dict[str, Any], state: WaitState) -> bool:
    """The request waits for its endpoint to be gone: a Delete, or a Failed endpoint replaced."""
    return event["RequestType"] == "Delete" or recreation.deleting(state.progress)


def _may_recreate(event: dict[str, Any], state: WaitState) -> bool:
    """An in-place Update (same physical id) may replace a Failed endpoint when its tags can
    travel with the wait (the CreateEndpoint comes in a later wake)."""
    if event["RequestType"] != "Update" or state.target_id != event.get("PhysicalResourceId"):
        return False
    with_tags = wake_payload(state, carried_request(event, keep_tags=True))
    return len(with_tags) + RECREATION_ALLOWANCE <= WAKE_INPUT_LIMIT


#: What a recreation's state adds to a wake at most (SageMaker's reason, the last read).
RECREATION_ALLOWANCE = 1024


def _deleting_now(observed: Observation | None, deleting: bool) -> bool:
    return deleting and observed is not None and observed.status == "Deleting"


def _arn_of(outcome: Outcome) -> str:
    if isinstance(outcome, Done):
        return outcome.attributes.get("EndpointArn", "")
    observed: Observation | None = getattr(outcome, "observed", None)
    return observed.endpoint_arn if observed is not None else ""


def _too_large(event: dict[str, Any], size: int) -> str:
    return (f"{event.get('LogicalResourceId')}: the request is too large to wait for: its "
            f"state would be {size} characters and a wake carries at most {WAKE_INPUT_LIMIT}. "
            "Reduce the resource's properties (fewer or shorter rollback alarm names).")


def event_time(event: dict[str, Any]) -> float:
    """An EventBridge event's ``time`` (``2026-01-01T00:00:00Z``) in epoch seconds."""
    moment = datetime.strptime(str(event["time"]), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    return moment.timestamp()
