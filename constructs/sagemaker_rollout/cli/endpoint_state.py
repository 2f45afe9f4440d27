"""What a DescribeEndpoint answer says about a deployment: pure functions, no I/O.

Facts ("fact sheet" = the project's sagemaker-endpoint-deployments.md, "Endpoint status"):
during an update EndpointConfigName still names the OLD config and the new one is in
PendingDeploymentSummary, whose variants carry VariantStatus entries (Status, StatusMessage,
StartTime); a rollback returns the endpoint to InService on the OLD config, FailureReason set or
possibly empty. So a deployment succeeded only when the endpoint is InService on the config that
was being deployed; InService on another one is a rollback, whatever the status says.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..deployment import VariantFacts
from .errors import EXIT_DEPLOYMENT_FAILED, EXIT_OK

#: Statuses of an operation still running (fact sheet; RollingBack counts as in progress during
#: update rollbacks, as Terraform and the ACK controller treat it).
IN_PROGRESS = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack"})

#: Statuses that end a watch with exit 1, and what they mean.
_FAILED = {
    "Failed": "the endpoint failed",
    "UpdateRollbackFailed": "the rollback failed (both fleets may be serving)",
    "OutOfService": "the endpoint is out of service",
    "Deleting": "the endpoint is being deleted",
}


@dataclass(frozen=True)
class VariantPhase:
    """One VariantStatus entry of a pending variant."""

    variant: str
    status: str
    message: str
    start_time: float | None


@dataclass(frozen=True)
class Observation:
    """The parts of one DescribeEndpoint answer that `watch` shows and decides on."""

    status: str
    config_name: str
    pending_config_name: str | None = None
    pending_start: float | None = None
    phases: tuple[VariantPhase, ...] = ()
    failure_reason: str = ""
    last_deployment_config: Mapping[str, Any] | None = None
    #: The fleet being deployed (PendingDeploymentSummary), else the serving one.
    variants: tuple[VariantFacts, ...] = ()

    @property
    def target(self) -> str | None:
        """The config being deployed now, if any (a create deploys EndpointConfigName)."""
        if self.pending_config_name:
            return self.pending_config_name
        return self.config_name if self.status == "Creating" else None

    def change_key(self) -> tuple[Any, ...]:
        """What a new line is printed for, without a terminal (not the ticking countdown)."""
        return (self.status, self.config_name, self.pending_config_name,
                tuple((p.variant, p.status, p.message) for p in self.phases))


def epoch(value: Any) -> float | None:
    """A boto3 timestamp (datetime) or epoch number as epoch seconds."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


def observation_from(answer: Mapping[str, Any]) -> Observation:
    pending = answer.get("PendingDeploymentSummary") or {}
    pending_variants = pending.get("ProductionVariants") or []
    phases = tuple(
        VariantPhase(variant.get("VariantName", ""), status.get("Status", ""),
                     status.get("StatusMessage", ""), epoch(status.get("StartTime")))
        for variant in pending_variants
        for status in variant.get("VariantStatus") or []
    )
    fleet = pending_variants or answer.get("ProductionVariants") or []
    return Observation(
        status=str(answer.get("EndpointStatus", "")),
        config_name=str(answer.get("EndpointConfigName", "")),
        pending_config_name=pending.get("EndpointConfigName"),
        pending_start=epoch(pending.get("StartTime")),
        phases=phases,
        failure_reason=str(answer.get("FailureReason") or ""),
        last_deployment_config=answer.get("LastDeploymentConfig"),
        variants=tuple(_facts(variant) for variant in fleet),
    )


def _facts(variant: Mapping[str, Any]) -> VariantFacts:
    serverless = "DesiredServerlessConfig" in variant or "CurrentServerlessConfig" in variant
    count = variant.get("DesiredInstanceCount", variant.get("CurrentInstanceCount"))
    return VariantFacts(
        variant_name=str(variant.get("VariantName", "")),
        instance_type=None if serverless else variant.get("InstanceType"),
        initial_instance_count=None if serverless else int(count or 1),
        serverless=serverless,
    )


def alarm_names(deployment_config: Mapping[str, Any] | None) -> list[str]:
    rollback = (deployment_config or {}).get("AutoRollbackConfiguration") or {}
    return [str(alarm.get("AlarmName", "")) for alarm in rollback.get("Alarms") or []]


@dataclass(frozen=True)
class Outcome:
    """How the watch ends: the exit code and the line that says why."""

    code: int
    message: str


def outcome(observed: Observation, target: str | None,
            alarms: Sequence[str]) -> Outcome | None:
    """The end of the watch, or None while the deployment runs.

    `target`: the config seen being deployed since the watch began (None: none seen); `alarms`:
    the deployment's auto-rollback alarms, named when it was rolled back.
    """
    if observed.status in IN_PROGRESS:
        return None
    if observed.status in _FAILED:
        return Outcome(EXIT_DEPLOYMENT_FAILED,
                       f"{_FAILED[observed.status]} ({observed.status}): "
                       f"{observed.failure_reason or 'no FailureReason given'}")
    if observed.status != "InService":
        return None  # a status this version does not know: keep watching
    if target is None:
        note = (f" (its last update failed: {observed.failure_reason})"
                if observed.failure_reason else "")
        return Outcome(EXIT_OK, f"InService on {observed.config_name}, nothing pending{note}")
    if observed.config_name == target:
        return Outcome(EXIT_OK, f"deployed: InService on {target}")
    return Outcome(
        EXIT_DEPLOYMENT_FAILED,
        f"rolled back: InService on the old config {observed.config_name}, not {target}: "
        f"{observed.failure_reason or 'no FailureReason given'} (rollback alarms: "
        f"{', '.join(alarms) if alarms else 'none configured'})",
    )


@dataclass(frozen=True)
class Bake:
    """The bake running now: how long it has run and, if known, how long it lasts."""

    variant_start: float
    elapsed: float
    #: The lengths it may have (one when known).
    lengths: tuple[int, ...]

    @property
    def remaining(self) -> float | None:
        if len(self.lengths) != 1:
            return None
        return max(0.0, self.lengths[0] - self.elapsed)


@dataclass
class BakeTracker:
    """Tells which bake of the schedule is running, from the bakes seen start so far.

    `schedule` is the deployment's bakes in order (`RolloutTimeline.bake_schedule`). When the
    watch began before the first bake, the n-th distinct StartTime is the n-th bake; otherwise the
    bake is one of the schedule's lengths, and only a schedule of one length tells which.
    """

    schedule: tuple[int, ...]
    from_the_start: bool
    starts: list[float] = field(default_factory=list)

    def current(self, phases: Sequence[VariantPhase], now: float) -> Bake | None:
        starts = [p.start_time for p in phases if p.status == "Baking" and p.start_time]
        if not starts or not self.schedule:
            return None
        start = max(starts)
        if start not in self.starts:
            self.starts.append(start)
        ordinal = self.starts.index(start)
        if self.from_the_start and ordinal < len(self.schedule):
            lengths: tuple[int, ...] = (self.schedule[ordinal],)
        else:
            lengths = tuple(sorted(set(self.schedule)))
        return Bake(start, max(0.0, now - start), lengths)
