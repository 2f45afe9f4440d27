"""Rollouts longer than an hour over the wire (issue 14): the real handler with a WaitHandle, the
emulator deploying a 2-hour linear rollout, the harness playing CloudFormation's WaitCondition
(handle URL, signals, Timeout, the rollback's clean-up) on one virtual clock.

CloudFormation's order, as each test drives it: the new EndpointConfig and handle are created,
the custom resource's Update is sent and answered (SUCCESS once SageMaker accepted), then the
WaitCondition is created (its Timeout starts) and waits for the handler's signal. A stack
rollback sends the custom resource the old properties, then its clean-up deletes the new handle,
condition and (retained: DeletionPolicy Retain) config.
"""

from __future__ import annotations

from typing import Any

import pytest
from cfn_harness import CloudFormationStack, Harness
from cfn_harness.wait_condition import WaitCondition
from long_support import LongStack
from sagemaker_emulator import SageMakerEmulator, VirtualClock
from waiting_support import ALARM, CONFIG_A, CONFIG_B, ENDPOINT


@pytest.fixture
def long_stack(stack: CloudFormationStack, harness: Harness, sagemaker_client: Any,
               clock: VirtualClock, emulator: SageMakerEmulator) -> LongStack:
    return LongStack(stack, harness, sagemaker_client, clock)


def signal_latency(emulator: SageMakerEmulator, handle: WaitCondition) -> float:
    return handle.signals()[0].arrived_at - emulator.finished_operations(ENDPOINT)[-1].end


def test_a_two_hour_linear_rollout_is_answered_at_once_and_signalled_within_20_s(
    long_stack: LongStack, emulator: SageMakerEmulator, clock: VirtualClock, harness: Harness,
) -> None:
    long_stack.created()
    before = len(emulator.calls)

    response, handle = long_stack.deploy(CONFIG_B)

    assert response.status == "SUCCESS", response.reason
    assert response.elapsed < 10
    assert response.data["EndpointConfigName"] == CONFIG_B
    assert handle.outcome(clock.now()) == "WAITING"
    long_stack.settle()
    deployment = emulator.finished_operations(ENDPOINT)[-1]
    assert deployment.end - deployment.started >= 7200
    (signal,) = handle.signals()
    assert signal.status == "SUCCESS" and CONFIG_B in signal.reason
    assert signal.unique_id == response.request_id
    assert handle.outcome(clock.now()) == "SUCCESS"
    assert signal_latency(emulator, handle) <= 20.0
    assert emulator.calls_to("UpdateEndpoint") == 1
    describes = sum(1 for c in emulator.calls[before:] if c.operation == "DescribeEndpoint")
    assert describes < (deployment.end - deployment.started) / 30 / 4  # a 30 s poller's quarter
    assert harness.aws.schedules() == []


def test_an_alarm_rollback_signals_failure_and_the_stack_rollback_answers_at_once(
    long_stack: LongStack, emulator: SageMakerEmulator, clock: VirtualClock,
) -> None:
    long_stack.created()
    emulator.faults.trip_alarm(ENDPOINT, "linear-bake", index=3, after=100)
    response, handle = long_stack.deploy(CONFIG_B)
    assert response.status == "SUCCESS", response.reason
    long_stack.settle()

    (signal,) = handle.signals()
    assert signal.status == "FAILURE"
    assert ALARM in signal.reason and "rolled back" in signal.reason
    assert CONFIG_A in signal.reason and CONFIG_B in signal.reason
    assert signal_latency(emulator, handle) <= 20.0
    updates = emulator.calls_to("UpdateEndpoint")

    rollback = long_stack.rollback(handle)

    assert rollback.status == "SUCCESS", rollback.reason
    assert rollback.elapsed < 5
    assert emulator.calls_to("UpdateEndpoint") == updates
    assert not long_stack.config_exists(CONFIG_B)  # retained by CloudFormation, deleted by us
    assert long_stack.config_exists(CONFIG_A)
    assert len(handle.signals()) == 1


def test_a_signal_put_that_fails_twice_is_retried_until_it_arrives(
    long_stack: LongStack, emulator: SageMakerEmulator, clock: VirtualClock, harness: Harness,
) -> None:
    long_stack.created()
    response, handle = long_stack.deploy(CONFIG_B)
    assert response.status == "SUCCESS", response.reason
    harness.responses.fail_next(2, status=503)

    long_stack.settle()

    assert harness.responses.refused == 2
    (signal,) = handle.signals()
    assert signal.status == "SUCCESS"
    assert signal_latency(emulator, handle) <= 20.0


