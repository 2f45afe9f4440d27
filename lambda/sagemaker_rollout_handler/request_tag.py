"""The request tag on the endpoint: which request of which resource last claimed it, written
and read around the SageMaker calls."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from .contract import OWNER_TAG_KEY, REQUEST_TAG_KEY
from .decisions import Observation, Progress
from .plan import Plan
from .sagemaker import Endpoints

__all__ = [
    "REQUEST_TAG",
    "RequestTag",
    "already_done",
    "claim_endpoint",
    "read_request_tag",
    "request_tags",
    "superseded_reason",
    "with_request_tag",
]

#: The tag that records which request of which resource last claimed the endpoint.
REQUEST_TAG = REQUEST_TAG_KEY


@dataclass(frozen=True)
class RequestTag:
    """`<RequestId>:<create|update|claim>:<owner>` on the endpoint. Written by each request that
    works on the endpoint, at its first look (claim), at CreateEndpoint (create) and before
    UpdateEndpoint (update). It tells a re-delivered request what it already did, a Create
    whether an existing endpoint is this resource's own, a Delete whether the endpoint now
    belongs to another resource, and a poll whether a newer request took over."""

    request_id: str
    action: str
    owner: str

    @staticmethod
    def parse(value: str | None) -> RequestTag | None:
        parts = (value or "").split(":")
        if len(parts) != 3:
            return None
        return RequestTag(*parts)

    def render(self) -> str:
        return f"{self.request_id}:{self.action}:{self.owner}"


def read_request_tag(plan: Plan, observed: Observation, endpoints: Endpoints) -> RequestTag | None:
    if not plan.request_id or not observed.endpoint_arn:
        return None
    return RequestTag.parse(endpoints.tags(observed.endpoint_arn).get(REQUEST_TAG))


def already_done(plan: Plan, tag: RequestTag | None, progress: Progress) -> Progress:
    """What the request tag says: this request delivered again (what it already did), or an
    endpoint this resource made or claimed earlier."""
    if tag is None:
        return progress
    if tag.owner != plan.owner:
        return replace(progress, foreign=True)
    progress = replace(progress, owned=True)
    if tag.request_id != plan.request_id:
        return progress
    if tag.action == "create":
        return replace(progress, issued=True, created=True)
    if tag.action == "update":
        return replace(progress, issued=True)
    return progress


def claim_endpoint(
    plan: Plan, observed: Observation, tag: RequestTag | None, endpoints: Endpoints
) -> None:
    """Mark the endpoint as being worked on by this request (unless it already is)."""
    if not plan.request_id or not observed.endpoint_arn:
        return
    if tag is not None and tag.request_id == plan.request_id:
        return
    claim = RequestTag(plan.request_id, "claim", plan.owner)
    endpoints.add_tags(observed.endpoint_arn, request_tags(plan, claim))


def superseded_reason(
    plan: Plan, observed: Observation | None, endpoints: Endpoints
) -> str | None:
    """A poll about to change the endpoint checks that no newer request has claimed it (a
    cancelled update's polling must not deploy after the stack rolled back)."""
    if observed is None or not plan.request_id:
        return None
    tag = read_request_tag(plan, observed, endpoints)
    if tag is None or tag.request_id == plan.request_id:
        return None
    return (
        f'Endpoint "{plan.goal.endpoint_name}": another CloudFormation request ({tag.request_id}) '
        f'has taken over the endpoint since this one started; EndpointConfig '
        f'"{plan.goal.config_name}" was not deployed. Nothing to do: the newer request decides.'
    )


def request_tags(plan: Plan, tag: RequestTag) -> dict[str, str]:
    """The request tag, with the ownership tag (contract.OWNER_TAG_KEY = the stack id): a claim
    puts it on an adopted endpoint, which the provider's policy then covers; on an endpoint that
    has it already it changes nothing."""
    tags = {REQUEST_TAG: tag.render()}
    if plan.stack_id:
        tags[OWNER_TAG_KEY] = plan.stack_id
    return tags


def with_request_tag(plan: Plan, action: str) -> dict[str, Any]:
    """CreateEndpoint's parameters with the request tag and the ownership tag: the provider's
    policy allows CreateEndpoint only with the latter (aws:RequestTag)."""
    params = dict(plan.create_params)
    if plan.request_id:
        ours = request_tags(plan, RequestTag(plan.request_id, action, plan.owner))
        tags = [tag for tag in params.get("Tags", []) if tag["Key"] not in ours]
        params["Tags"] = [*tags, *({"Key": key, "Value": value} for key, value in ours.items())]
    return params
