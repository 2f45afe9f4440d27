"""RolloutEndpoint: the EndpointConfig, the custom resource, the endpoint's name and its alarms."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from aws_cdk import App, Duration, Size, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk.assertions import Annotations, Match, Template
from construct_support import (
    dependency_graph,
    depends_on,
    has_cycle,
    instance_variant,
    new_stack,
    only,
)
from hypothesis import given, settings
from hypothesis import strategies as st
from sagemaker_rollout import (
    CapacitySize,
    DeploymentStrategy,
    ProductionVariant,
    RolloutEndpoint,
    TrafficRouting,
    VariantProperty,
)

from constructs import Construct

ENDPOINT_CONFIG = "AWS::SageMaker::EndpointConfig"
ROLLOUT = "Custom::SageMakerEndpointRollout"
NAME_PATTERN = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")

#: The ownership tag every endpoint carries (contract.OWNER_TAG_KEY): the stack's id.
OWNER_TAG = {"Key": "sagemaker-rollout:stack", "Value": {"Ref": "AWS::StackId"}}



def variant(**overrides: Any) -> ProductionVariant:
    return instance_variant(**overrides)


def synth_endpoint(**props: Any) -> Template:
    stack = new_stack()
    props.setdefault("variants", [variant()])
    RolloutEndpoint(stack, "Endpoint", **props)
    return Template.from_stack(stack)


def rollout_properties(template: Template) -> dict[str, Any]:
    properties: dict[str, Any] = only(template, ROLLOUT)[1]["Properties"]
    return properties


# --- the EndpointConfig ----------------------------------------------------------------------


def test_endpoint_config_holds_the_variants() -> None:
    template = synth_endpoint(variants=[variant(initial_instance_count=2)])
    template.has_resource_properties(
        ENDPOINT_CONFIG,
        {
            "ProductionVariants": [
                {
                    "VariantName": "AllTraffic",
                    "ModelName": "model-a",
                    "InstanceType": "ml.m5.large",
                    "InitialInstanceCount": 2,
                    "InitialVariantWeight": 1,
                }
            ]
        },
    )


def test_endpoint_config_has_no_explicit_name_so_every_change_is_a_replacement() -> None:
    _, config = only(synth_endpoint(), ENDPOINT_CONFIG)
    assert "EndpointConfigName" not in config["Properties"]


def test_serverless_variant_renders_a_serverless_config() -> None:
    template = synth_endpoint(
        variants=[
            ProductionVariant.serverless(
                model_name="model-a",
                memory_size=Size.gibibytes(2),
                max_concurrency=10,
                provisioned_concurrency=2,
            )
        ]
    )
    template.has_resource_properties(
        ENDPOINT_CONFIG,
        {
            "ProductionVariants": [
                {
                    "VariantName": "AllTraffic",
                    "ModelName": "model-a",
                    "InitialVariantWeight": 1,
                    "ServerlessConfig": {
                        "MemorySizeInMB": 2048,
                        "MaxConcurrency": 10,
                        "ProvisionedConcurrency": 2,
                    },
                    "InstanceType": Match.absent(),
                    "InitialInstanceCount": Match.absent(),
                }
            ]
        },
    )


def _config_change(before: dict[str, Any], after: dict[str, Any]) -> None:
    old = synth_endpoint(variants=[variant(**before)])
    new = synth_endpoint(variants=[variant(**after)])
    old_id, old_config = only(old, ENDPOINT_CONFIG)
    new_id, new_config = only(new, ENDPOINT_CONFIG)
    # Same logical id, different (create-only) properties: CloudFormation replaces the config,
    # with a new generated name, and the custom resource sees the new name.
    assert old_id == new_id
    assert old_config["Properties"] != new_config["Properties"]
    for template, config_id in ((old, old_id), (new, new_id)):
        assert rollout_properties(template)["EndpointConfigName"] == {
            "Fn::GetAtt": [config_id, "EndpointConfigName"]
        }


def test_a_new_model_changes_the_endpoint_config_and_the_rollout_follows_it() -> None:
    _config_change({"model_name": "model-a"}, {"model_name": "model-b"})


def test_a_new_instance_count_changes_the_endpoint_config_and_the_rollout_follows_it() -> None:
    _config_change({"initial_instance_count": 1}, {"initial_instance_count": 3})


def test_endpoint_config_name_attribute_is_the_config_name_not_its_arn() -> None:
    # Ref of AWS::SageMaker::EndpointConfig is its ARN; UpdateEndpoint wants the name.
    stack = new_stack()
    endpoint = RolloutEndpoint(stack, "Endpoint", variants=[variant()])
    config_id = stack.get_logical_id(endpoint.cfn_endpoint_config)
    assert stack.resolve(endpoint.endpoint_config_name) == {
        "Fn::GetAtt": [config_id, "EndpointConfigName"]
    }


# --- the custom resource ---------------------------------------------------------------------


def test_custom_resource_renders_endpoint_properties_with_explicit_defaults() -> None:
    stack = new_stack()
    endpoint = RolloutEndpoint(stack, "Endpoint", variants=[variant()])
    properties = rollout_properties(Template.from_stack(stack))
    del properties["ServiceToken"]  # see test_custom_resource_service_token_is_the_provider...
    policy = properties["DeploymentConfig"]["BlueGreenUpdatePolicy"]
    # Chosen by the deployment strategy to fit the one-hour custom resource (time_budget.py).
    timeout = policy.pop("MaximumExecutionTimeoutInSeconds")
    assert isinstance(timeout, int) and 600 <= timeout <= 3600
    # What the deployment deploys, for cdk diff (test_construct_rollout_property.py).
    assert properties.pop("Rollout").startswith("all at once / config ")
    assert properties == {
        "ServiceTimeout": "3600",
        "EndpointName": endpoint.endpoint_name,
        "EndpointConfigName": {
            "Fn::GetAtt": [
                stack.get_logical_id(endpoint.cfn_endpoint_config),
                "EndpointConfigName",
            ]
        },
        "RetainAllVariantProperties": False,
        "RetainDeploymentConfig": False,
        "DeploymentConfig": {
            "BlueGreenUpdatePolicy": {
                "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
                "TerminationWaitInSeconds": 0,
            }
        },
        "Tags": [OWNER_TAG],
    }


def test_custom_resource_service_token_is_the_provider_function() -> None:
    template = synth_endpoint()
    function_id, _ = only(template, "AWS::Lambda::Function")
    assert rollout_properties(template)["ServiceToken"] == {"Fn::GetAtt": [function_id, "Arn"]}


def test_custom_resource_waits_one_hour_at_most() -> None:
    assert rollout_properties(synth_endpoint())["ServiceTimeout"] == "3600"


def test_typed_deployment_strategy_is_rendered_as_integers() -> None:
    strategy = DeploymentStrategy.blue_green(
        traffic_routing=TrafficRouting.canary(
            size=CapacitySize.count(1), bake_time=Duration.minutes(10)
        ),
        termination_wait=Duration.minutes(5),
    )
    properties = rollout_properties(
        synth_endpoint(variants=[variant(initial_instance_count=2)], deployment=strategy)
    )
    policy = properties["DeploymentConfig"]["BlueGreenUpdatePolicy"]
    assert policy["TrafficRoutingConfiguration"] == {
        "Type": "CANARY",
        "WaitIntervalInSeconds": 600,
        "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1},
    }
    assert policy["TerminationWaitInSeconds"] == 300


def test_retained_properties_and_their_exclusions_are_rendered() -> None:
    properties = rollout_properties(
        synth_endpoint(
            retain_variant_properties=True,
            retained_properties_exclusions=[
                VariantProperty.DESIRED_INSTANCE_COUNT,
                VariantProperty.DESIRED_WEIGHT,
            ],
        )
    )
    assert properties["RetainAllVariantProperties"] is True
    assert properties["ExcludeRetainedVariantProperties"] == [
        {"VariantPropertyType": "DesiredInstanceCount"},
        {"VariantPropertyType": "DesiredWeight"},
    ]


def test_no_exclusions_are_omitted_and_without_tags_only_the_ownership_tag_is_rendered() -> None:
    properties = rollout_properties(synth_endpoint())
    assert "ExcludeRetainedVariantProperties" not in properties
    assert properties["Tags"] == [OWNER_TAG]


def test_reusing_the_last_deployment_config_omits_the_deployment_config() -> None:
    properties = rollout_properties(synth_endpoint(reuse_last_deployment_config=True))
    assert properties["RetainDeploymentConfig"] is True
    assert "DeploymentConfig" not in properties


def test_tags_are_rendered_as_key_value_pairs_sorted_by_key() -> None:
    properties = rollout_properties(synth_endpoint(tags={"team": "ml", "cost-center": "42"}))
    assert properties["Tags"] == [
        {"Key": "cost-center", "Value": "42"},
        OWNER_TAG,
        {"Key": "team", "Value": "ml"},
    ]


def test_given_endpoint_name_is_used_as_it_is() -> None:
    assert rollout_properties(synth_endpoint(endpoint_name="My-Endpoint"))["EndpointName"] == (
        "My-Endpoint"
    )


# --- the endpoint's name and ARN -------------------------------------------------------------


def _nested(scope: Construct, ids: list[str]) -> Construct:
    for construct_id in ids:
        scope = Construct(scope, construct_id)
    return scope


def _default_name(ids: list[str], stack_id: str = "Stack") -> str:
    stack = Stack(App(context={"aws:cdk:bundling-stacks": []}), stack_id)
    return RolloutEndpoint(_nested(stack, ids), "Endpoint", variants=[variant()]).endpoint_name


def test_default_endpoint_name_is_stable_across_synths() -> None:
    assert _default_name(["Team", "Service"]) == _default_name(["Team", "Service"])


def test_default_endpoint_names_differ_between_constructs_and_stacks() -> None:
    names = {
        _default_name(["A"]),
        _default_name(["B"]),
        _default_name(["A"], stack_id="Other"),
    }
    assert len(names) == 3


def test_default_endpoint_name_of_a_deeply_nested_construct_is_valid_and_short() -> None:
    ids = [f"Really-Long_Construct.Identifier{i}" * 3 for i in range(15)]
    name = _default_name(ids)
    assert len(name) <= 63
    assert NAME_PATTERN.fullmatch(name)
    assert name == _default_name(ids)


# The constructs library keeps children in a plain JavaScript object: ids that are names of
# Object.prototype members ("__proto__", "constructor", ...) are taken already.
OBJECT_PROTOTYPE = {
    "__proto__", "__defineGetter__", "__defineSetter__", "__lookupGetter__", "__lookupSetter__",
    "constructor", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable", "toLocaleString",
    "toString", "valueOf",
}
construct_ids = st.text(
    alphabet=st.characters(codec="ascii", exclude_characters="/\x00"), min_size=1, max_size=80
).filter(lambda construct_id: construct_id not in OBJECT_PROTOTYPE)


@settings(max_examples=40, deadline=None)
@given(ids=st.lists(construct_ids, min_size=1, max_size=6))
def test_default_endpoint_name_is_always_a_valid_sagemaker_name(ids: list[str]) -> None:
    name = _default_name(ids)
    assert len(name) <= 63
    assert NAME_PATTERN.fullmatch(name), name


def test_endpoint_name_is_a_plain_string_known_at_synth() -> None:
    endpoint = RolloutEndpoint(new_stack(), "Endpoint", variants=[variant()])
    assert not Token.is_unresolved(endpoint.endpoint_name)


def test_endpoint_arn_uses_the_lower_cased_name() -> None:
    stack = new_stack()
    endpoint = RolloutEndpoint(stack, "Endpoint", variants=[variant()], endpoint_name="My-Endpoint")
    resolved = stack.resolve(endpoint.endpoint_arn)
    assert resolved["Fn::Join"][1][-1] == ":endpoint/my-endpoint"


def test_token_endpoint_name_is_accepted_with_a_warning() -> None:
    stack = new_stack()
    name = Token.as_string({"Ref": "NameParameter"})
    RolloutEndpoint(stack, "Endpoint", variants=[variant()], endpoint_name=name)
    Annotations.from_stack(stack).has_warning(
        "/Stack/Endpoint", Match.string_like_regexp("lower-case")
    )


# --- rollback alarms ---------------------------------------------------------------------------


def _own_5xx_alarm(stack: Stack, endpoint: RolloutEndpoint) -> cloudwatch.Alarm:
    return cloudwatch.Metric(
        namespace="AWS/SageMaker",
        metric_name="Invocation5XXErrors",
        dimensions_map={"EndpointName": endpoint.endpoint_name, "VariantName": "AllTraffic"},
    ).create_alarm(stack, "Errors", threshold=1, evaluation_periods=1)


def _endpoint_with_own_alarm(
    add: Callable[[RolloutEndpoint, cloudwatch.Alarm], None],
) -> tuple[Stack, RolloutEndpoint, cloudwatch.Alarm]:
    stack = new_stack()
    endpoint = RolloutEndpoint(stack, "Endpoint", variants=[variant()])
    alarm = _own_5xx_alarm(stack, endpoint)
    add(endpoint, alarm)
    return stack, endpoint, alarm


def test_alarm_on_the_endpoints_own_metric_comes_first_without_a_cycle() -> None:
    stack, endpoint, alarm = _endpoint_with_own_alarm(lambda e, a: e.add_rollback_alarm(a))
    graph = dependency_graph(Template.from_stack(stack).to_json())
    rollout = stack.get_logical_id(endpoint.custom_resource.node.default_child)  # type: ignore[arg-type]
    alarm_id = stack.get_logical_id(alarm.node.default_child)  # type: ignore[arg-type]
    assert alarm_id in graph[rollout]
    assert not depends_on(graph, alarm_id, rollout)
    assert not has_cycle(graph)


def test_an_alarm_of_the_stack_orders_the_deployment_by_its_ref_alone() -> None:
    # No DependsOn on top of the AlarmName's Ref (cfn-lint W3005).
    stack, _, alarm = _endpoint_with_own_alarm(lambda e, a: e.add_rollback_alarm(a))
    rollout = only(Template.from_stack(stack), ROLLOUT)[1]
    alarm_id = stack.get_logical_id(alarm.node.default_child)  # type: ignore[arg-type]
    assert alarm_id not in rollout.get("DependsOn", [])
    assert {"Ref": alarm_id} in [
        a["AlarmName"] for a in rollout["Properties"]["DeploymentConfig"]
        ["AutoRollbackConfiguration"]["Alarms"]]


class LiteralNameAlarm(cloudwatch.AlarmBase):
    """An alarm of one's own whose name is a literal: its resource is referenced by nothing."""

    def __init__(self, scope: Construct, construct_id: str, name: str) -> None:
        super().__init__(scope, construct_id)
        cloudwatch.CfnAlarm(self, "Resource", alarm_name=name, comparison_operator=(
            "GreaterThanThreshold"), evaluation_periods=1, threshold=1,
            metric_name="Invocation5XXErrors", namespace="AWS/SageMaker", period=60,
            statistic="Sum")
        self._name = name

    @property
    def alarm_arn(self) -> str:
        return f"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{self._name}"

    @property
    def alarm_name(self) -> str:
        return self._name


