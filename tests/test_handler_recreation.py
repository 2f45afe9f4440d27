"""The pure decisions of replacing a Failed endpoint (recreation.py, through decisions.decide)."""

from __future__ import annotations

from dataclasses import asdict

from sagemaker_rollout_handler import recreation
from sagemaker_rollout_handler.decisions import (
    Call,
    Fail,
    Finish,
    Goal,
    Observation,
    Progress,
    Wait,
    decide,
)
from sagemaker_rollout_handler.state import WaitState

UPDATE_B = Goal(endpoint_name="ep", config_name="cfg-b", recreate_failed=True)
FAILED = Observation(status="Failed", config_name="cfg-a", failure_reason="ping check failed")
REPLACING = Progress(was_failed="ping check failed")


def test_a_failed_endpoint_of_this_resource_is_deleted_to_be_recreated() -> None:
    assert decide(UPDATE_B, FAILED, Progress(owned=True)) == Call("delete")
    assert decide(UPDATE_B, FAILED, Progress()) == Call("delete")  # no request tag: ours


def test_a_failed_endpoint_another_resource_claimed_is_not_touched() -> None:
    step = decide(UPDATE_B, FAILED, Progress(foreign=True))
    assert isinstance(step, Fail) and "ping check failed" in step.reason


def test_without_the_goals_permission_a_failed_endpoint_is_reported() -> None:
    for goal in (Goal("ep", "cfg-b"), Goal("ep", "cfg-b", creates=True)):
        step = decide(goal, FAILED, Progress(issued=True, created=True))
        assert isinstance(step, Fail) and "Failed" in step.reason


def test_the_endpoint_this_request_created_is_never_recreated() -> None:
    step = decide(UPDATE_B, FAILED, Progress(issued=True, created=True))
    assert isinstance(step, Fail)


def test_deleting_then_gone_then_created_then_in_service() -> None:
    deleting = Observation(status="Deleting", config_name="cfg-a")
    step = decide(UPDATE_B, deleting, REPLACING)
    assert isinstance(step, Wait) and "deleting the Failed endpoint" in step.why
    assert decide(UPDATE_B, None, REPLACING) == Call("create")
    created = Progress(issued=True, created=True, was_failed="ping check failed")
    creating = Observation(status="Creating", config_name="cfg-b")
    step = decide(UPDATE_B, creating, created)
    assert isinstance(step, Wait) and "recreating" in step.why
    assert decide(UPDATE_B, Observation("InService", "cfg-b"), created) == Finish()
    assert recreation.note(UPDATE_B, created) == (
        'Endpoint "ep" was Failed: "ping check failed"; recreated on EndpointConfig "cfg-b".')


def test_a_recreation_that_fails_again_says_both_reasons_and_what_to_do() -> None:
    created = Progress(issued=True, created=True, was_failed="ping check failed")
    again = Observation(status="Failed", config_name="cfg-b", failure_reason="no capacity")
    step = decide(UPDATE_B, again, created)
    assert isinstance(step, Fail)
    for part in ('"ep"', "ping check failed", "no capacity", '"cfg-b"', "deploy again"):
        assert part in step.reason


def test_the_reason_kept_is_bounded_and_never_empty() -> None:
    long = Observation(status="Failed", config_name="cfg-a", failure_reason="x" * 5000)
    assert len(recreation.after_delete(Progress(), long).was_failed or "") == (
        recreation.REASON_LIMIT)
    silent = Observation(status="Failed", config_name="cfg-a")
    assert recreation.after_delete(Progress(), silent).was_failed == recreation.NO_REASON


def test_a_wait_state_written_before_recreation_existed_still_reads() -> None:
    """A wait in flight when this version is deployed: its progress has no ``foreign`` nor
    ``was_failed``; they read as "no other owner" and "no recreation"."""
    state = WaitState(target_id="ep", creates=False, deadline=100.0,
                      progress=Progress(issued=True, claimed=True))
    data = state.to_json()
    for field in ("foreign", "was_failed"):
        del data["progress"][field]
    read = WaitState.from_json(data)
    assert read == state and asdict(read.progress)["was_failed"] is None
    assert not recreation.deleting(read.progress)
