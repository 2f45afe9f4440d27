"""When a waiting request looks and wakes: a pure function of its state (schedule.py)."""

from __future__ import annotations

import math
from dataclasses import replace

from sagemaker_rollout_handler.decisions import Progress
from sagemaker_rollout_handler.schedule import (
    DELETE_INTERVAL,
    FIRST_CHECK,
    SAFETY_INTERVAL,
    SCHEDULER_PRECISION,
    WATCH_SECONDS,
    bake_lengths,
    events_lost,
    next_safety_wake,
    plan_wake,
)
from sagemaker_rollout_handler.state import WaitState

START = 1_767_225_600.0
STATE = WaitState(target_id="ep", creates=False, deadline=START + 3510, started=START,
                  progress=Progress(issued=True, issued_at=START))
CANARY = {"BlueGreenUpdatePolicy": {
    "TrafficRoutingConfiguration": {"Type": "CANARY", "WaitIntervalInSeconds": 600},
    "TerminationWaitInSeconds": 300}}


def test_bake_lengths_are_the_deployment_configs_waits_shortest_first() -> None:
    assert bake_lengths(CANARY) == (300, 600)
    assert bake_lengths({"RollingUpdatePolicy": {"WaitIntervalInSeconds": 120}}) == (120,)
    assert bake_lengths(None) == ()


def test_the_first_safety_wake_checks_that_events_flow_then_they_are_trusted() -> None:
    assert next_safety_wake(STATE, START + 1, deleting=False) == START + FIRST_CHECK
    seen = replace(STATE, events_seen=1)
    assert next_safety_wake(seen, START + 100, deleting=False) == START + 100 + SAFETY_INTERVAL


def test_a_delete_wakes_every_minute_since_no_event_says_an_endpoint_is_gone() -> None:
    seen = replace(STATE, events_seen=3)
    assert next_safety_wake(seen, START, deleting=True) == START + DELETE_INTERVAL


def test_no_wake_is_ever_later_than_the_deadline() -> None:
    seen = replace(STATE, events_seen=1)
    assert next_safety_wake(seen, STATE.deadline - 10, deleting=False) == STATE.deadline


def test_events_are_lost_when_none_came_after_our_call() -> None:
    assert events_lost(STATE, START + FIRST_CHECK, by_event=False)
    assert not events_lost(replace(STATE, events_seen=1), START + 600, by_event=False)
    assert not events_lost(STATE, START + 600, by_event=True)


def test_events_are_lost_when_a_change_seen_unannounced_stays_unannounced() -> None:
    # A scheduled look saw a change before its event came (marked); the next scheduled look
    # still finds the mark: no event has come since.
    marked = replace(STATE, events_seen=3, unannounced_at=START + 540)
    assert events_lost(marked, START + 600, by_event=False)
    assert not events_lost(marked, START + 600, by_event=True)


def test_silence_is_no_loss_when_we_changed_nothing() -> None:
    # An update waiting for a maintenance window made no call: no event is due.
    waiting = replace(STATE, progress=Progress())
    assert not events_lost(waiting, START + 600, by_event=False)


def test_a_degraded_watch_hands_over_to_a_successor_armed_to_fire_before_it_ends() -> None:
    degraded = replace(STATE, degraded=True, watch_until=START + 95)
    plan = plan_wake(degraded, START + 20, deleting=False, budget_end=START + 400)
    assert plan.first_look == START + 95  # where the predecessor stops looking
    assert plan.watch_until == START + 95 + WATCH_SECONDS
    # Scheduler fires within a minute after the time given: still before the watch ends.
    assert plan.wake_at + SCHEDULER_PRECISION <= plan.watch_until
    assert plan.wake_at == math.floor(plan.watch_until / 60) * 60 - 60


def test_a_degraded_watch_never_outlasts_the_lambda_time_it_has() -> None:
    degraded = replace(STATE, degraded=True, watch_until=START)
    plan = plan_wake(degraded, START, deleting=False, budget_end=START + 60)
    assert plan.watch_until == START + 60


def test_a_trusting_wake_looks_once() -> None:
    plan = plan_wake(replace(STATE, events_seen=2), START + 500, deleting=False,
                     budget_end=START + 800)
    assert plan.first_look == plan.watch_until == START + 500
