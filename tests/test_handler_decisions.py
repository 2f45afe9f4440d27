"""The handler's pure decisions: what to do next for each DescribeEndpoint answer."""

from __future__ import annotations

from sagemaker_rollout_handler.decisions import (
    LAGGING_READ_GRACE,
    Call,
    Fail,
    Finish,
    Goal,
    Observation,
    Progress,
    Wait,
    decide,
)

DEPLOY_B = Goal(endpoint_name="ep", config_name="cfg-b", alarm_names=("five-xx",))
CREATE_A = Goal(endpoint_name="ep", config_name="cfg-a", creates=True)
DELETE = Goal(endpoint_name="ep", config_name=None)
ISSUED = Progress(issued=True)


def serving(config: str, status: str = "InService", reason: str = "") -> Observation:
    return Observation(status=status, config_name=config, failure_reason=reason)


def test_in_service_on_the_requested_config_is_success() -> None:
    assert decide(DEPLOY_B, serving("cfg-b"), ISSUED) == Finish()


def test_already_serving_the_requested_config_needs_no_update_call() -> None:
    assert decide(DEPLOY_B, serving("cfg-b"), Progress()) == Finish()


def test_in_service_on_another_config_before_our_call_means_update() -> None:
    assert decide(DEPLOY_B, serving("cfg-a"), Progress()) == Call("update")


def test_in_service_on_the_old_config_after_our_call_is_a_rollback_not_a_success() -> None:
    step = decide(DEPLOY_B, serving("cfg-a", reason="alarm five-xx fired"), ISSUED)
    assert isinstance(step, Fail)
    for part in ('"ep"', '"cfg-b"', '"cfg-a"', "alarm five-xx fired", "five-xx"):
        assert part in step.reason


def test_rollback_with_an_empty_failure_reason_is_still_a_failure() -> None:
    seen = Progress(issued=True, issued_at=0.0, seen_in_flight=True)
    step = decide(DEPLOY_B, serving("cfg-a"), seen, now=10.0)
    assert isinstance(step, Fail)
    assert "no FailureReason given" in step.reason


def test_in_service_on_the_old_config_right_after_our_call_is_looked_at_again() -> None:
    # A read that lags UpdateEndpoint (eventual consistency): not a rollback yet.
    just_called = Progress(issued=True, issued_at=1000.0)
    step = decide(DEPLOY_B, serving("cfg-a"), just_called, now=1000.0 + LAGGING_READ_GRACE - 1)
    assert isinstance(step, Wait)
    assert "lag" in step.why


def test_a_lagging_read_is_believed_after_the_grace_period_saying_what_was_seen() -> None:
    just_called = Progress(issued=True, issued_at=1000.0)
    step = decide(DEPLOY_B, serving("cfg-a"), just_called, now=1000.0 + LAGGING_READ_GRACE)
    assert isinstance(step, Fail)
    for part in ('"cfg-a"', '"cfg-b"', "no FailureReason", "never seen in flight"):
        assert part in step.reason


def test_a_failure_reason_is_a_rollback_at_once_even_before_the_deployment_was_seen() -> None:
    just_called = Progress(issued=True, issued_at=1000.0)
    step = decide(DEPLOY_B, serving("cfg-a", reason="capacity"), just_called, now=1001.0)
    assert isinstance(step, Fail)


def test_rolling_back_is_waited_for_not_taken_as_the_end() -> None:
    step = decide(DEPLOY_B, serving("cfg-a", status="RollingBack"), ISSUED)
    assert isinstance(step, Wait)


def test_an_endpoint_busy_with_another_change_is_waited_for_before_deploying() -> None:
    for status in ("Updating", "SystemUpdating", "RollingBack", "Creating"):
        assert isinstance(decide(DEPLOY_B, serving("cfg-a", status=status), Progress()), Wait)


def test_a_failed_endpoint_fails_the_request_with_what_to_do() -> None:
    step = decide(DEPLOY_B, serving("cfg-a", status="Failed", reason="bad image"), Progress())
    assert isinstance(step, Fail)
    assert "Failed" in step.reason and "bad image" in step.reason and "delete" in step.reason


def test_update_rollback_failed_fails_the_request_and_says_both_fleets_may_serve() -> None:
    step = decide(DEPLOY_B, serving("cfg-a", status="UpdateRollbackFailed"), ISSUED)
    assert isinstance(step, Fail)
    assert "UpdateRollbackFailed" in step.reason and "both fleets" in step.reason


def test_a_missing_target_config_fails_before_any_call() -> None:
    step = decide(DEPLOY_B, serving("cfg-b"), Progress(), config_exists=False)
    assert isinstance(step, Fail)
    assert '"cfg-b" does not exist' in step.reason


def test_a_missing_endpoint_is_recreated_on_update() -> None:
    assert decide(DEPLOY_B, None, Progress()) == Call("create")


def test_an_endpoint_that_vanishes_during_our_deployment_fails() -> None:
    assert isinstance(decide(DEPLOY_B, None, ISSUED), Fail)


def test_create_refuses_an_endpoint_that_existed_before() -> None:
    step = decide(CREATE_A, serving("someone-elses"), Progress())
    assert isinstance(step, Fail)
    assert "already exists" in step.reason and "untouched" in step.reason


def test_create_waits_for_the_endpoint_it_created() -> None:
    assert isinstance(decide(CREATE_A, serving("", status="Creating"), ISSUED), Wait)


def test_delete_of_a_missing_endpoint_is_success() -> None:
    assert decide(DELETE, None, Progress()) == Finish()


def test_delete_waits_for_an_in_progress_endpoint_before_deleting() -> None:
    assert isinstance(decide(DELETE, serving("cfg-a", status="Updating"), Progress()), Wait)


def test_delete_deletes_failed_and_in_service_endpoints() -> None:
    for status in ("InService", "Failed", "UpdateRollbackFailed", "OutOfService"):
        assert decide(DELETE, serving("cfg-a", status=status), Progress()) == Call("delete")


def test_adopting_create_deploys_to_an_endpoint_that_exists() -> None:
    adopt = Goal(endpoint_name="ep", config_name="cfg-a", creates=False)
    assert decide(adopt, serving("handmade"), Progress()) == Call("update")
