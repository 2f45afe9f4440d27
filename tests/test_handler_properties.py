"""CloudFormation's string properties become SageMaker API parameters, or a clear error."""

from __future__ import annotations

import pytest
from sagemaker_rollout_handler.contract import (
    MAX_USER_TAGS,
    OWNER_TAG_KEY,
    REQUEST_TAG_KEY,
    ROLLOUT_PROPERTY,
)
from sagemaker_rollout_handler.properties import PropertyError, parse_request

BASE = {"ServiceToken": "arn:aws:lambda:us-east-1:1:function:f", "EndpointName": "ep",
        "EndpointConfigName": "cfg-b", "ServiceTimeout": "3600"}
CANARY = {
    "BlueGreenUpdatePolicy": {
        "TrafficRoutingConfiguration": {
            "Type": "CANARY", "WaitIntervalInSeconds": "300",
            "CanarySize": {"Type": "CAPACITY_PERCENT", "Value": "25"},
        },
        "TerminationWaitInSeconds": "120",
        "MaximumExecutionTimeoutInSeconds": "3000",
    },
    "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": "five-xx"}]},
}


def test_strings_become_the_api_types() -> None:
    request = parse_request({**BASE, "DeploymentConfig": CANARY,
                             "RetainAllVariantProperties": "true",
                             "ExcludeRetainedVariantProperties": [
                                 {"VariantPropertyType": "DesiredWeight"}],
                             "RetainDeploymentConfig": "false"})
    policy = request.update_params["DeploymentConfig"]["BlueGreenUpdatePolicy"]
    assert policy["TerminationWaitInSeconds"] == 120
    assert policy["TrafficRoutingConfiguration"]["CanarySize"]["Value"] == 25
    assert request.update_params["RetainAllVariantProperties"] is True
    assert request.update_params["RetainDeploymentConfig"] is False
    assert request.alarm_names == ("five-xx",)
    assert request.service_timeout == 3600


def test_tags_go_to_create_only() -> None:
    request = parse_request({**BASE, "Tags": [{"Key": "team", "Value": "ml"}]})
    assert request.create_params["Tags"] == [{"Key": "team", "Value": "ml"}]
    assert "Tags" not in request.update_params
    assert request.tags == {"team": "ml"}


@pytest.mark.parametrize(
    ("properties", "names"),
    [
        ({"EndpointConfigName": "cfg"}, ["EndpointName", "required"]),
        ({**BASE, "DeploymentConfig": {"BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "CANARY", "WaitIntervalInSeconds": "soon"}}}},
         ["DeploymentConfig.BlueGreenUpdatePolicy.TrafficRoutingConfiguration."
          "WaitIntervalInSeconds", "'soon'", "whole number"]),
        ({**BASE, "DeploymentConfig": {"BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "EXPONENTIAL", "WaitIntervalInSeconds": "1"}}}},
         ["Type", "'EXPONENTIAL'", "ALL_AT_ONCE, CANARY, LINEAR"]),
        ({**BASE, "DeploymentConfig": {"BlueGreenUpdatePolicy": {
            "TrafficRoutingConfiguration": {"Type": "CANARY", "WaitIntervalInSeconds": "7200"}}}},
         ["WaitIntervalInSeconds", "7200", "0..3600"]),
        ({**BASE, "EndpointName": "bad_name"}, ["EndpointName", "'bad_name'", "must match"]),
        ({**BASE, "RetainAllVariantProperties": "yes"},
         ["RetainAllVariantProperties", "true or false"]),
        ({**BASE, "Colour": "blue"}, ["Colour", "allowed are"]),
        ({**BASE, "ExcludeRetainedVariantProperties": [{"VariantPropertyType": "DesiredWeight"}]},
         ["ExcludeRetainedVariantProperties", "RetainAllVariantProperties"]),
        ({**BASE, "ServiceTimeout": "7200"}, ["ServiceTimeout", "1..3600"]),
    ],
)
def test_malformed_properties_are_refused_naming_the_property_and_value(
    properties: dict[str, object], names: list[str]
) -> None:
    with pytest.raises(PropertyError) as error:
        parse_request(properties)
    for name in names:
        assert name in str(error.value)


def test_rollout_options_are_parsed() -> None:
    request = parse_request({**BASE, "AdoptExisting": "true", "RemovalPolicy": "Retain"})
    assert request.adopt_existing is True
    assert request.removal_policy == "Retain"


def test_the_rollout_description_is_accepted_and_sent_to_no_sagemaker_call() -> None:
    plain = parse_request(BASE)
    request = parse_request({**BASE, ROLLOUT_PROPERTY: "canary 25% / bake 10 min / config "
                                                       "3f2a9c0b1d4e"})
    assert request == plain


STACK = "arn:aws:cloudformation:us-east-1:123456789012:stack/s/3ebccc7a-76f1-451e-ad52-891d8f42d5cd"


def user_tags(count: int) -> list[dict[str, str]]:
    return [{"Key": f"k{i}", "Value": "v"} for i in range(count)]


def test_the_ownership_tag_with_the_request_stack_id_is_accepted_besides_48_user_tags() -> None:
    owner = {"Key": OWNER_TAG_KEY, "Value": STACK}
    request = parse_request({**BASE, "Tags": [*user_tags(MAX_USER_TAGS), owner]},
                            stack_id=STACK)
    assert MAX_USER_TAGS == 48
    assert request.tags[OWNER_TAG_KEY] == STACK
    with pytest.raises(PropertyError, match="49 tags besides the ownership tag"):
        parse_request({**BASE, "Tags": [*user_tags(MAX_USER_TAGS + 1), owner]}, stack_id=STACK)


@pytest.mark.parametrize("stack_id", ["", STACK.replace("us-east-1", "eu-west-1")])
def test_the_ownership_tag_of_another_stack_is_refused(stack_id: str) -> None:
    with pytest.raises(PropertyError, match=f"Property Tags sets '{OWNER_TAG_KEY}'"):
        parse_request({**BASE, "Tags": [{"Key": OWNER_TAG_KEY, "Value": STACK}]},
                      stack_id=stack_id)


def test_other_keys_under_the_reserved_prefix_are_refused() -> None:
    with pytest.raises(PropertyError, match="reserved prefix"):
        parse_request({**BASE, "Tags": [{"Key": REQUEST_TAG_KEY, "Value": "x"}]}, stack_id=STACK)
