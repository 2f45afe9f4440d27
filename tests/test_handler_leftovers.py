"""What a failed rename left, and who removes it (leftovers.py; waiting.stray_of)."""

from __future__ import annotations

from typing import Any

from sagemaker_rollout_handler import leftovers
from sagemaker_rollout_handler.decisions import Call, Finish, Observation, Wait
from sagemaker_rollout_handler.state import WaitState
from sagemaker_rollout_handler.waiting import stray_of


def seen(status: str) -> Observation:
    return Observation(status=status, config_name="cfg-b")


def test_an_endpoint_this_resource_created_is_deleted_once_sagemaker_allows_it() -> None:
    for status in ("Failed", "InService", "OutOfService", "UpdateRollbackFailed"):
        assert leftovers.step("ep-v2", seen(status), made_here=True) == Call("delete")
    step = leftovers.step("ep-v2", seen("Creating"), made_here=True)
    assert isinstance(step, Wait) and "ep-v2" in step.why and "rollback" in step.why


def test_gone_going_or_not_this_resources_making_is_left_alone() -> None:
    assert leftovers.step("ep-v2", None, made_here=True) == Finish()
    assert leftovers.step("ep-v2", seen("Deleting"), made_here=True) == Finish()
    assert leftovers.step("ep-v2", seen("Failed"), made_here=False) == Finish()


def update(physical: str, name: str, old_name: str) -> dict[str, Any]:
    return {"RequestType": "Update", "PhysicalResourceId": physical,
            "ResourceProperties": {"EndpointName": name},
            "OldResourceProperties": {"EndpointName": old_name}}


def test_only_the_rollback_of_an_unrecorded_rename_has_a_stray() -> None:
    # The rollback of a rename that failed: CloudFormation kept the old physical id.
    assert stray_of(update("ep", "ep", "ep-v2"), "ep") == "ep-v2"
    # The rollback of a rename that succeeded: the new name is the physical id (cleanup's).
    assert stray_of(update("ep-v2", "ep", "ep-v2"), "ep") == ""
    # A rename, an in-place update, a change of case only.
    assert stray_of(update("ep", "ep-v2", "ep"), "ep-v2") == ""
    assert stray_of(update("ep", "ep", "ep"), "ep") == ""
    assert stray_of(update("ep", "ep", "EP"), "ep") == ""
    assert stray_of({"RequestType": "Delete", "PhysicalResourceId": "ep"}, "ep") == ""


def test_a_wait_state_of_before_has_no_stray() -> None:
    data = WaitState(target_id="ep", creates=False, deadline=1.0).to_json()
    del data["stray"]
    assert WaitState.from_json(data).stray == ""
