"""RolloutEndpoint metrics: per variant and for the whole endpoint, alarms on them without a cycle,
grant_invoke and the deployed config name."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template
from construct_support import dependency_graph, depends_on, instance_variant, new_stack
from sagemaker_rollout import (
    AsyncInference,
    CapacitySize,
    DeploymentStrategy,
    ProductionVariant,
    RolloutEndpoint,
    TrafficRouting,
)

ROLLOUT = "Custom::SageMakerEndpointRollout"



variant = instance_variant


def endpoint(*variants: ProductionVariant, **props: Any) -> RolloutEndpoint:
    return RolloutEndpoint(
        new_stack(),
        "Endpoint",
        variants=list(variants) or [variant()],
        endpoint_name="my-endpoint",
        **props,
    )


def two_variants() -> RolloutEndpoint:
    return endpoint(variant("Blue"), variant("Green"))


def dimensions(metric: cloudwatch.Metric) -> dict[str, Any]:
    return dict(metric.dimensions or {})


# --- the metrics -------------------------------------------------------------------------------


def test_variant_metric_has_the_endpoint_and_variant_dimensions() -> None:
    metric = two_variants().metric_invocations(variant_name="Green")
    assert isinstance(metric, cloudwatch.Metric)
    assert metric.namespace == "AWS/SageMaker"
    assert metric.metric_name == "Invocations"
    assert dimensions(metric) == {"EndpointName": "my-endpoint", "VariantName": "Green"}


def test_whole_endpoint_metric_of_a_single_variant_endpoint_is_that_variants_metric() -> None:
    metric = endpoint().metric_invocation_5xx_errors()
    assert isinstance(metric, cloudwatch.Metric)
    assert dimensions(metric) == {"EndpointName": "my-endpoint", "VariantName": "AllTraffic"}


def test_whole_endpoint_count_over_two_variants_is_their_sum() -> None:
    metric = two_variants().metric_invocation_5xx_errors()
    assert isinstance(metric, cloudwatch.MathExpression)
    assert metric.expression == "v0 + v1"
    variants = {
        dimensions(m)["VariantName"]  # type: ignore[arg-type]
        for m in metric.using_metrics.values()
    }
    assert variants == {"Blue", "Green"}


def test_whole_endpoint_latency_over_two_variants_is_the_slowest_variant() -> None:
    metric = two_variants().metric_model_latency()
    assert isinstance(metric, cloudwatch.MathExpression)
    assert metric.expression == "MAX([v0, v1])"


@pytest.mark.parametrize(
    ("method", "metric_name", "statistic"),
    [
        ("metric_invocations", "Invocations", "Sum"),
        ("metric_invocation_4xx_errors", "Invocation4XXErrors", "Sum"),
        ("metric_invocation_5xx_errors", "Invocation5XXErrors", "Sum"),
        ("metric_model_latency", "ModelLatency", "Average"),
        ("metric_overhead_latency", "OverheadLatency", "Average"),
        ("metric_invocations_per_instance", "InvocationsPerInstance", "Sum"),
    ],
)
def test_invocation_metric_has_its_name_and_usual_statistic(
    method: str, metric_name: str, statistic: str
) -> None:
    metric = getattr(endpoint(), method)()
    assert (metric.namespace, metric.metric_name, metric.statistic) == (
        "AWS/SageMaker",
        metric_name,
        statistic,
    )
    assert metric.period.to_seconds() == 300


@pytest.mark.parametrize(
    ("method", "metric_name"),
    [("metric_cpu_utilization", "CPUUtilization"),
     ("metric_memory_utilization", "MemoryUtilization")],
)
def test_instance_metric_is_in_the_endpoints_namespace(method: str, metric_name: str) -> None:
    metric = getattr(endpoint(), method)()
    assert (metric.namespace, metric.metric_name) == ("/aws/sagemaker/Endpoints", metric_name)


def test_metric_options_override_the_defaults() -> None:
    metric = endpoint().metric_model_latency(
        period=Duration.minutes(1), statistic="p99", label="p99 latency"
    )
    assert isinstance(metric, cloudwatch.Metric)
    assert metric.period.to_seconds() == 60
    assert (metric.statistic, metric.label) == ("p99", "p99 latency")


def test_metric_of_an_unknown_variant_is_refused() -> None:
    with pytest.raises(ValueError, match=(r"known-variant\] variant_name = 'Red'; .*\['Blue',"
            r" 'Green'\]. Fix: use one of 'Blue', 'Green'\.")):
        two_variants().metric_invocations(variant_name="Red")


def test_metric_of_the_shadow_variant_is_allowed() -> None:
    metric = endpoint(shadow_variants=[variant("Shadow")]).metric_model_latency(
        variant_name="Shadow"
    )
    assert isinstance(metric, cloudwatch.Metric)
    assert dimensions(metric)["VariantName"] == "Shadow"


# --- alarms on the endpoint's own metrics as its rollback alarms ---------------------------------


class OwnAlarms:
    """A canary endpoint with two variants, rolled back by alarms on its own metrics."""

    def __init__(self) -> None:
        self.stack = new_stack()
        self.endpoint = RolloutEndpoint(
            self.stack,
            "Endpoint",
            variants=[variant("Blue", initial_instance_count=2),
                      variant("Green", initial_instance_count=2)],
            deployment=DeploymentStrategy.blue_green(
                traffic_routing=TrafficRouting.canary(
                    size=CapacitySize.count(1), bake_time=Duration.minutes(5)
                )
            ),
        )
        #: On one variant's metric.
        self.variant_alarm = self.endpoint.metric_invocation_5xx_errors(
            variant_name="Blue", period=Duration.minutes(1)
        ).create_alarm(self.stack, "BlueErrors", threshold=1, evaluation_periods=1)
        #: On the whole endpoint (metric math over both variants).
        self.endpoint_alarm = self.endpoint.metric_model_latency().create_alarm(
            self.stack, "Latency", threshold=500_000, evaluation_periods=2
        )
        self.endpoint.add_rollback_alarm(self.variant_alarm)
        self.endpoint.add_rollback_alarm(self.endpoint_alarm)
        self.template = Template.from_stack(self.stack)
        self.graph = dependency_graph(self.template.to_json())
        self.rollout = self.logical_id(self.endpoint.custom_resource)

    def logical_id(self, construct: Any) -> str:
        return self.stack.get_logical_id(construct.node.default_child)


@pytest.fixture(scope="module")
def own_alarms() -> OwnAlarms:
    return OwnAlarms()


def test_alarms_on_the_endpoints_own_metrics_give_no_dependency_cycle(
    own_alarms: OwnAlarms,
) -> None:
    assert not any(depends_on(own_alarms.graph, node, node) for node in own_alarms.graph)


@pytest.mark.parametrize("alarm", ["variant_alarm", "endpoint_alarm"])
def test_alarm_on_the_endpoints_own_metric_is_created_before_the_rollout(
    own_alarms: OwnAlarms, alarm: str
) -> None:
    alarm_id = own_alarms.logical_id(getattr(own_alarms, alarm))
    assert alarm_id in own_alarms.graph[own_alarms.rollout]
    assert not depends_on(own_alarms.graph, alarm_id, own_alarms.rollout)


def test_alarms_on_the_endpoints_own_metrics_are_its_auto_rollback_alarms(
    own_alarms: OwnAlarms,
) -> None:
    (properties,) = [
        r["Properties"] for r in own_alarms.template.find_resources(ROLLOUT).values()
    ]
    assert properties["DeploymentConfig"]["AutoRollbackConfiguration"]["Alarms"] == [
        {"AlarmName": {"Ref": own_alarms.logical_id(own_alarms.variant_alarm)}},
        {"AlarmName": {"Ref": own_alarms.logical_id(own_alarms.endpoint_alarm)}},
    ]


def test_whole_endpoint_alarm_watches_metric_math_over_the_variants(own_alarms: OwnAlarms) -> None:
    alarm = own_alarms.template.to_json()["Resources"][
        own_alarms.logical_id(own_alarms.endpoint_alarm)
    ]
    queries = alarm["Properties"]["Metrics"]
    assert [q.get("Expression") for q in queries if "Expression" in q] == ["MAX([v0, v1])"]
    variants = [
        {d["Name"]: d["Value"] for d in q["MetricStat"]["Metric"]["Dimensions"]}["VariantName"]
        for q in queries
        if "MetricStat" in q
    ]
    assert sorted(variants) == ["Blue", "Green"]


# --- grant_invoke and the deployed config name ---------------------------------------------------


def _invoke_statement(endpoint: RolloutEndpoint) -> dict[str, Any]:
    stack = Stack.of(endpoint)
    role = iam.Role(stack, "Caller", assumed_by=iam.AccountRootPrincipal())
    endpoint.grant_invoke(role)
    policies = Template.from_stack(stack).find_resources(
        "AWS::IAM::Policy", {"Properties": {"Roles": [{"Ref": stack.get_logical_id(
            role.node.default_child)}]}}  # type: ignore[arg-type]
    )
    (policy,) = policies.values()
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    return statement  # type: ignore[no-any-return]


def test_grant_invoke_allows_invoking_this_endpoint_only() -> None:
    ep = endpoint()
    statement = _invoke_statement(ep)
    assert statement["Action"] == "sagemaker:InvokeEndpoint"
    assert statement["Resource"] == Stack.of(ep).resolve(ep.endpoint_arn)


def test_grant_invoke_of_an_asynchronous_endpoint_allows_async_invocations() -> None:
    stack = new_stack()
    ep = RolloutEndpoint(
        stack,
        "Endpoint",
        variants=[variant()],
        async_inference=AsyncInference(output_bucket=s3.Bucket(stack, "Results")),
    )
    assert _invoke_statement(ep)["Action"] == [
        "sagemaker:InvokeEndpoint",
        "sagemaker:InvokeEndpointAsync",
    ]


def test_deployed_endpoint_config_name_is_the_rollouts_attribute() -> None:
    ep = endpoint()
    assert Stack.of(ep).resolve(ep.deployed_endpoint_config_name) == {
        "Fn::GetAtt": [
            Stack.of(ep).get_logical_id(ep.custom_resource.node.default_child),  # type: ignore[arg-type]
            "EndpointConfigName",
        ]
    }