def test_an_alarm_with_a_literal_name_still_comes_before_the_deployment() -> None:
    stack = new_stack()
    endpoint = RolloutEndpoint(stack, "Endpoint", variants=[variant()])
    alarm = LiteralNameAlarm(stack, "Errors", "my-endpoint-errors")
    endpoint.add_rollback_alarm(alarm)
    rollout = only(Template.from_stack(stack), ROLLOUT)[1]
    assert stack.get_logical_id(alarm.node.default_child) in rollout["DependsOn"]  # type: ignore[arg-type]


def test_rollback_alarms_render_the_auto_rollback_configuration() -> None:
    stack, _, alarm = _endpoint_with_own_alarm(lambda e, a: e.add_rollback_alarm(a))
    properties = rollout_properties(Template.from_stack(stack))
    assert properties["DeploymentConfig"]["AutoRollbackConfiguration"] == {
        "Alarms": [{"AlarmName": stack.resolve(alarm.alarm_name)}]
    }


def test_rollback_alarms_given_as_a_prop_come_first() -> None:
    stack = new_stack()
    alarm = cloudwatch.Metric(
        namespace="AWS/SageMaker", metric_name="Invocation5XXErrors"
    ).create_alarm(stack, "Errors", threshold=1, evaluation_periods=1)
    endpoint = RolloutEndpoint(stack, "Endpoint", variants=[variant()], rollback_alarms=[alarm])
    graph = dependency_graph(Template.from_stack(stack).to_json())
    rollout = stack.get_logical_id(endpoint.custom_resource.node.default_child)  # type: ignore[arg-type]
    assert stack.get_logical_id(alarm.node.default_child) in graph[rollout]  # type: ignore[arg-type]


