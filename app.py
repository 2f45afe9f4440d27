#!/usr/bin/env python3
"""Example app: a SageMaker endpoint rolled out by canary, rolled back by its own 5XX alarm.

Synthesizes offline with no AWS account (an environment-agnostic stack, no lookups):
``npx cdk synth``. The inference image is read from an ECR repository of your account; choose it
with ``-c repository=NAME -c imageTag=TAG`` (default ``my-model:latest``).
"""

from __future__ import annotations

from aws_cdk import App, ArnFormat, Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sagemaker as sagemaker
from sagemaker_rollout import (
    CapacitySize,
    DeploymentStrategy,
    ProductionVariant,
    RolloutEndpoint,
    TrafficRouting,
)

from constructs import Construct

VARIANT_NAME = "AllTraffic"


class ExampleEndpointStack(Stack):
    """A model, and an endpoint whose every model change is a canary deployment."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        repository = ecr.Repository.from_repository_name(
            self, "Repository", self.node.try_get_context("repository") or "my-model"
        )
        image_tag = self.node.try_get_context("imageTag") or "latest"

        # The role SageMaker runs the model with: pull the image, write the endpoint's logs.
        execution_role = iam.Role(
            self, "ModelRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")
        )
        repository.grant_pull(execution_role)
        execution_role.add_to_policy(
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

        model = sagemaker.CfnModel(
            self,
            "Model",
            execution_role_arn=execution_role.role_arn,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(
                image=repository.repository_uri_for_tag(image_tag)
            ),
        )
        # SageMaker checks the role's permissions when it creates the model.
        model.node.add_dependency(execution_role)

        endpoint = RolloutEndpoint(
            self,
            "Endpoint",
            variants=[
                ProductionVariant.instances(
                    variant_name=VARIANT_NAME,
                    model_name=model.attr_model_name,
                    instance_type="ml.m5.large",
                    initial_instance_count=2,
                )
            ],
            # One instance of the new model takes half the traffic for 10 minutes, then the rest.
            deployment=DeploymentStrategy.blue_green(
                traffic_routing=TrafficRouting.canary(
                    size=CapacitySize.count(1), bake_time=Duration.minutes(10)
                ),
                termination_wait=Duration.minutes(5),
            ),
        )

        # Server errors of this endpoint roll the deployment back.
        errors = cloudwatch.Metric(
            namespace="AWS/SageMaker",
            metric_name="Invocation5XXErrors",
            dimensions_map={"EndpointName": endpoint.endpoint_name, "VariantName": VARIANT_NAME},
            statistic="Sum",
            period=Duration.minutes(1),
        ).create_alarm(
            self,
            "Invocation5XXErrors",
            threshold=1,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"5XX errors of SageMaker endpoint {endpoint.endpoint_name}",
        )
        endpoint.add_rollback_alarm(errors)


app = App()
ExampleEndpointStack(app, "SageMakerRolloutExample")
app.synth()
