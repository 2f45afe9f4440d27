"""When the handler looks at the endpoint next: closely only where the end can be near."""

from __future__ import annotations

from sagemaker_rollout_handler.decisions import Observation, Phase
from sagemaker_rollout_handler.schedule import (
    CREATING_INTERVAL,
    DENSE_INTERVAL,
    SPARSE_INTERVAL,
    bake_lengths,
    seconds_until_next_check,
)

CANARY = {"BlueGreenUpdatePolicy": {
    "TrafficRoutingConfiguration": {"Type": "CANARY", "WaitIntervalInSeconds": 600},
    "TerminationWaitInSeconds": 300}}


def updating(*statuses: str, start: float = 1000.0) -> Observation:
    return Observation(status="Updating", config_name="a", pending_config_name="b",
                       phases=tuple(Phase(f"v{i}", s, "", start) for i, s in enumerate(statuses)))


def test_bake_lengths_are_the_deployment_configs_waits_shortest_first() -> None:
    assert bake_lengths(CANARY) == (300, 600)
    assert bake_lengths({"RollingUpdatePolicy": {"WaitIntervalInSeconds": 120}}) == (120,)
    assert bake_lengths(None) == ()


def test_a_bake_is_not_looked_at_again_before_its_earliest_end() -> None:
    assert seconds_until_next_check(updating("Baking"), (300, 600), now=1010.0) == 290.0


def test_terminating_the_old_fleet_is_watched_closely() -> None:
    assert seconds_until_next_check(updating("Deleting"), (300,), now=1010.0) == DENSE_INTERVAL


def test_rolling_back_is_watched_closely() -> None:
    observed = Observation(status="RollingBack", config_name="a")
    assert seconds_until_next_check(observed, (300,), now=1010.0) == DENSE_INTERVAL


def test_provisioning_is_looked_at_once_per_polling_round() -> None:
    assert seconds_until_next_check(updating("Creating"), (300,), now=1010.0) == SPARSE_INTERVAL


def test_a_mixed_state_of_variants_is_not_skipped_over() -> None:
    assert seconds_until_next_check(updating("Baking", "Creating"), (300,), now=1010.0) == (
        SPARSE_INTERVAL)


def test_an_endpoint_being_created_is_looked_at_steadily() -> None:
    observed = Observation(status="Creating", config_name="a")
    assert seconds_until_next_check(observed, (), now=0.0) == CREATING_INTERVAL


def test_a_bake_past_its_shortest_length_is_looked_at_again_at_its_next_possible_end() -> None:
    # A 600 s canary bake, 400 s in: not the 300 s termination wait, so the next end is at 600 s.
    assert seconds_until_next_check(updating("Baking"), (300, 600), now=1400.0) == 200.0


def test_a_bake_past_every_declared_length_is_looked_at_once_per_polling_round() -> None:
    assert seconds_until_next_check(updating("Baking"), (300,), now=1400.0) == SPARSE_INTERVAL
