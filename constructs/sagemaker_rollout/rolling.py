"""The rolling update policy (RollingUpdatePolicy): per batch, provision new capacity, shift
traffic to it, bake, terminate as much old capacity; a rollback re-provisions the old capacity.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from aws_cdk import Duration

from .capacity import CapacitySize, ShareLimit
from .durations import raise_refusals, wait_seconds
from .rules import Rule, refusal, refuse
from .time_budget import ROLLBACK_ALLOWANCE_SECONDS, Knob, Term, TimeBudget
from .update_policy import UpdatePolicy, common_seconds
from .variant_facts import ResolvedVariant


class RollingPolicy(UpdatePolicy):
    """A validated rolling policy."""

    # botocore model, RollingUpdatePolicy.MaximumBatchSize.
    batch_limit = ShareLimit(Rule.ROLLING_BATCH_5_TO_50, "rolling batch_size", 5, 50)

    def __init__(
        self,
        batch_size: CapacitySize,
        wait_seconds: int,
        rollback_batch_size: CapacitySize | None,
        maximum_execution_timeout_seconds: int | None,
        provisioning_allowance_seconds: int,
    ) -> None:
        super().__init__(maximum_execution_timeout_seconds, provisioning_allowance_seconds)
        self.batch_size = batch_size
        #: The bake after each batch (WaitIntervalInSeconds).
        self.wait_seconds = wait_seconds
        #: None: 100%, "a blue/green rollback strategy" (API reference, CapacitySize).
        self.rollback_batch_size = rollback_batch_size

    @staticmethod
    def build(
        batch_size: CapacitySize,
        bake_time: Duration,
        rollback_batch_size: CapacitySize | None,
        maximum_execution_timeout: Duration | None,
        provisioning_allowance: Duration | None,
    ) -> RollingPolicy:
        """The policy, every value checked; raises one ValueError listing every refusal."""
        errors: list[str] = []
        wait = wait_seconds(errors, "rolling bake_time", bake_time)
        refused = RollingPolicy.batch_limit.check_percent(batch_size)
        if refused is not None:
            errors.append(refused)
        timeout, provisioning = common_seconds(
            errors, maximum_execution_timeout, provisioning_allowance
        )
        raise_refusals(errors, "DeploymentStrategy.rolling")
        return RollingPolicy(batch_size, wait, rollback_batch_size, timeout, provisioning)

    @property
    def kind(self) -> str:
        return "ROLLING"

    @property
    def step_size(self) -> CapacitySize | None:
        return self.batch_size

    @property
    def share_limit(self) -> ShareLimit | None:
        return self.batch_limit

    @property
    def needs_instance_count(self) -> bool:
        return True

    def exclusions(self, variants: Sequence[ResolvedVariant]) -> list[str]:
        # Fact sheet, "Exclusions": "Rolling deployments do not support serverless endpoints or
        # endpoints with more than one variant" (deployment-guardrails-exclusions).
        refused: list[str] = []
        serverless = [v.name for v in variants if v.serverless]
        if serverless:
            refused.append(refusal(
                Rule.ROLLING_NOT_SERVERLESS,
                f"a rolling deployment on serverless variant(s) {', '.join(serverless)}; the "
                "limit is provisioned instances only. Fix: use DeploymentStrategy.all_at_once()."))
        if len(variants) > 1:
            refused.append(refusal(
                Rule.ROLLING_SINGLE_VARIANT,
                f"a rolling deployment on {len(variants)} variants "
                f"({', '.join(v.name for v in variants)}); the limit is 1 variant. Fix: use "
                "DeploymentStrategy.blue_green(...)."))
        return refused

    def shadow_variants_refusal(self) -> str | None:
        # The same exclusion: a shadow variant is a second variant.
        return refuse(
            Rule.ROLLING_SINGLE_VARIANT, "deployment", "DeploymentStrategy.rolling(...) with "
            "shadow_variants", "1 variant (a shadow variant is a second one)",
            "use DeploymentStrategy.blue_green(...) (a canary, say) or all_at_once().")

    def budget(self, instance_counts: Sequence[int], service_timeout: int) -> TimeBudget:
        count = instance_counts[0] if instance_counts else 1
        batches = self.batch_size.steps_to_cover(count)
        provisioning = self.provisioning_allowance_seconds
        rollback = self.rollback_batch_size
        # Absent or 100%: one blue/green style rollback (API reference, CapacitySize).
        rollback_batches = 1 if rollback is None else rollback.steps_to_cover(count)
        return TimeBudget(
            worst_case_terms=(Term("provisioning allowance per batch", provisioning, batches),
                              Term("bake per batch", self.wait_seconds, batches)),
            rollback_terms=(Term("rollback allowance", ROLLBACK_ALLOWANCE_SECONDS),
                            Term("re-provisioning per rollback batch", provisioning,
                                 rollback_batches)),
            waits=self.wait_seconds * batches,
            service_timeout=service_timeout,
            knobs=self._knobs(count, batches, rollback_batches),
        )

    def _knobs(self, count: int, batches: int, rollback_batches: int) -> tuple[Knob, ...]:
        """What the time budget can propose to lower: the bake, the provisioning allowance, the
        number of batches and the number of rollback batches."""
        provisioning, wait = self.provisioning_allowance_seconds, self.wait_seconds
        return (
            Knob("bake_time", wait, worst=batches, waits=batches),
            Knob("provisioning_allowance", provisioning, worst=batches, rollback=rollback_batches),
            Knob("batch_size", batches, worst=provisioning + wait, waits=wait, low=1,
                 sizes=lambda most: self.batch_limit.size_for_steps(most, [count])),
            Knob("rollback_batch_size", rollback_batches, rollback=provisioning, worst=0, low=1,
                 sizes=lambda most: _rollback_size(most, count)),
        )

    def render(self, timeout: int | None) -> dict[str, Any]:
        policy: dict[str, Any] = {
            "MaximumBatchSize": self.batch_size.render(),
            "WaitIntervalInSeconds": self.wait_seconds,
        }
        if self.rollback_batch_size is not None:
            policy["RollbackMaximumBatchSize"] = self.rollback_batch_size.render()
        policy["MaximumExecutionTimeoutInSeconds"] = timeout
        return {"RollingUpdatePolicy": policy}


def _rollback_size(most: int, count: int) -> str:
    """The rollback batch size that rolls `count` instances back in at most `most` batches."""
    if most <= 1:
        return "None (leave it out: one blue/green rollback of all the traffic)"
    return f"CapacitySize.count({math.ceil(count / most)})"
