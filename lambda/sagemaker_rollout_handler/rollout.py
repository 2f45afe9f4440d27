"""One invocation's work: look, decide, act, and wait in-process while the budget allows.

The loop is the only place that joins the pure decisions (`decisions`, `schedule`) to the
SageMaker calls (`sagemaker.Endpoints`) and the clock. It returns one of three outcomes; the
crhelper wiring (`resource`, `index`) turns them into a response or into another poll.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from . import leftovers, recreation
from .calls import act
from .clock import Clock
from .decisions import Call, Fail, Finish, Goal, Observation, Progress, Step, Wait, decide
from .outcomes import Done, Failed, Outcome, Pending
from .plan import CONFIG_LAG_GRACE, Plan
from .request_tag import (
    REQUEST_TAG,
    RequestTag,
    already_done,
    claim_endpoint,
    read_request_tag,
    superseded_reason,
)
from .sagemaker import Endpoints, SageMakerError

__all__ = [
    "CONFIG_LAG_GRACE",
    "REQUEST_TAG",
    "Done",
    "Failed",
    "Outcome",
    "Pending",
    "Plan",
    "RequestTag",
    "Watch",
    "run",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Watch:
    """When this invocation looks: from ``first_look`` every ``interval`` seconds while before
    ``until`` (one look when they are equal); the look at ``until`` is the successor's."""

    first_look: float
    until: float
    interval: float = 30.0


def run(
    plan: Plan,
    progress: Progress,
    endpoints: Endpoints,
    clock: Clock,
    watch: Watch,
    *,
    first: bool = False,
) -> Outcome:
    """Move the endpoint towards the goal: look (DescribeEndpoint), decide, act, as ``watch``
    says, until done, failed, or the watch is over (Pending). ``first``: the request's first
    invocation (or a re-delivery of it): look up the config and read the request tag."""
    loop = _Loop(plan, endpoints, clock, progress, first)
    try:
        outcome = loop.watch(watch)
    except SageMakerError as error:
        if error.transient and clock.now() < plan.deadline:
            # Issue 17.5: throttling, 5xx and dropped connections that outlast botocore's
            # attempts are "look again later" until the deadline.
            return Pending(loop.progress, f"SageMaker answered {error.code}; looking again",
                           loop.observed, looked=loop.looked)
        outcome = Failed(_call_failed(plan.goal, error, clock.now() >= plan.deadline),
                         loop.progress)
    return _sweep(plan, outcome, loop, clock)


def _sweep(plan: Plan, outcome: Outcome, loop: _Loop, clock: Clock) -> Outcome:
    """Issue 17.4: a failed rename removes the endpoint it created before it answers; a
    rollback after one removes what it left (``leftovers``). Neither ever fails the request."""
    if isinstance(outcome, Failed) and plan.discard_on_failure and outcome.progress.created:
        swept = _swept(plan, plan.goal.endpoint_name, loop.endpoints, plan.request_id)
        return replace(outcome, reason=f"{outcome.reason} {swept.note}".strip())
    if isinstance(outcome, Done) and plan.stray:
        swept = _swept(plan, plan.stray, loop.endpoints, None)
        now = clock.now()
        if swept.again and now + leftovers.RECHECK_SECONDS < plan.deadline:
            return Pending(loop.progress, swept.note, loop.observed,
                           recheck_at=now + leftovers.RECHECK_SECONDS)
        note = leftovers.left_behind(plan.stray, swept) if swept.again else swept.note
        return replace(outcome, note=f"{outcome.note} {note}".strip())
    return outcome


def _swept(plan: Plan, name: str, endpoints: Endpoints, request_id: str | None
           ) -> leftovers.Swept:
    """Sweep ``name`` if this resource's CreateEndpoint made it (of ``request_id``: None, any
    request of this resource)."""
    def made_here(observed: Observation) -> bool:
        tag = read_request_tag(plan, observed, endpoints)
        return (tag is not None and tag.owner == plan.owner and tag.action == "create"
                and request_id in (None, tag.request_id))

    try:
        return leftovers.sweep(name, endpoints, made_here)
    except SageMakerError as error:
        return leftovers.Swept(f'The endpoint "{name}" a failed rename created could not be '
                               f"looked at ({error.code}): check it, and delete it by hand.")


