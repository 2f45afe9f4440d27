"""SageMaker's EventBridge events, as the emulator publishes them on the default bus.

Sources (SageMaker developer guide, "automating-sagemaker-with-eventbridge"; the fact sheet
/work/shared/reference/waiting-at-scale.md, "SageMaker's own events"):

* source ``aws.sagemaker``; detail-types ``SageMaker Endpoint State Change`` (the endpoint's
  status changed) and ``SageMaker Endpoint Deployment State Change`` (a phase of a deployment
  began); ``resources`` = [the endpoint's ARN]; on the default bus.
* ``detail``: EndpointName, EndpointArn, EndpointConfigName, ProductionVariants, Tags,
  CreationTime / LastModifiedTime in **epoch milliseconds**, EndpointStatus in **upper case**
  (``IN_SERVICE``, ``UPDATING``...); deployment events add PendingDeploymentSummary with the
  phase's VariantStatus.
* "delivered in near real time" (no figure): *unverified*, the emulator publishes each event
  ``delay`` seconds (default 2) after the change it reports. "SageMaker may send multiple events
  ... for each state change": ``duplicates`` extra copies. SageMaker is not in EventBridge's
  delivery-level table (best effort): ``lose`` drops events. All three are faults
  (:meth:`EventFaults.configure`).

*Unverified* and assumed: one Endpoint State Change per change of EndpointStatus (at
Create/Update/Delete calls, between phases whose status differs, and at the end of an
operation); one Deployment State Change at the start of every phase of an update; no event when
a deleted endpoint is finally gone; the ``detail`` carries no FailureReason.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

Json = dict[str, Any]
SOURCE = "aws.sagemaker"
STATE_CHANGE = "SageMaker Endpoint State Change"
DEPLOYMENT_CHANGE = "SageMaker Endpoint Deployment State Change"

#: DescribeEndpoint's EndpointStatus -> the event's upper-case spelling (fact sheet).
_UPPER = {
    "OutOfService": "OUT_OF_SERVICE", "Creating": "CREATING", "Updating": "UPDATING",
    "SystemUpdating": "SYSTEM_UPDATING", "RollingBack": "ROLLING_BACK",
    "InService": "IN_SERVICE", "Deleting": "DELETING", "Failed": "FAILED",
    "UpdateRollbackFailed": "UPDATE_ROLLBACK_FAILED",
}


def upper_status(status: str) -> str:
    return _UPPER.get(status, status.upper())


@dataclass(frozen=True)
class Published:
    """One event on the bus: when the change happened, when it is delivered, the event."""

    changed_at: float
    deliver_at: float
    event: Json


@dataclass
class EventFaults:
    """How SageMaker's events reach the bus (faults: delay, duplicates, loss)."""

    delay: float = 2.0
    #: Extra seconds drawn uniformly from [0, jitter) per event.
    jitter: float = 0.0
    #: Extra copies of every event (each with its own id, delivered ``duplicate_gap`` s later).
    duplicates: int = 0
    duplicate_gap: float = 0.5
    #: Drop events: a probability in [0, 1], or a predicate on the event.
    lose: float | Callable[[Json], bool] = 0.0
    lost: int = 0


@dataclass
class EventLog:
    """Every event published so far, in publication order."""

    region: str
    account_id: str
    seed: int = 0
    faults: EventFaults = field(default_factory=EventFaults)
    published: list[Published] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._rng = random.Random(f"events-{self.seed}")

    def configure(self, **settings: Any) -> EventFaults:
        for key, value in settings.items():
            if not hasattr(self.faults, key):
                raise TypeError(f"unknown event fault {key!r}")
            setattr(self.faults, key, value)
        return self.faults

    def publish(self, changed_at: float, detail_type: str, detail: Json, arn: str) -> None:
        faults = self.faults
        copies = 1 + faults.duplicates
        for copy_index in range(copies):
            event = {
                "version": "0", "id": str(uuid.UUID(int=self._rng.getrandbits(128))),
                "detail-type": detail_type, "source": SOURCE, "account": self.account_id,
                "time": datetime.fromtimestamp(changed_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": self.region, "resources": [arn], "detail": detail,
            }
            if self._lost(event):
                faults.lost += 1
                continue
            extra = self._rng.uniform(0, faults.jitter) if faults.jitter else 0.0
            at = changed_at + faults.delay + extra + copy_index * faults.duplicate_gap
            self.published.append(Published(changed_at, at, event))

    def _lost(self, event: Json) -> bool:
        lose = self.faults.lose
        if callable(lose):
            return bool(lose(event))
        return lose > 0 and self._rng.random() < lose


def endpoint_detail(
    *, name: str, arn: str, config: str, status: str, created: float, modified: float,
    variants: list[Json], tags: dict[str, str], pending: Json | None = None,
) -> Json:
    """The ``detail`` of an endpoint event (times in epoch milliseconds, status upper case)."""
    detail: Json = {
        "EndpointName": name, "EndpointArn": arn, "EndpointConfigName": config,
        "ProductionVariants": variants, "EndpointStatus": upper_status(status),
        "CreationTime": int(created * 1000), "LastModifiedTime": int(modified * 1000),
        "Tags": dict(tags),
    }
    if pending is not None:
        detail["PendingDeploymentSummary"] = pending
    return detail
