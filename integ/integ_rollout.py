#!/usr/bin/env python3
"""Integration test for a real AWS account: deploy an endpoint, update it by canary, check it.

It cannot run in CI (no account); CI synthesizes it (tests/test_conformance.py). A maintainer runs
it in two steps, as the README ("The integration test") says:

1. ``-c integ:step=1``: the endpoint is created with model version 1;
2. ``-c integ:step=2``: model version 2 is deployed by a blue/green canary (one instance for
   five minutes, with a rollback alarm on the endpoint's 5XX errors);
3. ``-c integ:step=3`` (optional, **costs real time**: about 1 h 40 min of four ml.m5.large
   instances): model version 3 is deployed by a linear rollout of two 40-minute steps, longer
   than the custom resource's hour, so a WaitCondition waits for it (docs/long-rollouts.md).

After each deployment the assertion calls SageMaker ``DescribeEndpoint`` until the endpoint is
``InService`` on the endpoint config of that step (``wait_for_assertions``): a rollback, or an
update that never took place, fails the deployment.

Context: ``integ:step`` (1, 2 or 3, default 1), ``integ:repository`` and ``integ:imageTag`` (an ECR
repository of the account holding any SageMaker-compatible inference image: it must answer
``GET /ping`` and ``POST /invocations`` on port 8080; default ``sagemaker-rollout-integ:latest``).
"""

from __future__ import annotations

from aws_cdk import App, ArnFormat, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk.integ_tests_alpha import ExpectedResult, IntegTest
from sagemaker_rollout import (
    CapacitySize,
    DeploymentStrategy,
    ProductionVariant,
    RolloutEndpoint,
    TrafficRouting,
)

from constructs import Construct

VARIANT_NAME = "AllTraffic"
STACK_NAME = "SageMakerRolloutInteg"


#: The step that deploys a rollout longer than the custom resource's hour.
LONG_STEP = 3

CANARY = DeploymentStrategy.blue_green(
    traffic_routing=TrafficRouting.canary(
        size=CapacitySize.count(1), bake_time=Duration.minutes(5)
    ),
    termination_wait=Duration.minutes(1),
)
#: One instance at a time on two, each step baked 40 minutes: worst case 600 + 2 x 2400 = 5400 s,
#: more than the 3210 s a custom resource can wait out: the WaitCondition mode, by itself.
LONG_LINEAR = DeploymentStrategy.blue_green(
    traffic_routing=TrafficRouting.linear(
        step_size=CapacitySize.percent(50), interval=Duration.minutes(40)
    ),
)


class RolloutIntegStack(Stack):
    """One endpoint whose model version is the integration step."""

    def __init__(self, scope: Construct, construct_id: str, *, step: int) -> None:
        super().__init__(scope, construct_id)
        repository = ecr.Repository.from_repository_name(
            self,
            "Repository",
            self.node.try_get_context("integ:repository") or "sagemaker-rollout-integ",
        )
        image_tag = self.node.try_get_context("integ:imageTag") or "latest"
        role = iam.Role(
            self, "ModelRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")
        )
        repository.grant_pull(role)
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[
                    self.format_arn(
                        service="logs",
                        resource="log-group",
                        resource_name="/aws/sagemaker/Endpoints/*",
                        arn_format=ArnFormat.COLON_RESOURCE_NAME,
                    )
                ],
            )
        )
        # A new environment makes a new model, hence a new endpoint config: an update.
        model = sagemaker.CfnModel(
            self,
            f"ModelV{step}",
            execution_role_arn=role.role_arn,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                image=repository.repository_uri_for_tag(image_tag),
                environment={"MODEL_VERSION": str(step)},
            ),
        )
        model.node.add_dependency(role)

        #: The endpoint under test.
        self.endpoint = RolloutEndpoint(
            self,
            "Endpoint",
            endpoint_name="sagemaker-rollout-integ",
            variants=[
                ProductionVariant.instances(
                    variant_name=VARIANT_NAME,
                    model_name=model.attr_model_name,
                    instance_type="ml.m5.large",
                    # A canary of one instance needs at least two (at most 50% of the fleet).
                    initial_instance_count=2,
                )
            ],
            deployment=LONG_LINEAR if step == LONG_STEP else CANARY,
            tags={"sagemaker-rollout-integ": f"step-{step}"},
        )
        errors = cloudwatch.Metric(
            namespace="AWS/SageMaker",
            metric_name="Invocation5XXErrors",
            dimensions_map={
                "EndpointName": self.endpoint.endpoint_name,
                "VariantName": VARIANT_NAME,
            },
            statistic="Sum",
            period=Duration.minutes(1),
        ).create_alarm(
            self,
            "Invocation5XXErrors",
            threshold=1,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
        )
        self.endpoint.add_rollback_alarm(errors)


def build(app: App) -> IntegTest:
    """The integration test of ``app``, at the step its context names."""
    step = int(app.node.try_get_context("integ:step") or 1)
    if step not in (1, 2, LONG_STEP):
        raise ValueError(f"context integ:step is {step!r}: allowed are 1, 2 and {LONG_STEP}")
    stack = RolloutIntegStack(app, STACK_NAME, step=step)
    integ = IntegTest(
        app,
        "SageMakerRolloutIntegTest",
        test_cases=[stack],
        # In the test stack itself: an assertion stack would import the config name, and an
        # export in use cannot change, which every update does.
        assertion_stack=stack,
        # Step 2 is the update; the runner's own update workflow needs a committed snapshot.
        stack_update_workflow=False,
    )
    served = integ.assertions.aws_api_call(
        "SageMaker", "describeEndpoint", {"EndpointName": stack.endpoint.endpoint_name}
    )
    served.expect(
        ExpectedResult.object_like(
            {
                "EndpointStatus": "InService",
                "EndpointConfigName": stack.endpoint.endpoint_config_name,
            }
        )
    )
    served.wait_for_assertions(total_timeout=Duration.minutes(20), interval=Duration.seconds(30))
    # After the deployment's end: the custom resource, or (step 3) the WaitCondition.
    served.node.add_dependency(stack.endpoint.deployment_complete)
    return integ


def main() -> None:
    app = App()
    build(app)
    app.synth()


if __name__ == "__main__":
    main()
