#!/usr/bin/env python3
"""Example app: a production SageMaker endpoint. Every model change is a canary, rolled back by
the endpoint's own 5XX alarm; the instance count scales with traffic and survives rollouts; a
fifth of the requests and responses are captured to S3.

Synthesizes offline with no AWS account (an environment-agnostic stack, no lookups):
``npx cdk synth``. The inference image is read from an ECR repository of your account; choose it
with ``-c repository=NAME -c imageTag=TAG`` (default ``my-model:latest``).
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, ArnFormat, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from sagemaker_rollout import (
    CapacitySize,
    DataCapture,
    DeploymentStrategy,
    ProductionVariant,
    RolloutEndpoint,
    TrafficRouting,
)

from constructs import Construct

VARIANT_NAME = "AllTraffic"
#: Where the endpoint's requests and responses are captured, in the capture bucket.
CAPTURE_PREFIX = "endpoint"


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

        # Captured requests and responses (for Model Monitor), written with the model's role.
        access_logs = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        capture_bucket = s3.Bucket(
            self,
            "DataCapture",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            removal_policy=RemovalPolicy.RETAIN,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="data-capture/",
        )
        execution_role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"],
                resources=[capture_bucket.arn_for_objects(f"{CAPTURE_PREFIX}/*")],
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
                    model=model,
                    instance_type="ml.m5.large",
                    initial_instance_count=2,
                )
            ],
            data_capture=DataCapture(
                bucket=capture_bucket, prefix=CAPTURE_PREFIX, sampling_percentage=20
            ),
            # One instance of the new model takes half the traffic for 10 minutes, then the rest.
            deployment=DeploymentStrategy.blue_green(
                traffic_routing=TrafficRouting.canary(
                    size=CapacitySize.count(1), bake_time=Duration.minutes(10)
                ),
                termination_wait=Duration.minutes(5),
            ),
        )

        # Server errors of this endpoint roll the deployment back. The alarm watches the endpoint's
        # own metric (by its name, known at synth): it is created before the deployment, no cycle.
        errors = endpoint.metric_invocation_5xx_errors(
            variant_name=VARIANT_NAME, period=Duration.minutes(1)
        ).create_alarm(
            self,
            "Invocation5XXErrors",
            threshold=1,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"5XX errors of SageMaker endpoint {endpoint.endpoint_name}",
        )
        endpoint.add_rollback_alarm(errors)

        # 2 to 6 instances, about 300 invocations per instance and minute. The instance count the
        # autoscaler chose survives every rollout (variant properties are retained).
        endpoint.auto_scale_instance_count(
            variant_name=VARIANT_NAME,
            min_capacity=2,
            max_capacity=6,
            invocations_per_instance=300,
            scale_in_cooldown=Duration.minutes(10),
        )

        # cdk-nag (AwsSolutions) findings of this example's own model role, each acknowledged
        # for its one finding. The provider acknowledges its own (README, "Security").
        model_policy = execution_role.node.find_child("DefaultPolicy")
        Validations.of(model_policy).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason="ecr:GetAuthorizationToken (from repository.grant_pull) has no "
                "resource-level permission: its Resource must be '*'.",
            )
        )
        Validations.of(model_policy).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:"
                "<AWS::AccountId>:log-group:/aws/sagemaker/Endpoints/*]",
                reason="SageMaker writes each endpoint's container logs to the log group "
                "/aws/sagemaker/Endpoints/<endpoint name>, which it creates with this role.",
            )
        )
        Validations.of(model_policy).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::<DataCapture91154E3A.Arn>/"
                f"{CAPTURE_PREFIX}/*]",
                reason="SageMaker data capture writes one object per batch of captured requests, "
                "under keys it chooses below the capture prefix: s3:PutObject on that prefix only.",
            )
        )


def main() -> None:
    """Synthesize the example app (``npx cdk synth``)."""
    app = App()
    ExampleEndpointStack(app, "SageMakerRolloutExample")
    app.synth()


if __name__ == "__main__":
    main()
