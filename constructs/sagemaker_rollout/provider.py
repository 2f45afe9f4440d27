"""The custom-resource provider: one Lambda function per stack, shared by every RolloutEndpoint,
and what wakes it while a rollout waits (docs/waiting.md).

Per stack, created once whatever the number of endpoints: one EventBridge rule on the default
bus (SageMaker's endpoint events -> the function, with its one Lambda permission), one
EventBridge Scheduler schedule group (each waiting request keeps one one-time schedule in it),
and the role Scheduler assumes to invoke the function. Nothing per request touches a resource
policy or the default bus's 300 rules.

Its IAM is least privilege, statement by statement, and its size does not grow with the number of
endpoints or alarms (docs/security.md says why each statement is needed and how it is scoped).
Every statement has a ``Sid`` so that tests, reviewers and cdk-nag acknowledgments can name it:

- ``Logs``: write to the provider's own log group (no AWS managed policy).
- ``Wakes``: create, move, read and delete the schedules ``sagemaker-rollout-*`` of the stack's
  schedule group; ``PassSchedulerRole``: hand Scheduler its execution role (only to Scheduler).
- ``CreateOwnedEndpoints``: CreateEndpoint of any name, only with the ownership tag
  (``sagemaker-rollout:stack`` = this stack's id) in the request; ``TagOwnedEndpointsOnCreate``:
  the AddTags that CreateEndpoint's Tags need, only as part of CreateEndpoint, with that tag.
- ``OwnedEndpoints``: describe, update, delete and tag the endpoints that carry this stack's
  ownership tag: every endpoint the stack made, under its current or any earlier name (the
  clean-up Delete after a rename). AddTags cannot give the tag another value.
- ``OwnedEndpointTags``: DeleteTags on those endpoints, never of the ownership tag.
- ``AdoptEndpoint<n>``: for each endpoint with ``adopt_existing_endpoint``, describe, list and
  tag its one ARN (the claim that puts the ownership tag on it).
- ``SageMakerEndpointConfigs``: CreateEndpoint / UpdateEndpoint are authorised against the
  endpoint-config ARN too; DescribeEndpointConfig checks the config exists. ``endpoint-config/*``
  of the stack's account and region: CloudFormation generates the config names.
- ``RollbackAlarms``: ``cloudwatch:DescribeAlarms`` on the alarms of the stack's account and
  region (only when an endpoint has a rollback alarm).
- ``LegacyPollingRules`` / ``LegacyPollingPermission`` (the latter in a separate policy): a wait
  of the previous version (crhelper's polling rule) still in flight when this version is
  deployed removes its rule and permission; no new one is ever made.
- The scheduler role: ``lambda:InvokeFunction`` on the function only (``InvokeProvider``).
"""

from __future__ import annotations

import contextlib
import weakref

from aws_cdk import ArnFormat, Aws, Duration, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_scheduler as scheduler
from sagemaker_rollout_handler.contract import (
    FUNCTION_TIMEOUT_SECONDS,
    MAX_SERVICE_TIMEOUT_SECONDS,
    SCHEDULE_GROUP_ENV,
    SCHEDULE_NAME_PREFIX,
    SCHEDULER_ROLE_ENV,
    STACK_ID_ENV,
    sagemaker_event_pattern,
)

from constructs import Construct, IConstruct

from .bundling import HANDLER_ENTRY_POINT, provider_code
from .endpoint_policy import adopt_statement, alarms_statement, owned_endpoint_statements
from .endpoint_tags import TagLimits
from .iam_limits import GrowthPerItem, RolePolicyLimits, statement_sizes
from .provider_acknowledgments import (
    acknowledge_alarms,
    acknowledge_runtime,
    acknowledge_wildcards,
)
from .provider_policy import (
    endpoint_configs_statement,
    legacy_polling_rules_statement,
    logs_statement,
    pass_scheduler_role_statement,
    retained_configs_statement,
    wakes_statement,
)
from .rules import Rule, refusal
from .tokens import is_unresolved

