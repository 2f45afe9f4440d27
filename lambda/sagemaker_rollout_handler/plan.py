"""What one invocation's work (`rollout.run`) knows about its request."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .decisions import Goal

__all__ = ["CONFIG_LAG_GRACE", "Plan"]


@dataclass(frozen=True)
class Plan:
    """Everything the loop needs to know about the request."""

    goal: Goal
    create_params: Mapping[str, Any]
    update_params: Mapping[str, Any]
    #: Epoch seconds after which the request gives up and answers FAILED.
    deadline: float
    #: CloudFormation's RequestId: the endpoint is tagged with it (see `RequestTag`).
    request_id: str = ""
    #: A hash of the stack id and logical id: which resource owns the endpoint.
    owner: str = ""
    #: When the request's first invocation began (epoch seconds): a config that reads as
    #: missing within CONFIG_LAG_GRACE of it is looked at again (issue 17.2).
    started: float = 0.0
    #: CloudFormation's StackId: the ownership tag's value (contract.OWNER_TAG_KEY), which the
    #: provider's policy requires on every endpoint it reaches.
    stack_id: str = ""
    #: A rename's Update: what its failed CreateEndpoint made is removed before the answer
    #: (``leftovers``).
    discard_on_failure: bool = False
    #: The endpoint a failed rename of this resource may have left (a rollback's
    #: OldResourceProperties name it): removed once the goal is reached (``leftovers``).
    stray: str = ""


#: How long after the request started a missing EndpointConfig is looked at again (issue 17.2).
CONFIG_LAG_GRACE = 120.0
