"""Traffic routings: how a blue/green deployment shifts traffic to the new (green) fleet.

The shape follows aws-cdk's CodeDeploy traffic-routing configs: a base class with static
factories, one small class per mode, each owning what is particular to it::

    TrafficRouting.all_at_once()
    TrafficRouting.canary(size=CapacitySize.percent(25), bake_time=Duration.minutes(10))
    TrafficRouting.linear(step_size=CapacitySize.percent(25), interval=Duration.minutes(5))

What each class owns: its `kind` (the API's TrafficRoutingConfig.Type), its step's `share_limit`
(checked by the factory for a percentage, by the strategy against each variant's instance count),
what it renders besides Type and WaitIntervalInSeconds (`_render_step`), its bake in the time
budget (`bake_term`), whether it needs the instance count at synth (`needs_instance_count`) and
what it refuses (`serverless_refusal`).

To add a traffic-routing mode: add a subclass here with those members and a static factory on
`TrafficRouting` (keyword-only arguments, `Duration`s converted with `durations.py`); add its
rules (and warnings, if any) to `rules.py` and to the documentation's Rules table; teach the
SageMaker emulator (`tests/sagemaker_emulator`) its timeline; test it in
`tests/test_deployment_rules.py` and `tests/test_deployment_properties.py`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, ClassVar

from aws_cdk import Duration

from .capacity import CapacitySize, ShareLimit
from .durations import raise_refusals, wait_seconds
from .rules import Rule, refusal
from .time_budget import Knob, Term


class TrafficRouting(ABC):
    """How a blue/green deployment shifts traffic to the new (green) fleet.

    Use `TrafficRouting.all_at_once()`, `.canary(...)` or `.linear(...)`.
    """

    #: The API's TrafficRoutingConfig.Type.
    kind: ClassVar[str]
    #: The limit of one step's share of a variant's fleet; None: one step of everything.
    share_limit: ClassVar[ShareLimit | None] = None
    #: Whether planning the steps (and the time budget) needs each variant's instance count.
    needs_instance_count: ClassVar[bool] = False
    #: The bake's parameter, as the factory names it.
    wait_field: ClassVar[str] = "bake_time"

    def __init__(self, size: CapacitySize | None, wait_seconds: int) -> None:
        """Private: use the static factories (they validate)."""
        #: The size of the canary or of each linear step; None for all at once.
        self.size = size
        #: The bake after each step (WaitIntervalInSeconds), in whole seconds.
        self.wait_seconds = wait_seconds

    @property
    def wait(self) -> Duration:
        """The bake after each step (WaitIntervalInSeconds)."""
        return Duration.seconds(self.wait_seconds)

    @staticmethod
    def all_at_once() -> TrafficRouting:
        """Shift 100% of the traffic to the green fleet in one step, then the final bake
        (`termination_wait`), then terminate blue (fact sheet, "What happens during each kind of
        deployment")."""
        return AllAtOnceTrafficRouting(None, 0)

    @staticmethod
    def canary(*, size: CapacitySize, bake_time: Duration) -> TrafficRouting:
        """Shift `size` of the fleet to green, bake `bake_time` (alarms watched), then the rest.

        `size` must be at most 50% of the variant's total instance count (botocore model,
        TrafficRoutingConfig.CanarySize: "must be less than or equal to 50% of the variant's
        total instance count"). A percentage is checked here; an instance count in `bind`.
        """
        return CanaryTrafficRouting._build(size, bake_time, "canary bake_time")

    @staticmethod
    def linear(*, step_size: CapacitySize, interval: Duration) -> TrafficRouting:
        """Shift `step_size` of the fleet at a time, baking `interval` after each step.

        `step_size` must be 10..50% of the variant's total instance count (botocore model,
        TrafficRoutingConfig.LinearStepSize: "must be 10-50% of the variant's total instance
        count").
        """
        return LinearTrafficRouting._build(step_size, interval, "linear interval")

    @classmethod
    def _build(cls, size: CapacitySize, wait: Duration, wait_field: str) -> TrafficRouting:
        """A routing of this class with a step of `size` and a bake of `wait`, checked."""
        errors: list[str] = []
        seconds = wait_seconds(errors, wait_field, wait)
        limit = cls.share_limit
        refused = limit.check_percent(size) if limit is not None else None
        if refused is not None:
            errors.append(refused)
        raise_refusals(errors, f"TrafficRouting.{cls.kind.lower()}")
        return cls(size, seconds)

    def render(self) -> dict[str, Any]:
        """The API's `TrafficRoutingConfiguration`."""
        # WaitIntervalInSeconds is required by the API even for ALL_AT_ONCE (fact sheet: "The
        # developer guide's own ALL_AT_ONCE example omits WaitIntervalInSeconds, which the API
        # requires: boto3 rejects it").
        return {"Type": self.kind, "WaitIntervalInSeconds": self.wait_seconds,
                **self._render_step()}

    def _render_step(self) -> dict[str, Any]:
        """The size of the step, as this mode names it in the API (nothing by default)."""
        return {}

    @abstractmethod
    def bake_term(self, instance_counts: Sequence[int]) -> tuple[Term, int]:
        """The bakes of the time budget, and how many steps bake, for variants of these
        (concrete) instance counts."""

    def knobs(self, instance_counts: Sequence[int], steps: int) -> list[Knob]:
        """What of this routing the time budget can propose to lower: the bake, and for steps
        of a size, their number."""
        if not steps:
            return []
        found = [Knob(self.wait_field, self.wait_seconds, worst=steps, waits=steps)]
        if self.needs_instance_count and self.size is not None and self.share_limit:
            limit = self.share_limit
            found.append(Knob("step_size", steps, worst=self.wait_seconds,
                              waits=self.wait_seconds, low=1,
                              sizes=lambda most: limit.size_for_steps(most, instance_counts)))
        return found

    def serverless_refusal(self, serverless_variants: Sequence[str]) -> str | None:
        """The refusal of this routing on these serverless variants, or None when allowed."""
        if not serverless_variants:
            return None
        # Fact sheet, "Exclusions": serverless endpoints do not support blue/green traffic
        # shifting beyond ALL_AT_ONCE (*unverified detail*; the emulator enforces it too).
        return refusal(
            Rule.SERVERLESS_ALL_AT_ONCE_ONLY,
            f"{self.kind} traffic routing on serverless variant(s) "
            f"{', '.join(serverless_variants)}; the limit is ALL_AT_ONCE for serverless. Fix: use "
            "TrafficRouting.all_at_once() (with a termination_wait to bake).",
        )


class AllAtOnceTrafficRouting(TrafficRouting):
    """All the traffic in one step; no bake before the termination wait."""

    kind = "ALL_AT_ONCE"

    def bake_term(self, instance_counts: Sequence[int]) -> tuple[Term, int]:
        # No step bakes (a zero term; the time budget's messages show non-zero terms only).
        return Term("canary bake", self.wait_seconds, 0), 0

    def serverless_refusal(self, serverless_variants: Sequence[str]) -> str | None:
        return None


class CanaryTrafficRouting(TrafficRouting):
    """One canary step of `size`, one bake, then the rest of the traffic."""

    kind = "CANARY"
    # botocore model, TrafficRoutingConfig.CanarySize.
    share_limit = ShareLimit(Rule.CANARY_AT_MOST_HALF, "canary size", 0, 50)

    def _render_step(self) -> dict[str, Any]:
        assert self.size is not None
        return {"CanarySize": self.size.render()}

    def bake_term(self, instance_counts: Sequence[int]) -> tuple[Term, int]:
        return Term("canary bake", self.wait_seconds, 1), 1


class LinearTrafficRouting(TrafficRouting):
    """Steps of `size`, each followed by a bake, until all the traffic has moved."""

    kind = "LINEAR"
    wait_field = "interval"
    # botocore model, TrafficRoutingConfig.LinearStepSize.
    share_limit = ShareLimit(Rule.LINEAR_STEP_10_TO_50, "linear step_size", 10, 50)
    needs_instance_count = True

    def _render_step(self) -> dict[str, Any]:
        assert self.size is not None
        return {"LinearStepSize": self.size.render()}

    def bake_term(self, instance_counts: Sequence[int]) -> tuple[Term, int]:
        assert self.size is not None
        steps = max((self.size.steps_to_cover(c) for c in instance_counts), default=1)
        return Term("linear interval", self.wait_seconds, steps), steps
