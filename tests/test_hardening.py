"""Hardening (issue 17): the failure paths a real deploy hits, each over the wire, each test named
for its finding (17.1 ... 17.9) and failing on the handler before the fix."""

from __future__ import annotations

from typing import Any

import pytest
from cfn_harness import CloudFormationStack, Harness
from cfn_harness.tags import user_tags
from rollout_support import make_configs, props
from sagemaker_emulator import SageMakerEmulator
from sagemaker_rollout_handler.sagemaker import Endpoints
from waiting_support import CANARY, CONFIG_A, CONFIG_B, ENDPOINT

#: Issue 17.1's reproduction: 18 tags of about 150 characters.
LARGE_TAGS = [{"Key": f"team-{i:02d}-" + "k" * 32, "Value": "v" * 110} for i in range(18)]


def describe(sagemaker: Any) -> tuple[str, str]:
    answer = sagemaker.describe_endpoint(EndpointName=ENDPOINT)
    return answer["EndpointStatus"], answer["EndpointConfigName"]


def on_a(stack: CloudFormationStack, sagemaker: Any, **extra: Any) -> CloudFormationStack:
    make_configs(sagemaker, CONFIG_A, CONFIG_B)
    created = stack.create(props(CONFIG_A, **extra))
    assert created.status == "SUCCESS", created.reason
    return stack


def test_17_1_large_tags_never_break_a_later_update_nor_its_rollback(
    stack: CloudFormationStack, sagemaker_client: Any,
) -> None:
    on_a(stack, sagemaker_client, Tags=LARGE_TAGS)
    update = stack.update(props(CONFIG_B, DeploymentConfig=CANARY, Tags=LARGE_TAGS))
    assert update.status == "SUCCESS", update.reason
    assert len(update.event["ResponseURL"]) > 1200  # a real presigned URL's length
    # Another resource failed: CloudFormation's rollback deploys A again, with the same tags.
    rollback = stack.update(props(CONFIG_A, Tags=LARGE_TAGS), old_properties=props(
        CONFIG_B, DeploymentConfig=CANARY, Tags=LARGE_TAGS))
    assert rollback.status == "SUCCESS", rollback.reason
    assert describe(sagemaker_client) == ("InService", CONFIG_A)


