"""Timelines: the scheduled phases of one endpoint operation, in absolute virtual time.

A timeline is computed once, when the operation is accepted (and cut short when a fault fires);
the endpoint's state at any moment is read off it lazily (``phase_at(clock.now())``), and its
``outcome`` is applied when virtual time passes its end. No thread advances state.

Phase sequences follow the fact sheet, "What happens during each kind of deployment"
(developer guide, deployment-guardrails pages):

* ALL_AT_ONCE: provision green; shift 100%; final bake TerminationWaitInSeconds; terminate blue.
* CANARY: provision; shift the canary; bake WaitIntervalInSeconds; shift the rest; final bake;
  terminate blue.
* LINEAR: provision; per step: shift a step, bake WaitIntervalInSeconds; final bake; terminate.
* rolling: per batch: provision, shift, bake WaitIntervalInSeconds, terminate that much old
  capacity. (No final bake: RollingUpdatePolicy has no TerminationWaitInSeconds.)
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

Json = dict[str, Any]
Range = float | tuple[float, float]

#: Phase kinds an alarm can be tripped in (see faults.Faults.trip_alarm).
ALARM_PHASES = ("provisioning", "canary-bake", "linear-bake", "final-bake", "rolling-bake")


@dataclass(frozen=True)
class Timings:
    """Durations in virtual seconds: a fixed number, or a (low, high) range drawn uniformly from
    the emulator's seeded ``random.Random``. Defaults are plausible, *unverified* magnitudes."""

    create: Range = (240.0, 480.0)
    provision: Range = (240.0, 480.0)
    traffic_shift: Range = (10.0, 30.0)
    terminate: Range = (60.0, 120.0)
    rollback: Range = (60.0, 180.0)
    delete: Range = (30.0, 90.0)


def draw(rng: random.Random, value: Range) -> float:
    if isinstance(value, tuple):
        low, high = value
        return rng.uniform(low, high)
    return float(value)


@dataclass(frozen=True)
class GreenVariant:
    """A variant of the fleet being deployed (counts already resolved for retained properties)."""

    name: str
    instance_count: int | None  # None for serverless
    instance_type: str | None
    weight: float
    serverless: Json | None = None

    def summary(self) -> Json:
        """ProductionVariantSummary once this fleet serves."""
        out: Json = {"VariantName": self.name, "CurrentWeight": self.weight,
                     "DesiredWeight": self.weight}
        if self.instance_count is not None:
            out["CurrentInstanceCount"] = self.instance_count
            out["DesiredInstanceCount"] = self.instance_count
        if self.serverless is not None:
            out["CurrentServerlessConfig"] = dict(self.serverless)
            out["DesiredServerlessConfig"] = dict(self.serverless)
        return out


@dataclass(frozen=True)
class Phase:
    kind: str  # creating, provisioning, traffic, canary-bake, linear-bake, final-bake,
    #            rolling-bake, terminate, rollback, deleting, system-updating
    start: float
    end: float
    endpoint_status: str  # DescribeEndpoint.EndpointStatus during the phase
    variant_status: str | None  # PendingDeploymentSummary VariantStatus.Status, if any
    message: str
    index: int | None = None


@dataclass
class Timeline:
    """One operation on one endpoint. ``outcome`` is applied at ``end``:

    created | create-failed | deployed | rolled-back | update-failed | rollback-failed |
    deleted | restored.
    """

    operation: str  # create | update | delete | system-update
    started: float
    phases: list[Phase]
    outcome: str
    failure_reason: str | None = None
    target_config: str | None = None
    deployment_config: Json | None = None
    green: list[GreenVariant] = field(default_factory=list)
    restore_status: str | None = None
    cut_at: float | None = None  # when a fault ended the deployment early
    #: Events of this operation's phases are published up to this moment (``events``).
    published_until: float = float("-inf")

    @property
    def end(self) -> float:
        return self.phases[-1].end if self.phases else self.started

    def phase_at(self, t: float) -> Phase | None:
        for phase in self.phases:
            if phase.start <= t < phase.end:
                return phase
        return None

    def changes_after(self, t: float) -> float | None:
        """The first moment after ``t`` at which a phase starts or the operation ends."""
        moments = [p.start for p in self.phases if p.start > t] + [self.end]
        ahead = [m for m in moments if m > t]
        return min(ahead) if ahead else None

    def find(self, kind: str, index: int | None, not_ended_before: float) -> Phase | None:
        """The first phase of ``kind`` (and ``index`` if given) that ends after the given time."""
        for phase in self.phases:
            matches = phase.kind == kind and (index is None or phase.index == index)
            if matches and phase.end > not_ended_before:
                return phase
        return None

    def cut(self, at: float, tail: list[Phase], outcome: str, reason: str | None) -> None:
        """End the operation early at ``at``: keep what happened before, then ``tail``."""
        kept: list[Phase] = []
        for phase in self.phases:
            if phase.start >= at:
                break
            kept.append(phase if phase.end <= at else _replace_end(phase, at))
        self.phases = kept + tail
        self.outcome = outcome
        self.failure_reason = reason
        self.cut_at = at


def _replace_end(phase: Phase, end: float) -> Phase:
    return Phase(phase.kind, phase.start, end, phase.endpoint_status, phase.variant_status,
                 phase.message, phase.index)


class _Builder:
    def __init__(self, start: float, status: str) -> None:
        self.t = start
        self.status = status
        self.phases: list[Phase] = []

    def add(self, kind: str, seconds: float, variant_status: str | None, message: str,
            index: int | None = None) -> None:
        if seconds <= 0:  # a zero-length phase is never observable
            return
        self.phases.append(
            Phase(kind, self.t, self.t + seconds, self.status, variant_status, message, index)
        )
        self.t += seconds