class _Loop:
    """One invocation's looks, with what it learnt so far."""

    def __init__(self, plan: Plan, endpoints: Endpoints, clock: Clock, progress: Progress,
                 first: bool) -> None:
        self.plan, self.endpoints, self.clock = plan, endpoints, clock
        self.progress = progress
        # A request that has not claimed the endpoint yet (its first invocation ended before
        # it looked: a config that read as missing) claims it at its next look.
        self.first = first or not progress.claimed
        self.observed: Observation | None = None
        self.looked = False

    def watch(self, watch: Watch) -> Outcome:
        self.clock.sleep(watch.first_look - self.clock.now())
        while True:
            exists = self._config_exists()
            outcome = exists if isinstance(exists, Pending) else self.look(exists)
            if not isinstance(outcome, Pending):
                return outcome
            now = self.clock.now()
            if now >= self.plan.deadline:
                step = Wait(outcome.why)
                return Failed(_timed_out(self.plan.goal, self.observed, step), self.progress)
            if now + watch.interval >= watch.until:
                # The next look would be at (or after) the watch's end: the successor's.
                return outcome
            self.clock.sleep(watch.interval)

    def _config_exists(self) -> bool | Pending:
        """Whether the goal's EndpointConfig exists, looked up until our call was accepted (then
        SageMaker has found it). A config CloudFormation created a moment ago may read as
        missing (the CreateEndpoint API reference recommends retrying): within
        CONFIG_LAG_GRACE of the request's start that is "look again" (Pending), not a failure."""
        goal = self.plan.goal
        if goal.config_name is None or self.progress.issued:
            return True
        if self.endpoints.config_exists(goal.config_name):
            return True
        if self.clock.now() < self.plan.started + CONFIG_LAG_GRACE:
            return Pending(self.progress, f'EndpointConfig "{goal.config_name}" is not found yet '
                           "(a read may lag its creation); looking again", self.observed,
                           recheck_at=self.clock.now() + 60.0, looked=self.looked)
        return False

    def look(self, config_exists: bool) -> Outcome:
        """Look once and act on it; an accepted call is followed by another look at once."""
        while True:
            plan, goal = self.plan, self.plan.goal
            # Before this request changed anything (and on a Delete), AccessDenied means the
            # endpoint is not there for this stack (the policy reaches only endpoints with its
            # ownership tag); after, it is a real error.
            observed = self.endpoints.describe(
                goal.endpoint_name,
                denied_means_absent=not goal.present or not self.progress.issued)
            self.observed, self.looked = observed, True
            tag: RequestTag | None = None
            if self.first and observed is not None:
                tag = read_request_tag(plan, observed, self.endpoints)
                if not goal.present and tag is not None and tag.owner != plan.owner:
                    # A Delete for an endpoint that another resource has since claimed (adopted
                    # under a new logical id, or renamed onto): it is not ours to delete.
                    logger.info({"message": "endpoint belongs to another resource; left alone",
                                 "endpoint": goal.endpoint_name})
                    return Done({})
                self.progress = already_done(plan, tag, self.progress)
            self.progress = _in_flight(goal, observed, self.progress)
            step = decide(goal, observed, self.progress, config_exists=config_exists,
                          now=self.clock.now())
            _log(goal, observed, step, self.progress)
            if self.first and observed is not None and _claims(goal, step, self.progress):
                # The tag also routes SageMaker's events about the endpoint to this request.
                claim_endpoint(plan, observed, tag, self.endpoints)
                self.progress = replace(self.progress, claimed=True)
            in_a_wake = not self.first
            self.first = False
            outcome = self._act_on(step, observed, in_a_wake)
            if outcome is not None:
                return outcome

    def _act_on(self, step: Step, observed: Observation | None, in_a_wake: bool) -> Outcome | None:
        """The outcome of ``step``; None when a call was accepted (look again at once)."""
        plan = self.plan
        if in_a_wake and isinstance(step, Call) and step.action != "delete":
            superseded = superseded_reason(plan, observed, self.endpoints)
            if superseded:
                return Failed(superseded, self.progress)
        if isinstance(step, Finish):
            return Done(_attributes(plan.goal, observed), recreation.note(plan.goal, self.progress))
        if isinstance(step, Fail):
            return Failed(step.reason, self.progress)
        if isinstance(step, Call):
            acted = act(step, plan, self.endpoints, observed, self.clock.now())
            if isinstance(acted, Failed):
                return replace(acted, progress=self.progress)
            if acted is None:
                self.progress = _after_call(plan.goal, step, observed, self.progress,
                                            self.clock.now())
                return None
            step = acted
        return Pending(self.progress, step.why, observed, step.recheck_at)


