"""`CapacitySize`: a share of a production variant's fleet, as instances or as a percentage.

Rendered as the API's `CapacitySize` (`{"Type": "INSTANCE_COUNT" | "CAPACITY_PERCENT",
"Value": int >= 1}`; fact sheet, "UpdateEndpoint request", from the botocore model
`CapacitySize`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .rules import Rule, WarningId, refusal
from .tokens import is_unresolved

INSTANCE_COUNT = "INSTANCE_COUNT"
CAPACITY_PERCENT = "CAPACITY_PERCENT"


@dataclass(frozen=True)
class CapacitySize:
    """A batch / step / canary size. Build it with `CapacitySize.count` or `CapacitySize.percent`.

    Percentages are of the variant's *total* instance count. This library checks them against the
    variant's `initial_instance_count`; with autoscaling the real count at deploy time differs,
    and SageMaker applies its own rules to that count.
    """

    type: str
    value: int

    @staticmethod
    def count(instances: int) -> CapacitySize:
        """`instances` whole instances (>= 1)."""
        return CapacitySize(INSTANCE_COUNT, _whole_at_least_one("CapacitySize.count", instances))

    @staticmethod
    def percent(percent: int) -> CapacitySize:
        """`percent` % of the variant's total instance count (a whole number, 1..100)."""
        value = _whole_at_least_one("CapacitySize.percent", percent)
        if value > 100:
            # Not an API limit (the model only says Value >= 1): a share of a fleet above 100%
            # means nothing, so this library refuses it.
            raise ValueError(
                refusal(
                    Rule.PERCENT_AT_MOST_100,
                    f"CapacitySize.percent({value}) is more than the whole fleet; the limit is "
                    "100. Fix: give a percentage from 1 to 100.",
                )
            )
        return CapacitySize(CAPACITY_PERCENT, value)

    @property
    def is_percent(self) -> bool:
        return self.type == CAPACITY_PERCENT

    def render(self) -> dict[str, Any]:
        """The API's `CapacitySize` structure."""
        return {"Type": self.type, "Value": self.value}

    def describe(self) -> str:
        """`25%` or `2 instance(s)`, for messages."""
        return f"{self.value}%" if self.is_percent else f"{self.value} instance(s)"

    def share_percent(self, instance_count: int) -> float:
        """This size as a percentage of `instance_count` instances."""
        if self.is_percent:
            return float(self.value)
        return 100.0 * self.value / instance_count

    def exact_instances(self, instance_count: int) -> float:
        """This size in instances, before any rounding (`25%` of 6 is 1.5)."""
        if self.is_percent:
            return self.value * instance_count / 100.0
        return float(self.value)

    def planned_instances(self, instance_count: int) -> int:
        """Instances per step assumed by the time budget: rounded DOWN, at least 1, at most all.

        *Unverified assumption*: how SageMaker rounds a percentage to instances is not documented.
        Rounding down is the conservative choice for a time budget (smaller steps, more steps);
        the emulator makes the same assumption (tests/sagemaker_emulator/__init__.py,
        "Percent batch sizes round down to whole instances (at least 1)").
        """
        return min(instance_count, max(1, math.floor(self.exact_instances(instance_count))))

    def steps_to_cover(self, instance_count: int) -> int:
        """How many steps of this size it takes to move the whole fleet."""
        return math.ceil(instance_count / self.planned_instances(instance_count))


def _whole_at_least_one(what: str, value: Any) -> int:
    if is_unresolved(value):
        raise ValueError(
            refusal(
                Rule.CONCRETE_VALUES,
                f"{what}({value!r}) is an unresolved token; the limit is a concrete whole number "
                "known at synth time (sizes are checked against the fleet and the time budget "
                "before anything is deployed). Fix: pass a plain int.",
            )
        )
    if isinstance(value, bool) or not isinstance(value, int | float) or not float(
        value
    ).is_integer():
        raise ValueError(
            refusal(
                Rule.SIZE_AT_LEAST_ONE,
                f"{what}({value!r}) is not a whole number; the limit is a whole number >= 1. "
                "Fix: pass an int.",
            )
        )
    if value < 1:
        # Fact sheet: CapacitySize Value integer >= 1 (botocore model, CapacitySizeValue min 1).
        raise ValueError(
            refusal(
                Rule.SIZE_AT_LEAST_ONE,
                f"{what}({int(value)}) is below the limit of 1 (CapacitySize.Value >= 1). "
                "Fix: use at least 1.",
            )
        )
    return int(value)