def single_phase(kind: str, start: float, seconds: float, status: str, message: str) -> list[Phase]:
    builder = _Builder(start, status)
    builder.add(kind, seconds, None, message)
    return builder.phases


def linear_steps(routing: Json, green: list[GreenVariant]) -> int:
    """Number of LINEAR steps: ceil(100 / step%) or ceil(count / step instances), the largest over
    the variants. Missing LinearStepSize: 10% (*unverified*)."""
    size = routing.get("LinearStepSize", {"Type": "CAPACITY_PERCENT", "Value": 10})
    value: int = size["Value"]
    if size["Type"] == "CAPACITY_PERCENT":
        return math.ceil(100 / value)
    counts = [v.instance_count for v in green if v.instance_count is not None] or [1]
    return max(math.ceil(c / value) for c in counts)


def size_in_instances(size: Json, count: int) -> int:
    """A CapacitySize as whole instances (percent rounded down, at least 1: *unverified*)."""
    if size["Type"] == "INSTANCE_COUNT":
        return max(1, min(int(size["Value"]), count))
    percent: int = size["Value"]
    return max(1, math.floor(count * percent / 100))


def rolling_batch(policy: Json, green: list[GreenVariant]) -> tuple[int, int]:
    """(instances per batch, number of batches) of a rolling deployment (single variant)."""
    count = green[0].instance_count or 1
    batch = size_in_instances(policy["MaximumBatchSize"], count)
    return batch, math.ceil(count / batch)


def update_phases(
    start: float, config: Json, green: list[GreenVariant], timings: Timings, rng: random.Random
) -> list[Phase]:
    """The phases of a deployment under the effective DeploymentConfig ``config``."""
    b = _Builder(start, "Updating")
    rolling = config.get("RollingUpdatePolicy")
    if rolling is not None:
        batch, batches = rolling_batch(rolling, green)
        wait = rolling["WaitIntervalInSeconds"]
        for i in range(batches):
            b.add("provisioning", draw(rng, timings.provision), "Creating",
                  f"Provisioning batch {i + 1}/{batches} ({batch} instance(s))", i)
            b.add("traffic", draw(rng, timings.traffic_shift), "ActivatingTraffic",
                  f"Shifting traffic to batch {i + 1}/{batches}", i)
            b.add("rolling-bake", wait, "Baking", f"Baking batch {i + 1}/{batches}", i)
            b.add("terminate", draw(rng, timings.terminate), "Deleting",
                  f"Terminating {batch} old instance(s)", i)
        return b.phases

    policy = config["BlueGreenUpdatePolicy"]
    routing = policy["TrafficRoutingConfiguration"]
    kind = routing["Type"]
    wait = routing["WaitIntervalInSeconds"]
    b.add("provisioning", draw(rng, timings.provision), "Creating", "Provisioning the new fleet")
    if kind == "CANARY":
        b.add("traffic", draw(rng, timings.traffic_shift), "ActivatingTraffic",
              "Shifting traffic to the canary", 0)
        b.add("canary-bake", wait, "Baking", "Baking the canary")
        b.add("traffic", draw(rng, timings.traffic_shift), "ActivatingTraffic",
              "Shifting the remaining traffic to the new fleet", 1)
    elif kind == "LINEAR":
        steps = linear_steps(routing, green)
        for i in range(steps):
            b.add("traffic", draw(rng, timings.traffic_shift), "ActivatingTraffic",
                  f"Shifting linear step {i + 1}/{steps}", i)
            b.add("linear-bake", wait, "Baking", f"Baking linear step {i + 1}/{steps}", i)
    else:  # ALL_AT_ONCE: WaitIntervalInSeconds has no role (*unverified*)
        b.add("traffic", draw(rng, timings.traffic_shift), "ActivatingTraffic",
              "Shifting 100% of traffic to the new fleet")
    b.add("final-bake", policy.get("TerminationWaitInSeconds", 0), "Baking", "Final baking period")
    b.add("terminate", draw(rng, timings.terminate), "Deleting", "Terminating the old fleet")
    return b.phases


def rollback_phases(
    timeline: Timeline, at: float, timings: Timings, rng: random.Random
) -> list[Phase]:
    """RollingBack phases from ``at``.

    Blue/green: one phase (all traffic back to blue). Rolling: one phase per batch of
    RollbackMaximumBatchSize over the new instances provisioned so far; absent means 100%, blue/
    green style (fact sheet, RollingUpdatePolicy row and "What happens" table).
    """
    batches = 1
    rolling = (timeline.deployment_config or {}).get("RollingUpdatePolicy")
    if rolling is not None and "RollbackMaximumBatchSize" in rolling:
        batch, _ = rolling_batch(rolling, timeline.green)
        count = timeline.green[0].instance_count or 1
        started = sum(1 for p in timeline.phases if p.kind == "provisioning" and p.start < at)
        provisioned = min(count, max(1, started) * batch)
        per_rollback = size_in_instances(rolling["RollbackMaximumBatchSize"], count)
        batches = max(1, math.ceil(provisioned / per_rollback))
    b = _Builder(at, "RollingBack")
    for i in range(batches):
        # *Unverified*: what PendingDeploymentSummary shows while rolling back.
        b.add("rollback", draw(rng, timings.rollback), "Deleting",
              f"Rolling back to the old fleet (batch {i + 1}/{batches})", i)
    return b.phases
