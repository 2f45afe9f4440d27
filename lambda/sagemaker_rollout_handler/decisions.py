"""What to do next: a pure function of the request, of what DescribeEndpoint said, and of what
this request has already done. No I/O here (compare aws-cdk's EKS cluster handler, which keeps
`analyzeUpdate` apart from its client).

The rule that the whole project rests on (fact sheet, "Endpoint status"): an update succeeded
only when the endpoint is `InService` AND its EndpointConfigName is the requested one. `InService`
on another config after we called UpdateEndpoint means SageMaker rolled back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Statuses in which SageMaker is still working and will move on by itself. RollingBack is
# documented for capacity changes; terraform-provider-aws (PR #49020) and the ACK controller treat
# it as in progress during update rollbacks too (fact sheet, "Error behaviour to model").
IN_PROGRESS = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"})


@dataclass(frozen=True)
class Phase:
    """One entry of PendingDeploymentSummary.ProductionVariants[].VariantStatus."""

    variant_name: str
    status: str
    message: str
    start_time: float


@dataclass(frozen=True)
class Observation:
    """The part of DescribeEndpoint's answer that decisions depend on."""

    status: str
    config_name: str
    endpoint_arn: str = ""
    pending_config_name: str | None = None
    failure_reason: str = ""
    phases: tuple[Phase, ...] = ()

    def phase_summary(self) -> str:
        """The deployment's current phase in words (status, SageMaker's message, variant)."""
        return "; ".join(
            f"{p.status}" + (f' ("{p.message}")' if p.message else "") + f" on {p.variant_name}"
            for p in self.phases
        )


@dataclass(frozen=True)
class Goal:
    """Where this request wants the endpoint to end up."""

    endpoint_name: str
    #: None when the endpoint should be gone.
    config_name: str | None
    #: True when this request brings the endpoint into being (Create, or an Update that renamed
    #: it): an endpoint of that name that existed before is someone else's.
    creates: bool = False
    alarm_names: tuple[str, ...] = ()
    #: A Failed endpoint found at the start may be deleted and recreated on the goal's config
    #: (``recreation``): an in-place Update whose CreateEndpoint tags can travel with its wait.
    recreate_failed: bool = False

    @property
    def present(self) -> bool:
        return self.config_name is not None


@dataclass(frozen=True)
class Progress:
    """What this request has done so far; carried from one poll to the next."""

    #: Our CreateEndpoint / UpdateEndpoint / DeleteEndpoint call was accepted.
    issued: bool = False
    #: It was a CreateEndpoint: the endpoint exists because of this request.
    created: bool = False
    #: The last phase of our deployment seen in PendingDeploymentSummary (for messages).
    last_phase: str | None = None
    #: The endpoint was created or claimed by this very resource (its request tag says so).
    owned: bool = False
    #: When our UpdateEndpoint was accepted (epoch seconds; None: not this invocation's record).
    issued_at: float | None = None
    #: Our deployment was seen in flight (Updating / RollingBack, or on its way) after the call.
    seen_in_flight: bool = False
    #: The endpoint carries this request's tag (written at its first look): from then on, a
    #: newer request's tag means this one was superseded.
    claimed: bool = False
    #: The endpoint's request tag names another resource: it is not this resource's to replace.
    foreign: bool = False
    #: The endpoint was Failed and this request deleted it to recreate it (``recreation``):
    #: SageMaker's FailureReason then, for the answer. None: no recreation.
    was_failed: str | None = None


#: A read right after UpdateEndpoint may still show the old InService view (eventual
#: consistency, *unverified* for SageMaker: waiting-at-scale.md). Such a read, with no
#: FailureReason and before the deployment was ever seen in flight, is looked at again for this
#: long before it is believed.
LAGGING_READ_GRACE = 120.0


@dataclass(frozen=True)
class Finish:
    """The endpoint is where the request wants it."""


@dataclass(frozen=True)
class Fail:
    reason: str


@dataclass(frozen=True)
class Wait:
    why: str
    #: Look again no later than this (epoch seconds), whatever the events say.
    recheck_at: float | None = None


@dataclass(frozen=True)
class Call:
    action: Literal["create", "update", "delete"]


Step = Finish | Fail | Wait | Call


def decide(
    goal: Goal,
    observed: Observation | None,
    progress: Progress,
    *,
    config_exists: bool = True,
    now: float = 0.0,
) -> Step:
    """The next step towards `goal`. `config_exists` tells whether the goal's EndpointConfig
    exists (the caller looks it up when the goal is a config); `now` (epoch seconds) bounds the
    grace period of a lagging read."""
    from . import recreation  # it builds on this module's steps: imported here, not at the top

    if not goal.present:
        return _towards_absence(goal, observed, progress)
    if not config_exists:
        return Fail(
            f'Endpoint "{goal.endpoint_name}": EndpointConfig "{goal.config_name}" does not exist '
            "(deleted outside CloudFormation?). SageMaker cannot serve, patch or roll back to a "
            "missing config. Recreate it (redeploy the stack with a change to the endpoint's "
            "variants) and retry."
        )
    replacing = recreation.step(goal, observed, progress)
    if replacing is not None:
        return replacing
    if observed is None:
        return _missing(goal, progress)
    if goal.creates and not progress.issued and not progress.owned:
        return Fail(
            f'Endpoint "{goal.endpoint_name}" already exists (status {observed.status}, '
            f'EndpointConfig "{observed.config_name}") and was not created by this stack. It was '
            "left untouched. Choose another endpoint name, delete that endpoint, or adopt it."
        )
    if observed.status == "InService":
        return _in_service(goal, observed, progress, now)
    return _not_in_service(goal, observed)