#: The SingletonFunction uuid: fixed forever, so the function keeps its logical id.
PROVIDER_UUID = "7d0f4f0e-5c3a-4a7e-9a53-5b1f3c0d2a61"

#: The previous version's crhelper polling rules were named after this prefix (removed by a wait
#: of that version still in flight; none is made any more).
POLLING_RULE_PREFIX = SCHEDULE_NAME_PREFIX


#: The construct id of the provider in its stack.
PROVIDER_ID = "SageMakerRolloutProvider"

#: The Lambda runtime. crhelper 2.0.12 (in maintenance) declares support up to Python 3.10 and is
#: known to run on 3.12 (shared/reference/custom-resources-and-crhelper.md); newer runtimes are
#: not verified with it, so the provider stays on 3.12 and acknowledges cdk-nag's
#: AwsSolutions-L1 ("latest runtime") on its function with that reason.
RUNTIME = lambda_.Runtime.PYTHON_3_12

#: How long one invocation may run. An invocation woken by an event or its schedule looks once
#: and returns; one that watches like a poller (SageMaker's events are not arriving) runs up to
#: about 270 s (docs/waiting.md). Six minutes leave room for botocore's retries and the answer,
#: so that crhelper's own "Execution timed out" timer never fires in normal operation.
FUNCTION_TIMEOUT = Duration.seconds(FUNCTION_TIMEOUT_SECONDS)

#: Lambda retries a failed asynchronous invocation (CloudFormation, EventBridge and Scheduler all
#: invoke asynchronously). Every error the handler can see is already answered in-process by
#: crhelper (FAILED, or "Execution timed out" just before the timeout); a Lambda-level retry would
#: replay an event CloudFormation already has an answer for and could start an UpdateEndpoint
#: while CloudFormation is rolling back. Hence no retry. (Throttled invocations are still retried by
#: Lambda regardless, within MAX_EVENT_AGE.)
RETRY_ATTEMPTS = 0

#: Events older than the custom resource's ServiceTimeout are useless: CloudFormation gave up.
MAX_EVENT_AGE = Duration.seconds(MAX_SERVICE_TIMEOUT_SECONDS)

#: Default retention of the provider's log group (change it with ``set_log_retention``).
DEFAULT_LOG_RETENTION = logs.RetentionDays.ONE_MONTH


#: The provider of each stack, once looked up or created: finding it in the construct tree again is
#: three round trips to jsii's Node process for every endpoint (the README's Benchmark section).
#: Weak keys, so that the cache never keeps a stack alive by itself.
_PROVIDERS: weakref.WeakKeyDictionary[Stack, RolloutProvider] = weakref.WeakKeyDictionary()