def _claims(goal: Goal, step: Step, progress: Progress) -> bool:
    """Whether the first look tags the endpoint as this request's: not when it fails, not a
    Delete's of an endpoint not ours, not a Failed endpoint about to be replaced (DeleteEndpoint
    is all SageMaker allows on it; the new one is tagged at its CreateEndpoint)."""
    if isinstance(step, Fail):
        return False
    if goal.present:
        return not (isinstance(step, Call) and step.action == "delete")
    return progress.owned


def _after_call(goal: Goal, step: Call, observed: Observation | None, progress: Progress,
                now: float) -> Progress:
    """What an accepted call records. A present goal's DeleteEndpoint is a recreation's."""
    if step.action == "delete" and goal.present:
        logger.info({"message": "deleting a Failed endpoint to recreate it",
                     "endpoint": goal.endpoint_name, "config": goal.config_name,
                     "failure_reason": observed.failure_reason if observed else ""})
        return recreation.after_delete(progress, observed)
    return replace(progress, issued=True, created=progress.created or step.action == "create",
                   issued_at=now, seen_in_flight=False)


def _in_flight(goal: Goal, observed: Observation | None, progress: Progress) -> Progress:
    """Record what the read shows of our deployment: in flight (whoever's call started it: never
    deploy it twice), and its current phase (for messages)."""
    if observed is None or not goal.present:
        return progress
    if observed.pending_config_name == goal.config_name:
        progress = replace(progress, issued=True, seen_in_flight=True)
        if observed.status == "Updating" and observed.phases:
            progress = replace(progress, last_phase=observed.phase_summary())
    elif progress.issued and observed.status != "InService":
        progress = replace(progress, seen_in_flight=True)
    return progress


def _attributes(goal: Goal, observed: Observation | None) -> dict[str, str]:
    if observed is None:
        return {}
    return {
        "EndpointName": goal.endpoint_name,
        "EndpointArn": observed.endpoint_arn,
        "EndpointConfigName": observed.config_name,
    }


def _call_failed(goal: Goal, error: SageMakerError, late: bool) -> str:
    when = " until the deadline" if late else ""
    return (
        f'Endpoint "{goal.endpoint_name}": {error.operation} failed{when} while working towards '
        + (f'EndpointConfig "{goal.config_name}"' if goal.config_name else "its deletion")
        + f'. SageMaker said: {error.code}: "{error.message}". '
        "Check the provider function's permissions and SageMaker's quotas, then retry."
    )


def _timed_out(goal: Goal, observed: Observation | None, step: Wait) -> str:
    state = f'{observed.status} on EndpointConfig "{observed.config_name}"' if observed else "gone"
    return (
        f'Endpoint "{goal.endpoint_name}": gave up waiting before CloudFormation\'s service '
        f"timeout; the endpoint is {state} ({step.why}). SageMaker goes on by itself; "
        "CloudFormation will roll back to the previous config. Shorten the deployment's waits "
        "or split the change."
    )


def _log(goal: Goal, observed: Observation | None, step: object, progress: Progress) -> None:
    logger.info(
        {
            "message": "decision",
            "endpoint": goal.endpoint_name,
            "goal_config": goal.config_name,
            "status": observed.status if observed else None,
            "config": observed.config_name if observed else None,
            "pending_config": observed.pending_config_name if observed else None,
            "issued": progress.issued,
            "step": type(step).__name__,
            "detail": getattr(step, "why", None) or getattr(step, "action", None),
        }
    )
