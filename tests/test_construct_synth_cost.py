"""What one more endpoint costs at synth, in round trips to jsii's Node process.

Each call from Python into aws-cdk-lib (and each callback from it into Python, such as a ``Lazy``
producer) is a message to the Node process and back: they are what made synth of many endpoints
slow (the README's Benchmark section times it; this counts it, which does not depend on the
machine). Counted by wrapping the one place jsii sends a request: a jsii internal, so a jsii
upgrade that moves it fails here loudly rather than silently counting nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from aws_cdk import Duration
from construct_support import new_stack
from jsii._kernel.providers import process
from sagemaker_rollout import (
    CapacitySize,
    DeploymentStrategy,
    ProductionVariant,
    RolloutEndpoint,
    TrafficRouting,
)

#: Round trips per endpoint, with the benchmark's canary endpoint: the construct, its config, the
#: custom resource, their dependency, the generated name, the stack lookup, the "canary without
#: alarms" warning, the user's own two Durations and their conversions, the Rollout property's
#: digest, and the endpoint's TagManager (created, its ownership tag set, its rendered Tags: what
#: makes Tags.of reach the endpoint). The IAM grant per endpoint is gone (the policy no longer
#: names endpoints).
MAX_ROUND_TRIPS_PER_ENDPOINT = 22


class Counter:
    def __init__(self) -> None:
        self.count = 0


@contextmanager
def counting() -> Iterator[Counter]:
    counter = Counter()
    send = process._NodeProcess.send

    def counted(self: Any, request: Any, response_type: Any) -> Any:
        counter.count += 1
        return send(self, request, response_type)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(process._NodeProcess, "send", counted)
        yield counter


def canary_endpoint(scope: Any, index: int) -> RolloutEndpoint:
    return RolloutEndpoint(
        scope, f"Endpoint{index}",
        variants=[ProductionVariant.instances(model_name=f"model-{index}",
                                              instance_type="ml.m5.xlarge",
                                              initial_instance_count=4)],
        deployment=DeploymentStrategy.blue_green(
            traffic_routing=TrafficRouting.canary(size=CapacitySize.count(1),
                                                  bake_time=Duration.minutes(10)),
            termination_wait=Duration.minutes(5)),
    )


def test_each_endpoint_after_the_first_costs_a_bounded_number_of_round_trips() -> None:
    stack = new_stack()
    canary_endpoint(stack, 0)  # the first creates the stack's provider
    with counting() as counter:
        for index in range(1, 11):
            canary_endpoint(stack, index)
    assert counter.count / 10 <= MAX_ROUND_TRIPS_PER_ENDPOINT


def _synth_round_trips(endpoints: int) -> int:
    stack = new_stack()
    for index in range(endpoints):
        canary_endpoint(stack, index)
    app = stack.node.root
    with counting() as counter:
        app.synth()  # type: ignore[attr-defined]
    return counter.count


def test_synth_makes_no_callback_into_python_per_endpoint() -> None:
    assert _synth_round_trips(10) == _synth_round_trips(1)
