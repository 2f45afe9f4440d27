"""A Failed endpoint replaced in place (issue 13, items 2 and 3): pure decisions, no I/O.

SageMaker allows nothing but DeleteEndpoint on a ``Failed`` endpoint (botocore's
DescribeEndpointOutput.EndpointStatus: "DeleteEndpoint is the only operation that can be
performed on a failed endpoint"), and a Failed endpoint serves no traffic. So an Update (a stack
rollback's included) that finds its endpoint Failed replaces it: DeleteEndpoint, wait until it is
gone (the wait engine, as a Delete waits), CreateEndpoint of the same name on the requested
config with the request's tags, then wait for it as a Create. Its physical id stays the same.

Never for an endpoint whose request tag names another resource, never for the endpoint this
request itself created (a recreation whose Create fails again fails, saying both reasons), and
only when the goal allows it (``Goal.recreate_failed``: an in-place Update whose CreateEndpoint
tags can travel with its wait).
"""

from __future__ import annotations

from dataclasses import replace

from .decisions import Call, Fail, Goal, Observation, Progress, Step, Wait

#: Characters of SageMaker's FailureReason kept in the carried state (messages only).
REASON_LIMIT = 300
NO_REASON = "(no FailureReason given)"


def step(goal: Goal, observed: Observation | None, progress: Progress) -> Step | None:
    """The next step of a recreation, or None when no recreation is concerned."""
    if observed is None or not goal.present:
        return None
    if progress.was_failed is None:
        if observed.status == "Failed" and may_replace(goal, progress):
            return Call("delete")
        return None
    if observed.status == "Deleting" and not progress.created:
        return Wait(f'SageMaker is deleting the Failed endpoint, to recreate it on '
                    f'EndpointConfig "{goal.config_name}"')
    if progress.created and observed.status == "Creating":
        return Wait(f'SageMaker is recreating the endpoint on EndpointConfig "{goal.config_name}"')
    if progress.created and observed.status == "Failed":
        return Fail(failed_again(goal, observed, progress.was_failed))
    return None


def may_replace(goal: Goal, progress: Progress) -> bool:
    """An endpoint of this resource (no other resource's request tag on it) that this request
    did not make itself."""
    return goal.recreate_failed and not progress.foreign and not progress.created


def after_delete(progress: Progress, observed: Observation | None) -> Progress:
    """What the accepted DeleteEndpoint of a Failed endpoint records: SageMaker's reason (for the
    answer). It is not the request's own change (``issued`` stays as it was): the CreateEndpoint
    that follows is."""
    said = (observed.failure_reason if observed is not None else "") or NO_REASON
    return replace(progress, was_failed=said[:REASON_LIMIT])


def deleting(progress: Progress) -> bool:
    """The request waits for the Failed endpoint to be gone (no SageMaker event says so)."""
    return progress.was_failed is not None and not progress.created


def note(goal: Goal, progress: Progress) -> str:
    """The success's reason: what was replaced, and on what."""
    if progress.was_failed is None:
        return ""
    return (f'Endpoint "{goal.endpoint_name}" was Failed: "{progress.was_failed}"; recreated on '
            f'EndpointConfig "{goal.config_name}".')


def failed_again(goal: Goal, observed: Observation, was_failed: str) -> str:
    now_said = f'"{observed.failure_reason}"' if observed.failure_reason else NO_REASON
    return (
        f'Endpoint "{goal.endpoint_name}" was Failed ("{was_failed}"); it was deleted and '
        f'recreated on EndpointConfig "{goal.config_name}", which failed too. SageMaker said: '
        f"{now_said}. Nothing serves on this endpoint: fix the cause (the model, its container, "
        "the instance type or quota) and deploy again; the stack's rollback recreates it on the "
        "previous config."
    )