@dataclass(frozen=True)
class ShareLimit:
    """The share of a variant's fleet that one step may move: `low`..`high` % (`low` 0: "at
    most `high` %"), written once for each kind of step and checked twice: a percentage when the
    strategy is built, an instance count against each variant's instance count when it is bound.
    """

    rule: Rule
    #: The field, as the user wrote it (``canary size``), for messages.
    what: str
    low: int
    high: int

    def check_percent(self, size: CapacitySize) -> str | None:
        """The refusal of a percentage `size` outside the limit, or None."""
        if not size.is_percent or self.low <= size.value <= self.high:
            return None
        limit = f"at most {self.high}%" if self.low == 0 else f"{self.low}..{self.high}%"
        allowed = f"<= {self.high}" if self.low == 0 else f"from {self.low} to {self.high}"
        return refusal(
            self.rule,
            f"{self.what} = {size.describe()} is outside the limit of {limit} of the variant's "
            f"total instance count ({self.rule.summary}). Fix: use CapacitySize.percent(p) with "
            f"p {allowed}.",
        )

    def check_fleet(
        self,
        size: CapacitySize,
        variant_name: str,
        count: int,
        errors: list[str],
        warnings: list[tuple[WarningId, str]],
    ) -> None:
        """Check `size` against a variant of `count` instances: an instance count must be inside
        the limit (a refusal in `errors`); a percentage that is no real step warns."""
        if size.is_percent:
            warnings.extend(self._rounding_warnings(size, variant_name, count))
            return
        low, high = self.low, self.high
        # Integer arithmetic: share = 100 * value / count, inside [low, high] %.
        if low * count <= 100 * size.value <= high * count:
            return
        first, last = self.fitting_counts(count)
        fix = (f"use CapacitySize.count(k) with k from {first} to {last}."
               if first <= last else self.no_step_fix(count))
        errors.append(refusal(
            self.rule,
            f"variant {variant_name}: {self.what} = {size.describe()} is "
            f"{size.share_percent(count):.3g}% of its {count} instance(s); the limit is "
            f"{'at most ' if low == 0 else f'{low}..'}{high}% ({self.rule.summary}). Fix: {fix}"))

    def fitting_counts(self, count: int) -> tuple[int, int]:
        """The instance counts k (first..last) of a step inside the limit for `count`
        instances; first > last when there is none."""
        return max(1, math.ceil(self.low * count / 100)), self.high * count // 100

    def has_step(self, count: int) -> bool:
        """Whether some instance count of a step is inside the limit for `count` instances."""
        first, last = self.fitting_counts(count)
        return first <= last

    def no_step_fix(self, count: int) -> str:
        """The one advice for a fleet too small for any step inside the limit: more instances
        (then CapacitySize.count(1) fits), or all at once with the bake as termination wait."""
        fleet = count + 1
        while not self.has_step(fleet):
            fleet += 1
        return (f"no {self.what} of {count} instance(s) is inside the limit: give the variant "
                f"initial_instance_count={fleet} (or more) and use CapacitySize.count(1), or use "
                "DeploymentStrategy.all_at_once(termination_wait=...) to bake the whole new fleet "
                "while the alarms watch.")

    def size_for_steps(self, most: int, instance_counts: Sequence[int]) -> str | None:
        """`CapacitySize.count(k)`: the smallest step that covers each of these fleets in at most
        `most` steps, inside the limit for each; None when there is none."""
        if not instance_counts or most < 1:
            return None
        size = max(math.ceil(count / most) for count in instance_counts)
        if all(self.low * count <= 100 * size <= self.high * count for count in instance_counts):
            return f"CapacitySize.count({size})"
        return None

    def _rounding_warnings(
        self, size: CapacitySize, variant_name: str, count: int
    ) -> list[tuple[WarningId, str]]:
        # *Unverified*: SageMaker's rounding of a percentage to instances is not documented: warn
        # when the result is not a whole number of instances strictly between 0 and the fleet.
        exact = size.exact_instances(count)
        first, last = self.fitting_counts(count)
        if not self.has_step(count) and (exact < 1 or math.ceil(exact) >= count):
            # No step of this fleet is inside the limit: one advice, the refusal's.
            return [(WarningId.STEP_IS_WHOLE_FLEET,
                     f"variant {variant_name}: {self.what} {size.describe()} of {count} "
                     f"instance(s) is {exact:g} instance(s): the fleet is too small for a step "
                     f"that guards anything, {self.no_step_fix(count)}")]
        found: list[tuple[WarningId, str]] = []
        if exact < 1:
            found.append((WarningId.STEP_ROUNDS_TO_ZERO,
                          f"variant {variant_name}: {self.what} {size.describe()} of {count} "
                          f"instance(s) is {exact:g} instance(s), which rounds down to 0. Use "
                          f"CapacitySize.count({first}) to say what you mean, or more instances."))
        if math.ceil(exact) >= count:
            found.append((WarningId.STEP_IS_WHOLE_FLEET,
                          f"variant {variant_name}: {self.what} {size.describe()} of {count} "
                          f"instance(s) rounds up to {math.ceil(exact)}, the whole fleet: the "
                          f"step guards nothing. Use CapacitySize.count({last}) or "
                          "DeploymentStrategy.all_at_once()."))
        return found