def _missing(goal: Goal, progress: Progress) -> Step:
    if progress.issued:
        return Fail(
            f'Endpoint "{goal.endpoint_name}" disappeared while deploying EndpointConfig '
            f'"{goal.config_name}" (deleted outside CloudFormation?). Deploy the stack again to '
            "recreate it."
        )
    # Missing: created by this request, or recreated because it was deleted out of band
    # (restoring the declared state is what lets a later update or rollback succeed).
    return Call("create")


def _in_service(goal: Goal, observed: Observation, progress: Progress, now: float) -> Step:
    if observed.config_name == goal.config_name:
        return Finish()
    if not progress.issued:
        return Call("update")
    if _may_lag(observed, progress, now):
        return Wait(
            f'the endpoint still reads InService on "{observed.config_name}" right after '
            "UpdateEndpoint (a read that may lag the call); looking again",
            recheck_at=(progress.issued_at or now) + LAGGING_READ_GRACE,
        )
    return Fail(_rolled_back(goal, observed, progress))


def _may_lag(observed: Observation, progress: Progress, now: float) -> bool:
    """An InService-on-the-old-config read before our deployment was ever seen in flight, with
    no FailureReason, within the grace period: not yet a rollback."""
    return (
        not progress.seen_in_flight
        and not observed.failure_reason
        and progress.issued_at is not None
        and now - progress.issued_at < LAGGING_READ_GRACE
    )


def _not_in_service(goal: Goal, observed: Observation) -> Step:
    name, target = goal.endpoint_name, goal.config_name
    status = observed.status
    if status in IN_PROGRESS:
        if observed.pending_config_name == target:
            return Wait(f'SageMaker is deploying EndpointConfig "{target}" ({status})')
        return Wait(f"the endpoint is {status}; waiting for it to settle before deploying")
    if status == "Failed" and goal.creates:
        return Fail(
            f'Endpoint "{name}" could not be created on EndpointConfig "{target}" (Failed). '
            f"SageMaker said: {_said(observed)}. Fix the cause (the model, its container, the "
            "instance type or quota) and deploy again."
        )
    return Fail(_broken(name, target, observed))


def _broken(name: str, target: str | None, observed: Observation) -> str:
    status = observed.status
    if status == "Failed":
        return (
            f'Endpoint "{name}" is Failed (EndpointConfig "{observed.config_name}"). SageMaker '
            f"said: {_said(observed)}. A Failed endpoint can only be deleted: fix the cause, then "
            "delete the stack (or rename the endpoint) and deploy again."
        )
    if status == "UpdateRollbackFailed":
        return (
            f'Endpoint "{name}" is UpdateRollbackFailed: SageMaker could not roll back a '
            f'deployment and both fleets may be serving (EndpointConfig "{observed.config_name}"). '
            f"SageMaker said: {_said(observed)}. Inspect it in the SageMaker console and bring it "
            "back to InService (UpdateEndpoint to a known-good config) before deploying again."
        )
    return (
        f'Endpoint "{name}" is {status} (EndpointConfig "{observed.config_name}"); cannot deploy '
        f'EndpointConfig "{target}". SageMaker said: {_said(observed)}.'
    )


def _towards_absence(goal: Goal, observed: Observation | None, progress: Progress) -> Step:
    if observed is None:
        return Finish()
    if observed.status == "Deleting":
        return Wait("SageMaker is deleting the endpoint")
    if observed.status in IN_PROGRESS:
        return Wait(f"the endpoint is {observed.status}; it can be deleted once that ends")
    # InService, Failed, OutOfService, UpdateRollbackFailed: DeleteEndpoint is allowed. Issue it
    # again if an earlier call was accepted but the endpoint is not Deleting (idempotent).
    return Call("delete")


def _rolled_back(goal: Goal, observed: Observation, progress: Progress) -> str:
    if not progress.seen_in_flight and not observed.failure_reason:
        return (
            f'Endpoint "{goal.endpoint_name}": after UpdateEndpoint to EndpointConfig '
            f'"{goal.config_name}" SageMaker kept reading InService on "{observed.config_name}" '
            f"with no FailureReason for {LAGGING_READ_GRACE:.0f} s, and the deployment was never "
            "seen in flight: SageMaker rolled it back at once, or never started it. Check the "
            "endpoint's events in the SageMaker console, then deploy again."
        )
    alarms = (
        f"Rollback alarms: {', '.join(goal.alarm_names)}. "
        if goal.alarm_names
        else "No rollback alarms were configured. "
    )
    return (
        f'Endpoint "{goal.endpoint_name}": SageMaker rolled back the deployment of EndpointConfig '
        f'"{goal.config_name}"; the endpoint is InService on "{observed.config_name}" again. '
        f"SageMaker said: {_said(observed)}. {_phase(progress)}{alarms}"
        "Check the alarms and the new model's logs, fix, and deploy again."
    )


def _phase(progress: Progress) -> str:
    if not progress.last_phase:
        return ""
    return f"Last phase seen before the rollback: {progress.last_phase}. "


def _said(observed: Observation) -> str:
    return f'"{observed.failure_reason}"' if observed.failure_reason else "(no FailureReason given)"
