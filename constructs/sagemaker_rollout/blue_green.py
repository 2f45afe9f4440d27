"""The blue/green update policy (BlueGreenUpdatePolicy): a green fleet, traffic shifted to it by
its `TrafficRouting` (traffic_routing.py), a final bake (the termination wait), blue terminated.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Duration

from .capacity import CapacitySize, ShareLimit
from .durations import raise_refusals, whole_seconds
from .rules import Rule
from .time_budget import ROLLBACK_ALLOWANCE_SECONDS, Knob, Term, TimeBudget
from .traffic_routing import AllAtOnceTrafficRouting, TrafficRouting
from .update_policy import UpdatePolicy, common_seconds
from .variant_facts import ResolvedVariant

#: TerminationWaitInSeconds 0..3600 (botocore model BlueGreenUpdatePolicy; fact sheet,
#: "UpdateEndpoint request").
MAX_TERMINATION_WAIT_SECONDS = 3600


class BlueGreenPolicy(UpdatePolicy):
    """A validated blue/green policy."""

    def __init__(
        self,
        routing: TrafficRouting,
        termination_wait_seconds: int,
        maximum_execution_timeout_seconds: int | None,
        provisioning_allowance_seconds: int,
    ) -> None:
        super().__init__(maximum_execution_timeout_seconds, provisioning_allowance_seconds)
        self.routing = routing
        #: The final bake before blue is terminated (TerminationWaitInSeconds).
        self.termination_wait_seconds = termination_wait_seconds

    @staticmethod
    def build(
        traffic_routing: TrafficRouting | None,
        termination_wait: Duration | None,
        maximum_execution_timeout: Duration | None,
        provisioning_allowance: Duration | None,
    ) -> BlueGreenPolicy:
        """The policy, every value checked; raises one ValueError listing every refusal."""
        errors: list[str] = []
        termination = 0
        if termination_wait is not None:
            # Fact sheet: TerminationWaitInSeconds 0..3600 (botocore model BlueGreenUpdatePolicy).
            termination = whole_seconds(
                errors, "termination_wait", termination_wait, low=0,
                high=MAX_TERMINATION_WAIT_SECONDS, rule=Rule.TERMINATION_WAIT_RANGE,
                fix="use a termination wait from Duration.seconds(0) to Duration.hours(1).",
            )
        timeout, provisioning = common_seconds(
            errors, maximum_execution_timeout, provisioning_allowance
        )
        raise_refusals(errors, "DeploymentStrategy.blue_green")
        return BlueGreenPolicy(traffic_routing or TrafficRouting.all_at_once(), termination,
                               timeout, provisioning)

    @property
    def kind(self) -> str:
        return self.routing.kind

    @property
    def step_size(self) -> CapacitySize | None:
        return self.routing.size

    @property
    def share_limit(self) -> ShareLimit | None:
        return self.routing.share_limit

    @property
    def needs_instance_count(self) -> bool:
        return self.routing.needs_instance_count

    @property
    def is_plain_all_at_once(self) -> bool:
        return (isinstance(self.routing, AllAtOnceTrafficRouting)
                and self.termination_wait_seconds == 0)

    def exclusions(self, variants: Sequence[ResolvedVariant]) -> list[str]:
        refused = self.routing.serverless_refusal([v.name for v in variants if v.serverless])
        return [] if refused is None else [refused]

    def budget(self, instance_counts: Sequence[int], service_timeout: int) -> TimeBudget:
        bake, steps = self.routing.bake_term(instance_counts)
        termination = self.termination_wait_seconds
        knobs = [*self.routing.knobs(instance_counts, steps),
                 Knob("termination_wait", termination, worst=1, waits=1),
                 Knob("provisioning_allowance", self.provisioning_allowance_seconds, worst=1)]
        return TimeBudget(
            worst_case_terms=(Term("provisioning allowance", self.provisioning_allowance_seconds),
                              bake, Term("termination wait", termination)),
            rollback_terms=(Term("rollback allowance", ROLLBACK_ALLOWANCE_SECONDS),),
            waits=self.routing.wait_seconds * steps + termination,
            service_timeout=service_timeout,
            knobs=tuple(knobs),
        )

    def render(self, timeout: int | None) -> dict[str, Any]:
        return {"BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": self.routing.render(),
            "TerminationWaitInSeconds": self.termination_wait_seconds,
            "MaximumExecutionTimeoutInSeconds": timeout,
        }}