def test_17_2_a_config_created_a_moment_ago_that_reads_as_missing_is_looked_at_again(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    on_a(stack, sagemaker_client)
    emulator.faults.lag_config_reads(45)
    make_configs(sagemaker_client, "ep-config-c")  # what CloudFormation created a second ago
    update = stack.update(props("ep-config-c", DeploymentConfig=CANARY))
    assert update.status == "SUCCESS", update.reason
    assert describe(sagemaker_client) == ("InService", "ep-config-c")


def test_17_2_a_config_that_stays_missing_still_fails_clearly(
    stack: CloudFormationStack, sagemaker_client: Any,
) -> None:
    on_a(stack, sagemaker_client)
    update = stack.update(props("ep-config-never-made", DeploymentConfig=CANARY))
    assert update.status == "FAILED"
    assert "ep-config-never-made" in update.reason and "does not exist" in update.reason


def test_17_3_a_dropped_connection_after_create_endpoint_is_no_not_created_answer(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    make_configs(sagemaker_client, CONFIG_A)
    emulator.faults.outage(200, kind="drop", operation="DescribeEndpoint",
                           after_operation="CreateEndpoint")
    created = stack.create(props(CONFIG_A))
    assert created.status == "SUCCESS", created.reason
    assert created.physical_resource_id == ENDPOINT
    assert emulator.calls_to("CreateEndpoint") == 1


@pytest.mark.parametrize(("kind", "seconds"), [("throttle", 150), ("unavailable", 120),
                                               ("drop", 120)])
def test_17_5_transient_trouble_shorter_than_the_deadline_does_not_fail_the_deployment(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    kind: Any, seconds: float,
) -> None:
    on_a(stack, sagemaker_client)
    # From the moment SageMaker accepted the update: the handler's first look and its next
    # wakes fall in it (a window that opens between two wakes would test nothing).
    outage = emulator.faults.outage(seconds, kind=kind, operation="DescribeEndpoint",
                                    after_operation="UpdateEndpoint")
    update = stack.update(props(CONFIG_B, DeploymentConfig=CANARY))
    assert update.status == "SUCCESS", update.reason
    assert emulator.calls_to("UpdateEndpoint") == 1
    assert outage.hits > 0  # the trouble reached the handler's calls (see the window above)


def test_17_5_transient_trouble_in_a_rollback_does_not_fail_it(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    on_a(stack, sagemaker_client)
    failed = props(CONFIG_B, DeploymentConfig=CANARY)
    assert stack.update(failed).succeeded
    outage = emulator.faults.outage(150, kind="throttle", operation="DescribeEndpoint",
                                    after_operation="UpdateEndpoint")
    rollback = stack.update(props(CONFIG_A), old_properties=failed)
    assert rollback.status == "SUCCESS", rollback.reason
    assert outage.hits > 0  # the trouble reached the handler's calls (see the window above)


@pytest.mark.parametrize("request_type", ["Update", "Delete"])
def test_17_6_an_http_500_on_the_response_put_does_not_lose_the_answer(
    stack: CloudFormationStack, sagemaker_client: Any, harness: Harness, request_type: str,
) -> None:
    on_a(stack, sagemaker_client)
    harness.responses.fail_next(2, status=500)
    if request_type == "Update":
        response = stack.update(props(CONFIG_B, DeploymentConfig=CANARY))
    else:
        response = stack.delete()
    assert response.status == "SUCCESS", response.reason
    assert harness.responses.refused == 2


@pytest.mark.parametrize(("said", "words"), [
    ("L'alarme « taux d'erreurs 5xx élevé » est passée à l'état ALARME. " * 60,
     "taux d'erreurs 5xx élevé"),
    # Almost every character non-ASCII: escaped in JSON, each takes 6 bytes, so a cut counted
    # in characters from a byte excess removes everything (the " [...] ").
    ("アラーム「5xx エラー率が高い」が ALARM 状態になりました。" * 60, "5xx エラー率が高い"),
], ids=["mostly-ascii", "mostly-non-ascii"])
def test_17_7_a_long_non_ascii_failure_reason_keeps_the_head_and_sagemakers_words(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
    said: str, words: str,
) -> None:
    on_a(stack, sagemaker_client)
    emulator.faults.trip_alarm(ENDPOINT, "canary-bake", after=60, reason=said)
    update = stack.update(props(CONFIG_B, DeploymentConfig=CANARY))
    assert update.status == "FAILED"
    assert update.reason.startswith(f'Endpoint "{ENDPOINT}"')
    assert CONFIG_B in update.reason and words in update.reason
    assert update.size <= 4096


def test_17_8_adopt_existing_applies_the_tags_property(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    make_configs(sagemaker_client, CONFIG_A)
    sagemaker_client.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=CONFIG_A)
    emulator.clock.sleep(600)
    tags = [{"Key": "team", "Value": "ml"}, {"Key": "cost-center", "Value": "42"}]
    created = stack.create(props(CONFIG_A, AdoptExisting=True, Tags=tags))
    assert created.status == "SUCCESS", created.reason
    arn = sagemaker_client.describe_endpoint(EndpointName=ENDPOINT)["EndpointArn"]
    assert sorted(user_tags(sagemaker_client, arn), key=lambda t: t["Key"]) == sorted(
        tags, key=lambda t: t["Key"])


def test_17_9_a_case_only_rename_updates_the_endpoint_by_the_name_it_describes(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    on_a(stack, sagemaker_client)
    update = stack.update(props(CONFIG_B, name="EP", DeploymentConfig=CANARY))
    assert update.status == "SUCCESS", update.reason
    assert update.physical_resource_id == ENDPOINT
    calls = [c for c in emulator.calls if c.operation in ("UpdateEndpoint", "DescribeEndpoint")
             and c.time >= update.sent_at]
    assert {c.params["EndpointName"] for c in calls} == {ENDPOINT}


def test_17_9_a_refused_add_tags_names_the_endpoint(
    stack: CloudFormationStack, emulator: SageMakerEmulator, sagemaker_client: Any,
) -> None:
    on_a(stack, sagemaker_client)
    emulator.faults.error("AddTags", "ValidationException", "Tag value is not valid.", times=20)
    update = stack.update(props(CONFIG_A, Tags=[{"Key": "team", "Value": "ml"}]))
    assert update.status == "FAILED"
    assert f'Endpoint "{ENDPOINT}"' in update.reason
    assert "Tag value is not valid." in update.reason


def test_17_9_an_exception_crhelper_answers_names_the_endpoint(
    stack: CloudFormationStack, sagemaker_client: Any, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An exception that is no SageMaker error escapes to crhelper, which answers FAILED with its
    text alone: the answer still names the endpoint, under its own physical id."""
    on_a(stack, sagemaker_client)

    def dropped(*_: Any, **__: Any) -> None:
        raise ConnectionError("Connection was closed before we received a valid response")

    monkeypatch.setattr(Endpoints, "sync_tags", dropped)
    update = stack.update(props(CONFIG_A, Tags=[{"Key": "team", "Value": "ml"}]))
    assert update.status == "FAILED"
    assert update.reason.startswith(f'Endpoint "{ENDPOINT}"'), update.reason
    assert "Connection was closed" in update.reason
    assert update.physical_resource_id == ENDPOINT
