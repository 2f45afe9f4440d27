"""The SageMaker call a decision asks for, and what its refusal says."""

from __future__ import annotations

import logging

from .decisions import Call, Goal, Observation, Wait
from .outcomes import Failed
from .plan import CONFIG_LAG_GRACE, Plan
from .request_tag import RequestTag, read_request_tag, request_tags, with_request_tag
from .sagemaker import Endpoints, SageMakerError, is_in_progress_refusal

__all__ = ["act"]

logger = logging.getLogger(__name__)


def act(
    step: Call, plan: Plan, endpoints: Endpoints, observed: Observation | None, now: float
) -> Failed | Wait | None:
    """Make the call; None when SageMaker accepted it, Wait when it refused only because the
    endpoint is busy (a race with another change: look again later)."""
    goal = plan.goal
    try:
        if step.action == "create":
            endpoints.create(with_request_tag(plan, "create"))
        elif step.action == "update":
            if plan.request_id and observed is not None and observed.endpoint_arn:
                tag = RequestTag(plan.request_id, "update", plan.owner)
                endpoints.add_tags(observed.endpoint_arn, request_tags(plan, tag))
            endpoints.update(plan.update_params)
        else:
            endpoints.delete(goal.endpoint_name)
    except SageMakerError as error:
        if is_in_progress_refusal(error):
            return Wait("SageMaker refused because the endpoint is busy")
        if _config_lags(error, plan, now):
            return Wait(f'SageMaker does not find EndpointConfig "{goal.config_name}" yet (a read '
                        "may lag its creation); looking again")
        if step.action == "create" and _created_by_us(error, plan, endpoints):
            # botocore retried a CreateEndpoint whose first answer was lost (a 5xx after the
            # endpoint was made): the endpoint carries this request's tag, so it is ours.
            return None
        return Failed(refused(goal, error))
    logger.info({"message": "called SageMaker", "action": step.action,
                 "endpoint": goal.endpoint_name, "config": goal.config_name})
    return None


def _config_lags(error: SageMakerError, plan: Plan, now: float) -> bool:
    return (error.code == "ValidationException"
            and error.message.startswith("Could not find endpoint configuration")
            and now < plan.started + CONFIG_LAG_GRACE)


def _created_by_us(error: SageMakerError, plan: Plan, endpoints: Endpoints) -> bool:
    if not error.message.startswith("Cannot create already existing endpoint"):
        return False
    # Another stack's endpoint of that name: IAM may not even let us read it.
    observed = endpoints.describe(plan.goal.endpoint_name, denied_means_absent=True)
    if observed is None or not plan.request_id:
        return False
    tag = read_request_tag(plan, observed, endpoints)
    return tag is not None and tag.request_id == plan.request_id and tag.action == "create"


def refused(goal: Goal, error: SageMakerError) -> str:
    verbs = {"CreateEndpoint": "create", "UpdateEndpoint": "update", "DeleteEndpoint": "delete"}
    verb = verbs.get(error.operation, error.operation)
    target = f' to EndpointConfig "{goal.config_name}"' if goal.config_name else ""
    return (
        f'Endpoint "{goal.endpoint_name}": SageMaker refused to {verb} it{target}. '
        f'SageMaker said: {error.code}: "{error.message}".{_hint(error)}'
    )


#: A CreateEndpoint of a name that exists but that this stack's provider could not read: the
#: policy reaches only endpoints with this stack's ownership tag (docs/security.md).
_NOT_OURS_HINT = (
    " An endpoint of that name exists that this stack may not manage: made outside this stack, "
    "by another stack, or by a version of sagemaker-rollout before the ownership tag "
    "sagemaker-rollout:stack. Choose another endpoint_name, or take it over by deploying once "
    "with adopt_existing_endpoint=True.")


def _hint(error: SageMakerError) -> str:
    if error.message.startswith("Cannot create already existing endpoint"):
        return _NOT_OURS_HINT
    return {
        "ResourceLimitExceeded": " Request a quota increase (Service Quotas, SageMaker) or use "
        "another instance type, then deploy again.",
        "AccessDeniedException": " Check the provider function's IAM policy.",
    }.get(error.code, " Fix the cause and deploy again.")
