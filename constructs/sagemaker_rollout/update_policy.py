"""What every deployment strategy has: the validated update policy behind `DeploymentStrategy`.

`DeploymentStrategy` (deployment.py) is the public face with the factories; behind it is one
`UpdatePolicy`: `BlueGreenPolicy` (blue_green.py, with its `TrafficRouting`) or `RollingPolicy`
(rolling.py). Each policy owns its limits, its rendering, its terms of the time budget and its
exclusions; the rules that apply to every policy are in validation.py.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from aws_cdk import Duration

from .capacity import CapacitySize, ShareLimit
from .durations import whole_seconds
from .rules import Rule
from .time_budget import (
    MAX_MAXIMUM_EXECUTION_TIMEOUT_SECONDS,
    MIN_MAXIMUM_EXECUTION_TIMEOUT_SECONDS,
    PROVISIONING_ALLOWANCE_SECONDS,
    TimeBudget,
)
from .variant_facts import ResolvedVariant

#: Provisioning allowances above this are refused: one fleet in more than an hour cannot fit a
#: one-hour custom resource anyway.
MAX_PROVISIONING_ALLOWANCE_SECONDS = 3600


class UpdatePolicy(ABC):
    """A validated update policy; its durations in whole seconds."""

    def __init__(
        self, maximum_execution_timeout_seconds: int | None, provisioning_allowance_seconds: int
    ) -> None:
        #: The user's MaximumExecutionTimeoutInSeconds; None: the largest that fits.
        self.maximum_execution_timeout_seconds = maximum_execution_timeout_seconds
        #: Time assumed to provision one fleet or batch, for the time budget.
        self.provisioning_allowance_seconds = provisioning_allowance_seconds

    @property
    @abstractmethod
    def kind(self) -> str:
        """`ALL_AT_ONCE`, `CANARY`, `LINEAR` (blue/green) or `ROLLING`."""

    @property
    @abstractmethod
    def step_size(self) -> CapacitySize | None:
        """The size of a canary, a linear step or a rolling batch; None: all at once."""

    @property
    @abstractmethod
    def share_limit(self) -> ShareLimit | None:
        """The limit of `step_size` against each variant's fleet."""

    @property
    @abstractmethod
    def needs_instance_count(self) -> bool:
        """Whether the steps (and the time budget) need each variant's instance count."""

    @property
    def is_plain_all_at_once(self) -> bool:
        """All the traffic at once with no bake at all (nothing for alarms to watch)."""
        return False

    @abstractmethod
    def exclusions(self, variants: Sequence[ResolvedVariant]) -> list[str]:
        """The refusals of this policy for these variants (fact sheet, "Exclusions")."""

    def shadow_variants_refusal(self) -> str | None:
        """The refusal of this policy on an endpoint with a shadow variant, or None."""
        return None

    @abstractmethod
    def budget(self, instance_counts: Sequence[int], service_timeout: int) -> TimeBudget:
        """The worst-case timeline (time_budget.py) for variants of these instance counts."""

    @abstractmethod
    def render(self, timeout: int | None) -> dict[str, Any]:
        """The API's `DeploymentConfig` without `AutoRollbackConfiguration`: exactly one policy,
        always (fact sheet: "Only one update policy: BlueGreenUpdatePolicy or
        RollingUpdatePolicy, not both")."""


def common_seconds(
    errors: list[str],
    maximum_execution_timeout: Duration | None,
    provisioning_allowance: Duration | None,
) -> tuple[int | None, int]:
    """The maximum execution timeout (None: not given) and the provisioning allowance, in
    seconds, range-checked."""
    timeout: int | None = None
    if maximum_execution_timeout is not None:
        # Fact sheet: MaximumExecutionTimeoutInSeconds 600..28800 (botocore model).
        timeout = whole_seconds(
            errors, "maximum_execution_timeout", maximum_execution_timeout,
            low=MIN_MAXIMUM_EXECUTION_TIMEOUT_SECONDS, high=MAX_MAXIMUM_EXECUTION_TIMEOUT_SECONDS,
            rule=Rule.TIMEOUT_RANGE,
            fix="use 10 minutes or more (and, for a one-hour custom resource, less than an hour), "
            "or leave it out to get the largest that fits.",
        )
    if provisioning_allowance is None:
        return timeout, PROVISIONING_ALLOWANCE_SECONDS
    provisioning = whole_seconds(
        errors, "provisioning_allowance", provisioning_allowance,
        low=0, high=MAX_PROVISIONING_ALLOWANCE_SECONDS, rule=Rule.PROVISIONING_ALLOWANCE_RANGE,
        fix="use a realistic time to start one fleet or batch, at most Duration.hours(1).",
    )
    return timeout, provisioning
