"""The emulator's SageMaker events and read faults (sagemaker_emulator.events, faults): their
shape, delay, duplicates and loss; stale and absent PendingDeploymentSummary; reads that lag
UpdateEndpoint; config reads that lag CreateEndpointConfig; outage windows."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectionClosedError
from rollout_support import make_configs
from sagemaker_emulator import SageMakerEmulator, Timings, VirtualClock

FAST = Timings(create=100.0, provision=100.0, traffic_shift=10.0, terminate=30.0,
               rollback=60.0, delete=30.0)


@pytest.fixture
def sm(emulator: SageMakerEmulator, clock: VirtualClock) -> Iterator[Any]:
    emulator.reset(clock, timings=FAST)
    client = boto3.client("sagemaker", endpoint_url=emulator.url, region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="x",
                          config=Config(retries={"mode": "standard", "total_max_attempts": 1}))
    make_configs(client, "a", "b")
    client.create_endpoint(EndpointName="ep", EndpointConfigName="a")
    clock.advance(100)
    yield client


def published(emulator: SageMakerEmulator) -> list[Any]:
    return emulator.collect_events()


def test_events_have_sagemakers_shape_upper_case_status_and_epoch_milliseconds(
    sm: Any, emulator: SageMakerEmulator, clock: VirtualClock,
) -> None:
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="b")
    clock.advance(200)
    events = [p.event for p in published(emulator)]
    kinds = {(e["detail-type"], e["detail"]["EndpointStatus"]) for e in events}
    assert ("SageMaker Endpoint State Change", "CREATING") in kinds
    assert ("SageMaker Endpoint State Change", "UPDATING") in kinds
    assert ("SageMaker Endpoint State Change", "IN_SERVICE") in kinds
    deployment = [e for e in events if e["detail-type"].endswith("Deployment State Change")]
    statuses = [v["Status"] for e in deployment
                for variant in e["detail"]["PendingDeploymentSummary"]["ProductionVariants"]
                for v in variant["VariantStatus"]]
    assert statuses == ["Creating", "ActivatingTraffic", "Deleting"]
    event = events[-1]
    assert event["source"] == "aws.sagemaker"
    assert event["resources"] == [event["detail"]["EndpointArn"]]
    assert event["detail"]["LastModifiedTime"] > 1e12  # milliseconds


def test_events_arrive_two_seconds_after_the_change(
    sm: Any, emulator: SageMakerEmulator, clock: VirtualClock,
) -> None:
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="b")
    clock.advance(200)
    assert {round(p.deliver_at - p.changed_at, 3) for p in published(emulator)} == {2.0}


def test_events_can_be_doubled_or_lost(
    sm: Any, emulator: SageMakerEmulator, clock: VirtualClock,
) -> None:
    before = len(published(emulator))
    emulator.faults.events(duplicates=1)
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="b")
    clock.advance(200)
    doubled = published(emulator)[before:]
    assert len(doubled) % 2 == 0 and len({p.event["id"] for p in doubled}) == len(doubled)
    emulator.faults.events(duplicates=0, lose=1.0)
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="a")
    clock.advance(200)
    assert len(published(emulator)) == before + len(doubled)


def test_a_stale_summary_keeps_showing_the_first_phase(
    sm: Any, emulator: SageMakerEmulator, clock: VirtualClock,
) -> None:
    emulator.faults.stale_summary()
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="b")
    clock.advance(105)  # past provisioning (100 s), shifting traffic
    summary = sm.describe_endpoint(EndpointName="ep")["PendingDeploymentSummary"]
    assert summary["ProductionVariants"][0]["VariantStatus"][0]["Status"] == "Creating"


def test_an_absent_summary_is_never_returned(
    sm: Any, emulator: SageMakerEmulator, clock: VirtualClock,
) -> None:
    emulator.faults.absent_summary()
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="b")
    answer = sm.describe_endpoint(EndpointName="ep")
    assert answer["EndpointStatus"] == "Updating"
    assert "PendingDeploymentSummary" not in answer


def test_a_read_may_lag_update_endpoint(
    sm: Any, emulator: SageMakerEmulator, clock: VirtualClock,
) -> None:
    emulator.faults.lag_reads_after_update(20)
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="b")
    lagging = sm.describe_endpoint(EndpointName="ep")
    assert (lagging["EndpointStatus"], lagging["EndpointConfigName"]) == ("InService", "a")
    clock.advance(20)
    assert sm.describe_endpoint(EndpointName="ep")["EndpointStatus"] == "Updating"


def test_a_config_may_read_as_missing_right_after_its_creation(
    sm: Any, emulator: SageMakerEmulator, clock: VirtualClock,
) -> None:
    emulator.faults.lag_config_reads(30)
    make_configs(sm, "c")
    with pytest.raises(ClientError, match="Could not find endpoint configuration"):
        sm.describe_endpoint_config(EndpointConfigName="c")
    clock.advance(30)
    assert sm.describe_endpoint_config(EndpointConfigName="c")["EndpointConfigName"] == "c"


@pytest.mark.parametrize(("kind", "error"), [
    ("throttle", "ThrottlingException"), ("unavailable", "ServiceUnavailable"),
    ("drop", "Connection was closed")])
def test_an_outage_window_fails_every_call_until_it_ends(
    sm: Any, emulator: SageMakerEmulator, clock: VirtualClock, kind: Any, error: str,
) -> None:
    emulator.faults.outage(120, kind=kind, operation="DescribeEndpoint", after=10)
    assert sm.describe_endpoint(EndpointName="ep")["EndpointStatus"] == "InService"
    clock.advance(10)
    with pytest.raises((ClientError, ConnectionClosedError), match=error):
        sm.describe_endpoint(EndpointName="ep")
    clock.advance(120)
    assert sm.describe_endpoint(EndpointName="ep")["EndpointStatus"] == "InService"


def test_an_outage_can_open_when_a_call_succeeds(
    sm: Any, emulator: SageMakerEmulator, clock: VirtualClock,
) -> None:
    emulator.faults.outage(60, kind="drop", operation="DescribeEndpoint",
                           after_operation="UpdateEndpoint")
    assert sm.describe_endpoint(EndpointName="ep")["EndpointStatus"] == "InService"
    sm.update_endpoint(EndpointName="ep", EndpointConfigName="b")
    with pytest.raises(ConnectionClosedError):
        sm.describe_endpoint(EndpointName="ep")


def test_fifty_tags_is_the_limit_checked_before_anything_is_applied(
    sm: Any, emulator: SageMakerEmulator,
) -> None:
    arn = sm.describe_endpoint(EndpointName="ep")["EndpointArn"]
    tags = [{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    with pytest.raises(ClientError, match="50"):
        sm.add_tags(ResourceArn=arn, Tags=tags)
    assert sm.list_tags(ResourceArn=arn)["Tags"] == []