class RolloutProvider(Construct):
    """The Lambda function that carries out the rollouts of every RolloutEndpoint in a stack.

    There is one per stack, created by the first RolloutEndpoint: use ``RolloutProvider.of(scope)``.
    Its endpoint statements cover every endpoint carrying the stack's ownership tag, so an endpoint
    adds nothing to the policy, unless it is adopted (``grant_adopt``); the first rollback alarm
    adds ``grant_describe_alarms``.

    The function runs ``sagemaker_rollout_handler.index.handler`` on the latest Python runtime
    with ``LOG_LEVEL=INFO`` (crhelper logs the presigned ResponseURL at DEBUG: never lower it),
    under a role of its own with inline policies only, and writes to a log group owned by the
    stack (retention one month unless ``set_log_retention`` says otherwise; the group is kept when
    the stack is deleted).
    """

    @staticmethod
    def of(scope: Construct) -> RolloutProvider:
        """The provider of the stack that contains ``scope``, created on first use."""
        stack = Stack.of(scope)
        known = None
        with contextlib.suppress(TypeError):  # an unhashable Stack subclass: see _remember
            known = _PROVIDERS.get(stack)
        if known is not None:
            return known
        existing = stack.node.try_find_child(PROVIDER_ID)
        if isinstance(existing, RolloutProvider):
            return _remember(stack, existing)
        if existing is not None:
            raise RuntimeError(
                f"construct id {PROVIDER_ID!r} at the root of stack {stack.node.path!r} is taken "
                "by another construct; it is reserved for the SageMaker rollout provider"
            )
        return _remember(stack, RolloutProvider(stack, PROVIDER_ID))

    def __init__(self, scope: Construct, construct_id: str) -> None:
        """Use ``RolloutProvider.of(scope)``: a stack must have only one provider."""
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self._log_retention: logs.RetentionDays | None = None

        #: The provider's log group, owned by the stack. Set its retention with
        #: ``set_log_retention``.
        self.log_group = logs.LogGroup(self, "LogGroup", retention=DEFAULT_LOG_RETENTION)
        #: ``format_arn`` of the stack's endpoints, without the ``/name``: see ``endpoint_arn``.
        self._endpoint_arns = stack.format_arn(service="sagemaker", resource="endpoint")

        #: The function's role: only the inline policies below, no AWS managed policy.
        self.role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="sagemaker-rollout provider: deploys the SageMaker endpoints of this stack",
        )
        self.role.add_to_policy(logs_statement(self.log_group.log_group_arn))
        # What wakes a waiting request: its one-time schedule in the stack's group, invoked
        # through the scheduler role (no resource-policy statement per schedule).
        self.schedule_group = scheduler.CfnScheduleGroup(self, "Wakes")
        self.scheduler_role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            ),
            description="sagemaker-rollout: lets EventBridge Scheduler wake the provider",
        )
        schedules = stack.format_arn(
            service="scheduler",
            resource="schedule",
            resource_name=f"{self.schedule_group.ref}/{SCHEDULE_NAME_PREFIX}*",
        )
        self.role.add_to_policy(wakes_statement(schedules))
        self.role.add_to_policy(pass_scheduler_role_statement(self.scheduler_role.role_arn))
        # A wait of the previous version (crhelper's polling rule) still in flight: its rule is
        # removed when it finishes under this version.
        polling_rules = stack.format_arn(
            service="events", resource="rule", resource_name=f"{POLLING_RULE_PREFIX}*"
        )
        self.role.add_to_policy(legacy_polling_rules_statement(polling_rules))
        self.role.add_to_policy(endpoint_configs_statement(
            stack.format_arn(service="sagemaker", resource="endpoint-config", resource_name="*")
        ))
        for statement in owned_endpoint_statements(self._endpoint_arns):
            self.role.add_to_policy(statement)
        self._alarms_granted = False
        self._adopted: dict[str, str] = {}
        #: Endpoint names in this stack, lower-cased, and the endpoint that has each.
        self._names: dict[str, Construct] = {}
        self._retire_granted = False

        #: The provider function (a singleton: one per stack).
        self.function = lambda_.SingletonFunction(
            self,
            "Function",
            uuid=PROVIDER_UUID,
            lambda_purpose="SageMakerRollout",
            description="sagemaker-rollout: deploys SageMaker endpoint configs and waits for them",
            runtime=RUNTIME,
            handler=HANDLER_ENTRY_POINT,
            code=provider_code(),
            role=self.role,
            timeout=FUNCTION_TIMEOUT,
            retry_attempts=RETRY_ATTEMPTS,
            max_event_age=MAX_EVENT_AGE,
            environment={
                "LOG_LEVEL": "INFO",
                SCHEDULE_GROUP_ENV: self.schedule_group.ref,
                SCHEDULER_ROLE_ENV: self.scheduler_role.role_arn,
                STACK_ID_ENV: Aws.STACK_ID,
            },
            log_group=self.log_group,
        )

        # Scheduler may invoke the function, and nothing else. A separate policy: the function
        # depends on the scheduler role (its ARN is in the environment).
        invoke = iam.Policy(
            self,
            "SchedulerInvoke",
            roles=[self.scheduler_role],
            statements=[
                iam.PolicyStatement(
                    sid="InvokeProvider",
                    actions=["lambda:InvokeFunction"],
                    resources=[self.function.function_arn],
                )
            ],
        )
        # The previous version's polling permission, removed by its last wait. A separate policy:
        # the function depends on its role's default policy, which therefore cannot name it.
        #: Must exist before any custom resource is created (RolloutEndpoint depends on it); it
        #: depends in turn on the scheduler role's policy, so that the first wake can invoke.
        self.self_invoke_policy = iam.Policy(
            self,
            "PollingPermissions",
            roles=[self.role],
            statements=[
                iam.PolicyStatement(
                    sid="LegacyPollingPermission",
                    actions=["lambda:RemovePermission"],
                    resources=[self.function.function_arn],
                ),
            ],
        )
        self.self_invoke_policy.node.add_dependency(invoke)
        self._events_rule(stack)
        self._service_token = self.function.function_arn
        self.node.add_validation(
            RolePolicyLimits(self.role, [self.self_invoke_policy], self._policy_growth)
        )
        #: The tag limits of every endpoint of the stack, checked at synth (after Tags.of).
        self.tag_limits = TagLimits(stack)
        self.node.add_validation(self.tag_limits)
        acknowledge_wildcards(self, self._default_policy(), polling_rules=polling_rules,
                              schedule_group_ref=self.schedule_group.ref,
                              endpoint_arns=self._endpoint_arns)
        # SingletonFunction names its function <lambda_purpose><uuid without dashes>, in the stack.
        function = stack.node.try_find_child(f"SageMakerRollout{PROVIDER_UUID.replace('-', '')}")
        assert function is not None  # created by the SingletonFunction above
        acknowledge_runtime(function)

    def _events_rule(self, stack: Stack) -> None:
        """The stack's one rule on the default bus: every SageMaker endpoint event of the account
        and Region -> the function, which keeps those of its own endpoints (their request tag).
        Naming the endpoints in the pattern would cost a jsii round trip per endpoint at synth,
        and stops fitting EventBridge's 2,048-character pattern at about a dozen endpoints."""
        rule = events.CfnRule(
            self,
            "SageMakerEvents",
            description="sagemaker-rollout: SageMaker endpoint events wake waiting rollouts",
            event_pattern=sagemaker_event_pattern(None),
            state="ENABLED",
            targets=[
                events.CfnRule.TargetProperty(
                    id="provider",
                    arn=self.function.function_arn,
                    retry_policy=events.CfnRule.RetryPolicyProperty(
                        maximum_event_age_in_seconds=3600, maximum_retry_attempts=20
                    ),
                )
            ],
        )
        lambda_.CfnPermission(
            self,
            "SageMakerEventsPermission",
            action="lambda:InvokeFunction",
            function_name=self.function.function_arn,
            principal="events.amazonaws.com",
            source_arn=rule.attr_arn,
        )
        self.events_rule = rule

    @property
    def service_token(self) -> str:
        """The ARN to use as a custom resource's ServiceToken."""
        return self._service_token

    def endpoint_arn(self, endpoint_name: str) -> str:
        """The ARN of the endpoint of this name in the provider's stack: what
        ``Stack.format_arn`` makes of it, without a round trip to jsii's Node process per
        endpoint.

        :param endpoint_name: the name as it appears in the ARN (SageMaker lower-cases it).
        """
        return f"{self._endpoint_arns}/{endpoint_name}"

    @property
    def log_retention(self) -> logs.RetentionDays:
        """How long the provider's log group keeps its logs."""
        return self._log_retention or DEFAULT_LOG_RETENTION

    def set_log_retention(self, retention: logs.RetentionDays) -> None:
        """Keep the provider's logs this long (default one month); the group is shared by every
        RolloutEndpoint of the stack, so it can be set before or after they are added.

        :param retention: the retention (``RetentionDays.INFINITE``: never expire).
        :raises ValueError: when a different retention was already set for this stack.
        """
        if self._log_retention is not None and self._log_retention != retention:
            raise ValueError(
                f"log retention {retention.name} is not allowed for the SageMaker rollout "
                f"provider of stack {Stack.of(self).node.path!r}: {self._log_retention.name} "
                "was set already, and its one log group is shared by every RolloutEndpoint of "
                "the stack. Set one retention per stack."
            )
        self._log_retention = retention
        days = Stack.of(self).resolve(retention)
        cfn_log_group = self.log_group.node.default_child
        assert isinstance(cfn_log_group, logs.CfnLogGroup)
        # RetentionDays.INFINITE (9999 days) means: no retention at all.
        cfn_log_group.retention_in_days = None if days == 9999 else int(days)

    def claim_endpoint_name(self, endpoint: Construct, endpoint_name: str) -> None:
        """Refuse a second endpoint of the same name in this stack, case-insensitively:
        SageMaker endpoint names are unique per account and Region, case-insensitively, so two
        resources would drive one endpoint. A token is not checked.

        :raises ValueError: ``[sagemaker-rollout:unique-endpoint-name]``.
        """
        if is_unresolved(endpoint_name):
            return
        key = endpoint_name.lower()
        other = self._names.get(key)
        if other is None:
            self._names[key] = endpoint
            return
        raise ValueError(refusal(
            Rule.UNIQUE_ENDPOINT_NAME,
            f"endpoint_name = {endpoint_name!r} of {endpoint.node.path}; the limit is one "
            f"endpoint per name in a stack, case-insensitively ({other.node.path} has it: "
            "SageMaker endpoint names are unique per account and Region, whatever their case). "
            "Fix: give one of them another endpoint_name."))

    def grant_adopt(self, *, endpoint_arn: str) -> None:
        """Allow the provider to claim one existing endpoint (``adopt_existing_endpoint``):
        describe it, list its tags and add tags to it, among them the ownership tag, after which
        the ``OwnedEndpoints`` statement covers it. A statement of its own (statements are never
        changed once added: a synthesized statement is frozen).

        :param endpoint_arn: the endpoint's ARN, with its name lower-cased as SageMaker does.
        """
        if endpoint_arn in self._adopted:
            return
        sid = f"AdoptEndpoint{len(self._adopted) + 1}"
        self._adopted[endpoint_arn] = sid
        self.role.add_to_policy(adopt_statement(sid, endpoint_arn))

    def grant_retire_configs(self) -> None:
        """Allow the provider to delete the EndpointConfigs CloudFormation retains in the
        WaitCondition mode (docs/long-rollouts.md), those of this stack only: CloudFormation
        tags every config it creates with ``aws:cloudformation:stack-id``."""
        if self._retire_granted:
            return
        self._retire_granted = True
        configs = Stack.of(self).format_arn(
            service="sagemaker", resource="endpoint-config", resource_name="*"
        )
        self.role.add_to_policy(retained_configs_statement(configs))

    def grant_describe_alarms(self) -> None:
        """Allow the provider (and SageMaker acting for it) to read the rollback alarms."""
        if self._alarms_granted:
            return
        self._alarms_granted = True
        alarms = Stack.of(self).format_arn(
            service="cloudwatch",
            resource="alarm",
            resource_name="*",
            arn_format=ArnFormat.COLON_RESOURCE_NAME,
        )
        self.role.add_to_policy(alarms_statement(alarms))
        acknowledge_alarms(self, self._default_policy(), alarms)

    def _policy_growth(self) -> list[GrowthPerItem]:
        """What makes the policy grow: one statement per adopted endpoint, nothing else."""
        if not self._adopted:
            return []
        every = statement_sizes(self.role)
        sizes = [every.get(sid, 0) for sid in self._adopted.values()]
        return [GrowthPerItem("endpoint with adopt_existing_endpoint", len(sizes), max(sizes),
                              sum(sizes))]

    def _default_policy(self) -> IConstruct:
        policy = self.role.node.try_find_child("DefaultPolicy")
        assert policy is not None  # created by the add_to_policy calls of __init__
        return policy


def _remember(stack: Stack, provider: RolloutProvider) -> RolloutProvider:
    # A Stack subclass made unhashable (__eq__ without __hash__) is not cached: its provider is
    # found in the construct tree every time.
    with contextlib.suppress(TypeError):
        _PROVIDERS[stack] = provider
    return provider

