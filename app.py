#!/usr/bin/env python3
"""Example app: three SageMaker endpoints, each a pattern to copy.

- ``Canary``: production traffic on instances. Every model change is a canary, rolled back by the
  endpoint's own 5XX alarm; the instance count scales with traffic and survives rollouts; a fifth
  of the requests and responses are captured to S3.
- ``Serverless``: a serverless endpoint (no instances to manage). Serverless endpoints take only
  all-at-once deployments: the new model serves all traffic at once, and a final bake watched by
  the endpoint's 5XX alarm sends it back to the old one if it fails.
- ``Rolling``: a fleet of GPU instances updated in batches, so the update never runs two full
  fleets at once (blue/green would double the fleet for the duration of the deployment).

Synthesizes offline with no AWS account (an environment-agnostic stack, no lookups):
``npx cdk synth``. The inference image is read from an ECR repository of your account; choose it
with ``-c repository=NAME -c imageTag=TAG`` (default ``my-model:latest``).
"""

from __future__ import annotations

from aws_cdk import (
    Acknowledgment,
    App,
    ArnFormat,
    Duration,
    RemovalPolicy,
    Size,
    Stack,
    Validations,
)
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
#: Where the canary endpoint's requests and responses are captured, in the capture bucket.
CAPTURE_PREFIX = "endpoint"