def test_rollback_alarms_given_as_a_prop_and_added_later_are_all_rendered_in_order() -> None:
    stack = new_stack()
    first = cloudwatch.Metric(
        namespace="AWS/SageMaker", metric_name="Invocation4XXErrors"
    ).create_alarm(stack, "ClientErrors", threshold=1, evaluation_periods=1)
    endpoint = RolloutEndpoint(stack, "Endpoint", variants=[variant()], rollback_alarms=[first])
    second = _own_5xx_alarm(stack, endpoint)
    endpoint.add_rollback_alarm(second)
    properties = rollout_properties(Template.from_stack(stack))
    assert properties["DeploymentConfig"]["AutoRollbackConfiguration"] == {
        "Alarms": [{"AlarmName": stack.resolve(alarm.alarm_name)} for alarm in (first, second)]
    }
    # The rest of the deployment config is untouched by the alarms added later.
    policy = properties["DeploymentConfig"]["BlueGreenUpdatePolicy"]
    assert policy["TrafficRoutingConfiguration"] == {
        "Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0
    }


def test_an_escape_hatch_override_after_add_rollback_alarm_wins() -> None:
    stack, endpoint, _ = _endpoint_with_own_alarm(lambda e, a: e.add_rollback_alarm(a))
    cfn = endpoint.custom_resource.node.default_child
    cfn.add_property_override(  # type: ignore[union-attr]
        "DeploymentConfig.AutoRollbackConfiguration", {"Alarms": [{"AlarmName": "mine"}]}
    )
    properties = rollout_properties(Template.from_stack(stack))
    assert properties["DeploymentConfig"]["AutoRollbackConfiguration"] == {
        "Alarms": [{"AlarmName": "mine"}]
    }


