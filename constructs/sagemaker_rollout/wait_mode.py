"""The wait mode: what waits for a deployment to end, the custom resource or a WaitCondition.

A custom resource must answer CloudFormation within its ServiceTimeout, at most one hour;
SageMaker lets a deployment run up to eight (MaximumExecutionTimeoutInSeconds 28800). A
deployment whose worst case (time_budget.py) does not fit the custom resource's hour is handed off
to an ``AWS::CloudFormation::WaitCondition`` (at most 12 hours): the custom resource answers once
SageMaker accepted UpdateEndpoint (or CreateEndpoint), and the handler signals the condition's
handle when the deployment ended (waiting-at-scale.md, "Waiting longer than an hour").
The resources of that mode are in wait_condition.py.
"""

from __future__ import annotations

import enum

from .time_budget import HANDLER_RESPONSE_MARGIN_SECONDS, TimeBudget, human

__all__ = ["WaitMode", "choose_wait_mode", "handoff_note"]


class WaitMode(enum.Enum):
    """What waits for a deployment to end (``RolloutEndpoint(wait_mode=...)``).

    Default: - chosen per deployment: ``CUSTOM_RESOURCE`` when its worst case fits the custom
    resource's hour, else ``WAIT_CONDITION`` (an info annotation says so at ``cdk synth``).
    """

    #: The custom resource waits, up to its ServiceTimeout (one hour): the stack update waits for
    #: the deployment's end in the custom resource itself.
    CUSTOM_RESOURCE = "CustomResource"
    #: The custom resource answers once SageMaker accepted the deployment; a WaitCondition, new for
    #: every change that deploys, waits for the handler's signal, up to 12 hours. Depend on
    #: ``RolloutEndpoint.deployment_complete`` for what must wait for the deployment's end.
    WAIT_CONDITION = "WaitCondition"


def choose_wait_mode(
    forced: WaitMode | None, budget: TimeBudget | None, given_timeout: int | None
) -> WaitMode:
    """The mode of one deployment: the forced one; else the custom resource when it can wait the
    deployment out (or the budget is not known at synth); else a WaitCondition when the
    deployment is longer than the custom resource's hour or a WaitCondition can wait it out.
    Otherwise (it fits neither, and not for its length) the custom resource, whose refusals say
    why."""
    if forced is not None:
        return forced
    if budget is None or budget.fits(given_timeout):
        return WaitMode.CUSTOM_RESOURCE
    handed_off = budget.handed_off()
    if budget.exceeds_custom_resource(given_timeout) or handed_off.fits(given_timeout):
        return WaitMode.WAIT_CONDITION
    return WaitMode.CUSTOM_RESOURCE


def handoff_note(budget: TimeBudget, given_timeout: int | None, timeout: int) -> str:
    """The info annotation of an automatic switch to the WaitCondition mode."""
    if given_timeout is not None:
        why = f"maximum_execution_timeout = {human(given_timeout)}"
    else:
        why = f"the deployment's {budget.worst_case_arithmetic()}".replace(" = ", ", ", 1)
    wait = budget.wait_condition_timeout(timeout)
    return (
        f"{why} does not fit the custom resource's hour (the largest MaximumExecutionTimeout it "
        f"can wait out is {budget.custom_resource_ceiling} s), so a WaitCondition waits for the "
        f"deployment: Timeout {human(wait)} = MaximumExecutionTimeout {timeout} s + rollback "
        f"allowance {budget.rollback_allowance} s + handler margin "
        f"{HANDLER_RESPONSE_MARGIN_SECONDS} s. Make what must wait for the rollout "
        "depend on endpoint.deployment_complete; force a mode with wait_mode=WaitMode.<mode>."
    )
