"""What the emulator's store holds and reports: endpoint configs, endpoints, the calls it saw,
the invariant violations it recorded, and the knobs of the behaviours no source settles."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from .timeline import Timeline

Json = dict[str, Any]

# Fact sheet, "Error behaviour": Update/Delete refused while Creating/Updating. SystemUpdating:
# botocore EndpointStatus docs ("cannot be updated or deleted or re-scaled until it has
# completed"). RollingBack and Deleting: *unverified* assumption (Terraform PR #49020 and the ACK
# controller treat RollingBack as in progress), same message.
IN_PROGRESS = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"})


@dataclass
class EndpointConfig:
    name: str
    arn: str
    creation_time: float
    spec: Json  # the CreateEndpointConfig request without Tags


@dataclass
class Endpoint:
    name: str
    arn: str
    creation_time: float
    last_modified: float
    status: str
    config_name: str
    variants: list[Json] = field(default_factory=list)  # ProductionVariantSummary list
    failure_reason: str | None = None
    last_deployment_config: Json | None = None
    timeline: Timeline | None = None
    #: DescribeEndpoint's answer from before the last UpdateEndpoint, served until ``lag_until``
    #: (the lagging-read fault).
    before_update: Json | None = None
    lag_until: float = 0.0


@dataclass(frozen=True)
class Call:
    """One request as the emulator saw it."""

    time: float
    operation: str
    params: Json
    error_code: str | None = None
    error_rule: str | None = None
    #: The status of the endpoint the call names (EndpointName) when it arrived; None: no such
    #: endpoint, or the call names none.
    endpoint_status: str | None = None


@dataclass(frozen=True)
class InvariantViolation:
    """An endpoint referenced an endpoint config that no longer existed (first seen at ``time``).

    ``role``: ``current`` (EndpointConfigName) or ``pending`` (the config being deployed)."""

    time: float
    endpoint: str
    config: str
    role: str


@dataclass
class Behaviour:
    """Knobs for behaviours the fact sheet marks *unverified*."""

    #: UpdateEndpoint with the config already serving: reject (ValidationException, rule
    #: ``same-config``) or run a normal deployment.
    same_config_update: Literal["reject", "deploy"] = "reject"
    #: If set, auto-rollback alarms outside this set are rejected (rule ``unknown-alarm``).
    known_alarms: frozenset[str] | None = None
    #: Default MaxResults of the List operations (*unverified*: 10).
    page_size: int = 10