def test_a_stack_rollback_20_minutes_in_is_answered_at_once_and_the_endpoint_returns_by_itself(
    long_stack: LongStack, emulator: SageMakerEmulator, clock: VirtualClock, harness: Harness,
) -> None:
    """Another resource failed while SageMaker deploys: the rollback is answered in seconds; the
    new config outlives the clean-up until SageMaker's deployment ends on it, then the endpoint
    is deployed back to the old config and the new one deleted; the deleted handle is never
    signalled."""
    long_stack.created()
    response, handle = long_stack.deploy(CONFIG_B)
    long_stack.run_until(response.arrived_at + 1200)
    assert long_stack.endpoint() == ("Updating", CONFIG_A)

    rollback = long_stack.rollback(handle)

    assert rollback.status == "SUCCESS", rollback.reason
    assert rollback.elapsed < 5
    assert long_stack.config_exists(CONFIG_B)  # SageMaker still deploys it
    long_stack.settle()
    assert long_stack.endpoint() == ("InService", CONFIG_A)
    assert [c.params["EndpointConfigName"] for c in emulator.calls
            if c.operation == "UpdateEndpoint"] == [CONFIG_B, CONFIG_A]
    assert not long_stack.config_exists(CONFIG_B)
    assert handle.puts() == []
    assert harness.aws.schedules() == []


def test_a_cancel_while_sagemaker_rolls_back_by_itself_deploys_nothing_again(
    long_stack: LongStack, emulator: SageMakerEmulator, clock: VirtualClock, harness: Harness,
) -> None:
    """CancelUpdateStack 5 minutes in (SageMaker still provisions); an alarm later rolls the
    deployment back: the endpoint is already on the old config when SageMaker's deployment ends,
    so nothing is deployed again, and the new config is deleted."""
    long_stack.created()
    emulator.faults.trip_alarm(ENDPOINT, "linear-bake", index=1, after=60)
    response, handle = long_stack.deploy(CONFIG_B)
    long_stack.run_until(response.arrived_at + 300)

    cancel = long_stack.rollback(handle)

    assert cancel.status == "SUCCESS", cancel.reason
    assert cancel.elapsed < 5
    long_stack.settle()
    assert long_stack.endpoint() == ("InService", CONFIG_A)
    assert emulator.calls_to("UpdateEndpoint") == 1
    assert not long_stack.config_exists(CONFIG_B)
    assert handle.puts() == []


def test_a_redeploy_of_the_same_change_after_a_failure_gets_a_new_handle_and_succeeds(
    long_stack: LongStack, emulator: SageMakerEmulator, clock: VirtualClock, harness: Harness,
) -> None:
    long_stack.created()
    emulator.faults.trip_alarm(ENDPOINT, "linear-bake", index=0, after=30)
    _, failed = long_stack.deploy(CONFIG_B, logical_id="DeploymentHandleB")
    long_stack.settle()
    assert failed.outcome(clock.now()) == "FAILURE"
    assert long_stack.rollback(failed).status == "SUCCESS"

    # The same change again: the same logical id, a new handle (CloudFormation's clean-up deleted
    # the old one) and a new config name (the retained one was deleted).
    response, handle = long_stack.deploy(CONFIG_B + "-again", logical_id="DeploymentHandleB")

    assert response.status == "SUCCESS", response.reason
    assert handle.url != failed.url
    long_stack.settle()
    assert [s.status for s in handle.signals()] == ["SUCCESS"]
    assert [s.status for s in failed.signals()] == ["FAILURE"]
    assert long_stack.endpoint() == ("InService", CONFIG_B + "-again")


def test_a_deploy_right_after_the_rollback_wins_over_the_rollbacks_wait(
    long_stack: LongStack, emulator: SageMakerEmulator, clock: VirtualClock, harness: Harness,
) -> None:
    """The stack is UPDATE_ROLLBACK_COMPLETE as soon as the rollback is answered: a new change
    can come while SageMaker still deploys the rolled-back config. The newer request deploys
    once SageMaker is done; the rollback's wait never deploys the old config over it."""
    long_stack.created()
    response, handle = long_stack.deploy(CONFIG_B)
    long_stack.run_until(response.arrived_at + 4800)
    assert long_stack.rollback(handle).status == "SUCCESS"

    newer, newer_handle = long_stack.deploy("ep-config-c")

    assert newer.status == "SUCCESS", newer.reason
    long_stack.settle()
    assert [c.params["EndpointConfigName"] for c in emulator.calls
            if c.operation == "UpdateEndpoint"] == [CONFIG_B, "ep-config-c"]
    assert long_stack.endpoint() == ("InService", "ep-config-c")
    assert [s.status for s in newer_handle.signals()] == ["SUCCESS"]
    assert harness.aws.schedules() == []


def test_a_signal_not_delivered_in_its_invocation_is_sent_again_by_the_next_wake(
    long_stack: LongStack, emulator: SageMakerEmulator, clock: VirtualClock, harness: Harness,
) -> None:
    """S3 answers 5xx for longer than one invocation's back-off (31 s): the wait is armed again
    and the next wake, a minute later, looks and signals once."""
    long_stack.created()
    deployed, handle = long_stack.deploy(CONFIG_B)
    assert deployed.status == "SUCCESS", deployed.reason
    harness.responses.fail_next(8, status=500)

    long_stack.settle()

    assert harness.responses.refused == 8
    (signal,) = handle.signals()
    assert signal.status == "SUCCESS"
    assert 31.0 <= signal_latency(emulator, handle) <= 31.0 + 2 * 60 + 10
    assert harness.aws.schedules() == []
