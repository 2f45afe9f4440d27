"""The custom-resource provider: one Lambda function per stack, shared by every RolloutEndpoint."""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs

from constructs import Construct

from .bundling import HANDLER_ENTRY_POINT, provider_code

#: The SingletonFunction uuid: fixed forever, so the function keeps its logical id.
PROVIDER_UUID = "7d0f4f0e-5c3a-4a7e-9a53-5b1f3c0d2a61"

#: The handler names the EventBridge rules crhelper polls with after this prefix.
POLLING_RULE_PREFIX = "sagemaker-rollout-"

#: The construct id of the provider in its stack.
PROVIDER_ID = "SageMakerRolloutProvider"

#: How long one invocation may run. The handler waits in-process for at most ~45 s per
#: invocation and then hands over to crhelper's polling (an EventBridge rule that fires every
#: minute), so an invocation never overlaps the next poll. Three minutes leave room around that
#: wait for botocore's retries, crhelper's rule set-up/clean-up and its response, so that
#: crhelper's own "Execution timed out" timer (0.5 s before this timeout) never fires in normal
#: operation, while a hung invocation is still ended quickly.
FUNCTION_TIMEOUT = Duration.minutes(3)

#: Lambda retries a failed asynchronous invocation (CloudFormation and EventBridge both invoke
#: asynchronously). Every error the handler can see is already answered in-process by crhelper
#: (FAILED, or "Execution timed out" just before the timeout); a Lambda-level retry would replay
#: an event CloudFormation already has an answer for and could start an UpdateEndpoint while
#: CloudFormation is rolling back. Hence no retry. (Throttled invocations are still retried by
#: Lambda regardless, within MAX_EVENT_AGE.)
RETRY_ATTEMPTS = 0

#: Events older than the custom resource's ServiceTimeout are useless: CloudFormation gave up.
MAX_EVENT_AGE = Duration.hours(1)

#: Default retention of the provider's log group.
DEFAULT_LOG_RETENTION = logs.RetentionDays.ONE_MONTH


class RolloutProvider(Construct):
    """The Lambda function that carries out the rollouts of every RolloutEndpoint in a stack.

    There is one per stack, created by the first RolloutEndpoint: use ``RolloutProvider.of(scope)``.
    Each endpoint grants the function what it needs for its own endpoint with ``grant_endpoint``.

    The function runs ``sagemaker_rollout_handler.index.handler`` on Python 3.12 with
    ``LOG_LEVEL=INFO`` (crhelper logs the presigned ResponseURL at DEBUG: never lower it), writes
    to a log group owned by the stack (retention one month, kept when the stack is deleted), and
    may manage crhelper's polling rules (``sagemaker-rollout-*``) and its own invoke permissions.
    """

    @staticmethod
    def of(scope: Construct) -> RolloutProvider:
        """The provider of the stack that contains ``scope``, created on first use."""
        stack = Stack.of(scope)
        existing = stack.node.try_find_child(PROVIDER_ID)
        if isinstance(existing, RolloutProvider):
            return existing
        if existing is not None:
            raise RuntimeError(
                f"construct id {PROVIDER_ID!r} at the root of stack {stack.node.path!r} is taken "
                "by another construct; it is reserved for the SageMaker rollout provider"
            )
        return RolloutProvider(stack, PROVIDER_ID)

    def __init__(self, scope: Construct, construct_id: str) -> None:
        """Use ``RolloutProvider.of(scope)``: a stack must have only one provider."""
        super().__init__(scope, construct_id)
        stack = Stack.of(self)

        #: The provider's log group. Change its retention through the escape hatch if needed.
        self.log_group = logs.LogGroup(self, "LogGroup", retention=DEFAULT_LOG_RETENTION)

        #: The provider function (a singleton: one per stack).
        self.function = lambda_.SingletonFunction(
            self,
            "Function",
            uuid=PROVIDER_UUID,
            lambda_purpose="SageMakerRollout",
            description="sagemaker-rollout: deploys SageMaker endpoint configs and waits for them",
            runtime=lambda_.Runtime.PYTHON_3_12,
            handler=HANDLER_ENTRY_POINT,
            code=provider_code(),
            timeout=FUNCTION_TIMEOUT,
            retry_attempts=RETRY_ATTEMPTS,
            max_event_age=MAX_EVENT_AGE,
            environment={"LOG_LEVEL": "INFO"},
            log_group=self.log_group,
        )

        # crhelper's polling: an EventBridge rule per request in flight, named by the handler.
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=[
                    "events:PutRule",
                    "events:PutTargets",
                    "events:RemoveTargets",
                    "events:DeleteRule",
                    "events:DescribeRule",
                ],
                resources=[
                    stack.format_arn(
                        service="events", resource="rule", resource_name=f"{POLLING_RULE_PREFIX}*"
                    )
                ],
            )
        )
        # ... and the permission that lets the rule invoke the function. A separate policy: the
        # function depends on its role's default policy, which therefore cannot name the function.
        #: Must exist before any custom resource is created (RolloutEndpoint depends on it).
        self.self_invoke_policy = iam.Policy(
            self,
            "PollingPermissions",
            roles=[self.function.role] if self.function.role is not None else None,
            statements=[
                iam.PolicyStatement(
                    actions=["lambda:AddPermission", "lambda:RemovePermission"],
                    resources=[self.function.function_arn],
                )
            ],
        )

    @property
    def service_token(self) -> str:
        """The ARN to use as a custom resource's ServiceToken."""
        return self.function.function_arn

    def grant_endpoint(self, *, endpoint_arn: str) -> None:
        """Allow the provider to create, update, describe, tag and delete one endpoint.

        UpdateEndpoint and CreateEndpoint are authorised against the endpoint-config ARN as well
        as the endpoint ARN, hence ``endpoint-config/*`` of this stack's account and region.

        :param endpoint_arn: the endpoint's ARN, with its name lower-cased as SageMaker does.
        """
        stack = Stack.of(self)
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=[
                    "sagemaker:CreateEndpoint",
                    "sagemaker:UpdateEndpoint",
                    "sagemaker:DeleteEndpoint",
                    "sagemaker:DescribeEndpoint",
                    "sagemaker:AddTags",
                    "sagemaker:DeleteTags",
                    "sagemaker:ListTags",
                ],
                resources=[
                    endpoint_arn,
                    stack.format_arn(
                        service="sagemaker", resource="endpoint-config", resource_name="*"
                    ),
                ],
            )
        )

    def grant_describe_alarm(self, alarm: cloudwatch.IAlarm) -> None:
        """Allow the provider (and SageMaker acting for it) to read a rollback alarm."""
        self.function.add_to_role_policy(
            iam.PolicyStatement(actions=["cloudwatch:DescribeAlarms"], resources=[alarm.alarm_arn])
        )