class ExampleEndpointStack(Stack):
    """One model image served by a canary, a serverless and a rolling endpoint."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        repository = ecr.Repository.from_repository_name(
            self, "Repository", self.node.try_get_context("repository") or "my-model"
        )
        self.image = repository.repository_uri_for_tag(
            self.node.try_get_context("imageTag") or "latest"
        )
        # The role SageMaker runs the models with: pull the image, write the endpoints' logs.
        self.model_role = iam.Role(
            self, "ModelRole", assumed_by=iam.ServicePrincipal("sagemaker.amazonaws.com")
        )
        repository.grant_pull(self.model_role)
        self.model_role.add_to_policy(
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
        capture_bucket = self.capture_bucket()

        self.canary_endpoint(capture_bucket)
        self.serverless_endpoint()
        self.rolling_endpoint()
        self.acknowledge_model_role_findings(capture_bucket)

    def model(self, construct_id: str) -> sagemaker.CfnModel:
        """A model of the image; a new image tag is a new model, hence a deployment."""
        model = sagemaker.CfnModel(
            self,
            construct_id,
            execution_role_arn=self.model_role.role_arn,
            primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(image=self.image),
        )
        # SageMaker checks the role's permissions when it creates the model.
        model.node.add_dependency(self.model_role)
        return model

    def capture_bucket(self) -> s3.Bucket:
        """Captured requests and responses (for Model Monitor), written with the model's role;
        its server access logs go to a second bucket (by bucket policy, not an ACL)."""
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
        self.model_role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:PutObject"],
                resources=[capture_bucket.arn_for_objects(f"{CAPTURE_PREFIX}/*")],
            )
        )
        return capture_bucket

    def canary_endpoint(self, capture_bucket: s3.IBucket) -> RolloutEndpoint:
        """Instances, a canary guarded by a 5XX alarm, autoscaling, data capture."""
        endpoint = RolloutEndpoint(
            self,
            "Canary",
            variants=[
                ProductionVariant.instances(
                    variant_name=VARIANT_NAME,
                    model=self.model("CanaryModel"),
                    instance_type="ml.m5.large",
                    initial_instance_count=2,
                )
            ],
            data_capture=DataCapture(
                bucket=capture_bucket, prefix=CAPTURE_PREFIX, sampling_percentage=20
            ),
            # One instance of the new model takes its share of the traffic for 10 minutes, then
            # the rest; the old fleet stays 5 more minutes, ready to take the traffic back.
            deployment=DeploymentStrategy.blue_green(
                traffic_routing=TrafficRouting.canary(
                    size=CapacitySize.count(1), bake_time=Duration.minutes(10)
                ),
                termination_wait=Duration.minutes(5),
            ),
        )
        self.roll_back_on_server_errors(endpoint, "Canary5XXErrors")
        # 2 to 6 instances, about 300 invocations per instance and minute. The instance count the
        # autoscaler chose survives every rollout (variant properties are retained).
        endpoint.auto_scale_instance_count(
            variant_name=VARIANT_NAME,
            min_capacity=2,
            max_capacity=6,
            invocations_per_instance=300,
            scale_in_cooldown=Duration.minutes(10),
        )
        return endpoint

    def serverless_endpoint(self) -> RolloutEndpoint:
        """Serverless: 2 GiB per worker, up to 20 concurrent invocations, all at once."""
        endpoint = RolloutEndpoint(
            self,
            "Serverless",
            variants=[
                ProductionVariant.serverless(
                    variant_name=VARIANT_NAME,
                    model=self.model("ServerlessModel"),
                    memory_size=Size.gibibytes(2),
                    max_concurrency=20,
                )
            ],
            # The only strategy serverless endpoints take; the final bake is what the alarm
            # watches before the old configuration is let go.
            deployment=DeploymentStrategy.all_at_once(termination_wait=Duration.minutes(10)),
        )
        self.roll_back_on_server_errors(endpoint, "Serverless5XXErrors")
        return endpoint

    def rolling_endpoint(self) -> RolloutEndpoint:
        """Four GPU instances updated two at a time, each batch baked for 5 minutes."""
        endpoint = RolloutEndpoint(
            self,
            "Rolling",
            variants=[
                ProductionVariant.instances(
                    variant_name=VARIANT_NAME,
                    model=self.model("RollingModel"),
                    instance_type="ml.g5.xlarge",
                    initial_instance_count=4,
                )
            ],
            # At most 2 extra instances at any time; an alarm rolls every batch back at once.
            deployment=DeploymentStrategy.rolling(
                batch_size=CapacitySize.count(2), bake_time=Duration.minutes(5)
            ),
        )
        self.roll_back_on_server_errors(endpoint, "Rolling5XXErrors")
        return endpoint

    def roll_back_on_server_errors(self, endpoint: RolloutEndpoint, alarm_id: str) -> None:
        """Server errors of the endpoint roll its deployment back. The alarm watches the
        endpoint's own metric (by its name, known at synth): it is created before the
        deployment, no cycle."""
        errors = endpoint.metric_invocation_5xx_errors(
            variant_name=VARIANT_NAME, period=Duration.minutes(1)
        ).create_alarm(
            self,
            alarm_id,
            threshold=1,
            evaluation_periods=1,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"5XX errors of SageMaker endpoint {endpoint.endpoint_name}",
        )
        endpoint.add_rollback_alarm(errors)

    def acknowledge_model_role_findings(self, capture_bucket: s3.IBucket) -> None:
        """cdk-nag (AwsSolutions) findings of this example's own model role, each acknowledged
        for its one finding. The provider acknowledges its own (docs/security.md)."""
        model_policy = self.model_role.node.find_child("DefaultPolicy")
        capture_id = Stack.of(self).get_logical_id(
            capture_bucket.node.default_child  # type: ignore[arg-type]
        )
        findings = {
            "Resource::*": "ecr:GetAuthorizationToken (from repository.grant_pull) has no "
            "resource-level permission: its Resource must be '*'.",
            "Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:"
            "/aws/sagemaker/Endpoints/*": "SageMaker writes each endpoint's container logs to "
            "the log group /aws/sagemaker/Endpoints/<endpoint name>, which it creates with this "
            "role.",
            f"Resource::<{capture_id}.Arn>/{CAPTURE_PREFIX}/*": "SageMaker data capture writes "
            "one object per batch of captured requests, under keys it chooses below the capture "
            "prefix: s3:PutObject on that prefix only.",
        }
        for finding, reason in findings.items():
            Validations.of(model_policy).acknowledge(
                Acknowledgment(id=f"AwsSolutions::AwsSolutions-IAM5[{finding}]", reason=reason)
            )


def main() -> None:
    """Synthesize the example app (``npx cdk synth``)."""
    app = App()
    ExampleEndpointStack(app, "SageMakerRolloutExample")
    app.synth()


if __name__ == "__main__":
    main()