def test_an_endpoint_in_a_stack_subclass_without_hash_gets_one_provider() -> None:
    class Unhashable(Stack):
        def __eq__(self, other: object) -> bool:
            return self is other

    stack = Unhashable(App(context={"aws:cdk:bundling-stacks": []}), "Stack")
    for index in range(2):
        RolloutEndpoint(stack, f"Endpoint{index}", variants=[variant()])
    Template.from_stack(stack).resource_count_is("AWS::Lambda::Function", 1)


def _canary_endpoint(stack: Stack) -> RolloutEndpoint:
    return RolloutEndpoint(
        stack,
        "Endpoint",
        variants=[variant(initial_instance_count=2)],
        deployment=DeploymentStrategy.blue_green(
            traffic_routing=TrafficRouting.canary(
                size=CapacitySize.count(1), bake_time=Duration.minutes(5)
            )
        ),
    )


BAKING_WITHOUT_ALARMS = Match.string_like_regexp("without auto-rollback alarms")


def test_canary_without_alarms_warns() -> None:
    stack = new_stack()
    _canary_endpoint(stack)
    Annotations.from_stack(stack).has_warning("/Stack/Endpoint", BAKING_WITHOUT_ALARMS)


def test_alarm_added_after_construction_clears_the_baking_without_alarms_warning() -> None:
    stack = new_stack()
    endpoint = _canary_endpoint(stack)
    endpoint.add_rollback_alarm(_own_5xx_alarm(stack, endpoint))
    Annotations.from_stack(stack).has_no_warning("*", BAKING_WITHOUT_ALARMS)
