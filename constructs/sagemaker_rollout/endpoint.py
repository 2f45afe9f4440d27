"""RolloutEndpoint: a SageMaker endpoint whose every change is a guarded, waited-for deployment."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jsii
from aws_cdk import (
    Annotations,
    CfnResource,
    CustomResource,
    Duration,
    ITaggableV2,
    RemovalPolicy,
    TagManager,
)
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from sagemaker_rollout_handler.contract import (
    ADOPT_EXISTING_PROPERTY,
    MAX_SERVICE_TIMEOUT_SECONDS,
    REMOVAL_POLICY_PROPERTY,
    REMOVAL_POLICY_RETAIN,
    WAIT_HANDLE_PROPERTY,
)

from constructs import Construct, IDependable

from .auto_rollback import MAX_ALARMS
from .autoscaling import EndpointScalings, InstanceCountScaling
from .carried_properties import CarriedProperties
from .deployment import DeploymentStrategy
from .endpoint_alarms import EndpointRollbackAlarms
from .endpoint_config import AsyncInference, DataCapture, render_endpoint_config
from .endpoint_properties import render_properties, set_property
from .endpoint_refusals import checked_props
from .endpoint_tags import EndpointTags
from .endpoint_warnings import warn_adopt_generated_name, warn_if_weights_retained
from .metrics import EndpointMetrics
from .naming import arn_name as endpoint_arn_name
from .provider import RolloutProvider
from .rollout_description import describe_rollout
from .rules import WarningId, raise_refusals
from .tokens import is_unresolved
from .variants import ProductionVariant, VariantProperty, unknown_variant_refusal
from .wait_condition import deployment_wait
from .wait_mode import WaitMode

__all__ = [
    "ADOPT_EXISTING_PROPERTY",
    "MAX_ROLLBACK_ALARMS",
    "REMOVAL_POLICY_PROPERTY",
    "RESOURCE_TYPE",
    "SERVICE_TIMEOUT",
    "WAIT_HANDLE_PROPERTY",
    "WARNING_ADOPT_GENERATED_NAME",
    "WARNING_AUTOSCALING_COUNT_EXCLUDED",
    "WARNING_AUTOSCALING_RESET",
    "WARNING_INITIAL_COUNT_OUT_OF_RANGE",
    "RolloutEndpoint",
]

#: The CloudFormation type of the custom resource.
RESOURCE_TYPE = "Custom::SageMakerEndpointRollout"

#: How long CloudFormation waits for the custom resource: the maximum it allows, because a
#: SageMaker deployment can take long. The handler keeps its own deadline and answers before.
SERVICE_TIMEOUT = Duration.seconds(MAX_SERVICE_TIMEOUT_SECONDS)

#: Rollback alarms per endpoint: AutoRollbackConfiguration's limit.
MAX_ROLLBACK_ALARMS = MAX_ALARMS

#: Warnings of this construct (rules.py; acknowledge with
#: ``Annotations.of(endpoint).acknowledge_warning``).
WARNING_ADOPT_GENERATED_NAME = WarningId.ADOPT_GENERATED_NAME.full_id
WARNING_AUTOSCALING_RESET = WarningId.AUTOSCALING_RESET.full_id
WARNING_AUTOSCALING_COUNT_EXCLUDED = WarningId.AUTOSCALING_COUNT_EXCLUDED.full_id
WARNING_INITIAL_COUNT_OUT_OF_RANGE = WarningId.INITIAL_COUNT_OUT_OF_RANGE.full_id


@jsii.implements(ITaggableV2)
class RolloutEndpoint(Construct, EndpointMetrics, EndpointRollbackAlarms):
    """A SageMaker endpoint that is updated by a guarded deployment, and waited for.

    On every change of its variants, a new ``AWS::SageMaker::EndpointConfig`` is created
    (CloudFormation names it, so every change is a replacement); then a custom resource
    (``Custom::SageMakerEndpointRollout``) calls SageMaker UpdateEndpoint with the deployment
    configuration and waits until the endpoint serves the new config, or fails the stack update if
    SageMaker rolled back. The old config is deleted by CloudFormation only after the stack update
    succeeded.

    The custom resource's properties have the names and shapes of ``AWS::SageMaker::Endpoint``.
    Booleans (``RetainAllVariantProperties``, ``RetainDeploymentConfig``) are always rendered;
    ``ExcludeRetainedVariantProperties`` is omitted when empty; ``Tags`` always has the
    ownership tag ``sagemaker-rollout:stack`` (the stack id), besides ``tags`` and
    ``Tags.of(...)`` (the construct is taggable); and ``DeploymentConfig`` is omitted with
    ``reuse_last_deployment_config``. Four properties are this library's own: ``Rollout``, what
    the deployment deploys in words for ``cdk diff`` (``canary 25% / bake 10 min / config
    <digest>``: rollout_description.py), ``AdoptExisting: "true"`` (only with
    ``adopt_existing_endpoint``), ``RemovalPolicy: "Retain"`` (only with
    ``RemovalPolicy.RETAIN``) and ``WaitHandle`` (only in the WaitCondition mode: the handle's
    URL). The handler returns the attributes ``EndpointName``, ``EndpointArn`` and
    ``EndpointConfigName``.

    A deployment longer than the custom resource's hour is waited for by a WaitCondition
    (``wait_mode``): make what must wait for the deployment's end depend on
    ``deployment_complete``, in either mode.

    Example::

        endpoint = RolloutEndpoint(self, "Endpoint",
            variants=[ProductionVariant.instances(
                model=model, instance_type="ml.m5.large", initial_instance_count=2)],
            deployment=DeploymentStrategy.blue_green(traffic_routing=TrafficRouting.canary(
                size=CapacitySize.count(1), bake_time=Duration.minutes(10))),
        )
        # Alarms on the endpoint's own metrics come before the deployment: no cycle.
        endpoint.add_rollback_alarm(endpoint.metric_invocation_5xx_errors(
            period=Duration.minutes(1)).create_alarm(self, "Errors", threshold=1,
            evaluation_periods=1))
        endpoint.auto_scale_instance_count(max_capacity=8).scale_on_invocations(
            "Invocations", invocations_per_instance=600)
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        variants: Sequence[ProductionVariant],
        endpoint_name: str | None = None,
        deployment: DeploymentStrategy | None = None,
        rollback_alarms: Sequence[cloudwatch.IAlarm] = (),
        retain_variant_properties: bool | None = None,
        retained_properties_exclusions: Sequence[VariantProperty] = (),
        reuse_last_deployment_config: bool = False,
        tags: Mapping[str, str] | None = None,
        shadow_variants: Sequence[ProductionVariant] = (),
        data_capture: DataCapture | None = None,
        async_inference: AsyncInference | None = None,
        kms_key: kms.IKey | None = None,
        adopt_existing_endpoint: bool = False,
        removal_policy: RemovalPolicy = RemovalPolicy.DESTROY,
        wait_mode: WaitMode | None = None,
    ) -> None:
        """
        :param scope: the scope of the construct.
        :param construct_id: the construct's id.
        :param variants: the production variants (1 to 10, distinct names).
        :param endpoint_name: the endpoint's name (1..63 letters, digits, hyphens). It must be a
            literal to be lower-cased in the IAM policy. Default: - a name derived from the
            construct's path, stable across deployments
        :param deployment: how SageMaker shifts traffic to a new config.
            Default: - ``DeploymentStrategy.all_at_once()``
        :param rollback_alarms: CloudWatch alarms that roll the deployment back when they fire
            (at most 10). More can be added with ``add_rollback_alarm``. Default: - no alarms
        :param retain_variant_properties: keep the running endpoint's instance counts and weights
            (e.g. set by autoscaling) across updates. False with autoscaling resets the instance
            count to ``initial_instance_count`` on every update (and warns).
            Default: - true when ``auto_scale_instance_count`` is used, else false
        :param retained_properties_exclusions: properties taken from the new config anyway;
            requires ``retain_variant_properties=True``. Default: - none
        :param reuse_last_deployment_config: deploy with the endpoint's last deployment
            configuration; not with ``deployment`` nor rollback alarms. Default: - false
        :param tags: tags of the endpoint (at most 48, ``Tags.of`` included: SageMaker's 50 less
            the rollout handler's request and ownership tags; keys 1..128 characters, values
            0..256). ``Tags.of(...)`` reaches the endpoint too. Default: - no tags
        :param shadow_variants: a variant that receives a copy of the production traffic, whose
            responses are discarded (at most 1, and then exactly 1 production variant; not with
            a rolling deployment). Default: - none
        :param data_capture: capture requests and responses to S3. Default: - no capture
        :param async_inference: make the endpoint asynchronous (``InvokeEndpointAsync``).
            Default: - a real-time endpoint
        :param kms_key: the key SageMaker encrypts the instances' storage volumes with; the
            provider may create grants on it. Default: - AWS managed encryption
        :param adopt_existing_endpoint: on Create, take over an endpoint of this name that exists
            already (made by hand, by ``AWS::SageMaker::Endpoint`` or another tool): deploy this
            config to it with ``deployment`` instead of failing. Give ``endpoint_name``.
            Default: - false (an existing endpoint fails the Create)
        :param removal_policy: what happens to the endpoint when it is removed from the stack,
            the stack is deleted or the endpoint replaced (a new ``endpoint_name``): DESTROY
            deletes it, RETAIN keeps it serving (and keeps its last EndpointConfig).
            Default: - ``RemovalPolicy.DESTROY``
        :param wait_mode: what waits for a deployment to end. ``CUSTOM_RESOURCE``: the custom
            resource, at most one hour (the time budget refuses longer deployments).
            ``WAIT_CONDITION``: the custom resource answers once SageMaker accepted the
            deployment and a new WaitCondition, per change that deploys, waits for the handler's
            signal, at most 12 hours; the EndpointConfig is then retained by CloudFormation and
            deleted by the handler once nothing uses it. Default: - ``CUSTOM_RESOURCE`` when the
            deployment's worst case fits the custom resource's hour, else ``WAIT_CONDITION``
            (an info annotation says so at synth)
        """
        super().__init__(scope, construct_id)
        variants = list(variants)
        shadow_variants = list(shadow_variants)
        exclusions = list(dict.fromkeys(retained_properties_exclusions))
        self._variants = variants
        self._shadow_variants = shadow_variants
        self._exclusions = exclusions
        self._async_inference = async_inference
        self._reuse_last_deployment_config = reuse_last_deployment_config
        self._init_rollback_alarms(rollback_alarms)

        # Every refusal of the props and of the deployment strategy, raised at once.
        checked = checked_props(
            self,
            variants=variants,
            shadow_variants=shadow_variants,
            exclusions=exclusions,
            endpoint_name=endpoint_name,
            retain_variant_properties=retain_variant_properties,
            reuse_last_deployment_config=reuse_last_deployment_config,
            deployment=deployment,
            tags=tags,
            asynchronous=async_inference is not None,
            given_alarms=self._given_alarms,
            # The live list, for the checks bind defers to synth time.
            alarms=self._rollback_alarms,
            removal_policy=removal_policy,
            wait_mode=wait_mode,
            service_timeout=SERVICE_TIMEOUT,
        )
        explicit_name = endpoint_name
        endpoint_name = checked.endpoint_name
        rendered_removal_policy = checked.removal_policy
        bound = checked.bound

        arn_name = endpoint_arn_name(self, endpoint_name)
        if adopt_existing_endpoint and explicit_name is None:
            warn_adopt_generated_name(self, endpoint_name)

        self._autoscaling = EndpointScalings(
            variants,
            retain_variant_properties=retain_variant_properties,
            exclusions=exclusions,
            asynchronous=async_inference is not None,
        )
        #: RetainAllVariantProperties as the custom resource has it.
        self._rendered_retain = self._autoscaling.retains_variant_properties()

        #: The endpoint's name: a plain value known at synth time, never an attribute of the
        #: custom resource, so that alarms built from it do not depend on the deployment.
        self.endpoint_name = endpoint_name

        #: What waits for a deployment to end (the given ``wait_mode``, or the one chosen).
        self.wait_mode = bound.wait_mode
        #: The endpoint config of the current variants. It has no explicit name: every change is
        #: a replacement with a new name, and the old config is deleted only after the update.
        #: In the WaitCondition mode CloudFormation retains it (its rollback clean-up would delete
        #: a config SageMaker still deploys); the handler deletes it once nothing uses it.
        self.cfn_endpoint_config = render_endpoint_config(
            self,
            variants=variants,
            shadow_variants=shadow_variants,
            data_capture=data_capture,
            async_inference=async_inference,
            kms_key=kms_key,
            retain=(rendered_removal_policy == REMOVAL_POLICY_RETAIN
                    or bound.wait_mode is WaitMode.WAIT_CONDITION),
        )
        #: The endpoint config's name (Fn::GetAtt EndpointConfigName: its Ref is the ARN, which
        #: UpdateEndpoint does not accept).
        self.endpoint_config_name: str = self.cfn_endpoint_config.attr_endpoint_config_name

        self._tags = EndpointTags(RESOURCE_TYPE, tags)
        deployment_config = None if self._reuse_last_deployment_config else bound.config
        properties = render_properties(
            endpoint_name=self.endpoint_name,
            endpoint_config_name=self.endpoint_config_name,
            retain_all_variant_properties=self._rendered_retain,
            retain_deployment_config=self._reuse_last_deployment_config,
            deployment_config=deployment_config,
            rollout=describe_rollout(self.cfn_endpoint_config, variants + shadow_variants,
                                     deployment_config),
            adopt_existing_endpoint=adopt_existing_endpoint,
            removal_policy=rendered_removal_policy,
            alarms=self._rollback_alarms,
            exclusions=self._exclusions,
            tags=self._tags.rendered,
        )
        #: The handle and condition of the WaitCondition mode; None in the custom-resource mode.
        self.deployment_wait = deployment_wait(
            self, bound, endpoint_name=self.endpoint_name, config=self.cfn_endpoint_config,
            variants=[*variants, *self._shadow_variants])
        if self.deployment_wait is not None:
            properties[WAIT_HANDLE_PROPERTY] = self.deployment_wait.handle_url

        self._provider = RolloutProvider.of(self)
        self._provider.claim_endpoint_name(self, endpoint_name)
        self._provider.tag_limits.add(self, self._tags)
        #: The endpoint's ARN (SageMaker lower-cases names in ARNs).
        self.endpoint_arn = self._provider.endpoint_arn(arn_name)
        # IAM: the provider's endpoint statements cover every endpoint that carries the stack's
        # ownership tag; an adopted one needs its own statement until the handler has claimed it.
        if adopt_existing_endpoint:
            self._provider.grant_adopt(endpoint_arn=self.endpoint_arn)
        if self.wait_mode is WaitMode.WAIT_CONDITION:
            self._provider.grant_retire_configs()

        #: The custom resource that deploys the endpoint config and waits for it.
        self.custom_resource = CustomResource(
            self,
            "Resource",
            resource_type=RESOURCE_TYPE,
            service_token=self._provider.service_token,
            service_timeout=SERVICE_TIMEOUT,
            properties=properties,
        )
        self.custom_resource.node.add_dependency(self._provider.self_invoke_policy)
        #: The properties as CloudFormation sends them, overrides included (``_override``): a
        #: wait must be able to carry them (carried_properties.py, checked at synth).
        self._properties: dict[str, Any] = {
            "ServiceToken": self._provider.service_token,
            "ServiceTimeout": MAX_SERVICE_TIMEOUT_SECONDS,
            **properties,
        }
        CarriedProperties.of(self._provider).add(self, lambda: self._properties,
                                                 self._cfn_custom_resource)
        #: What must wait for a deployment's end depends on this (``node.add_dependency``): the
        #: WaitCondition in the WaitCondition mode, else the custom resource.
        self.deployment_complete: IDependable = self.custom_resource
        if self.deployment_wait is not None:
            self.deployment_wait.wait_for(self.custom_resource)
            self.deployment_complete = self.deployment_wait.condition
        if kms_key is not None:
            self._grant_kms_key(kms_key)

        for alarm in self._rollback_alarms:
            self._wire_alarm(alarm)
        self._warn_if_weights_retained()

    def _warn_if_weights_retained(self) -> None:
        warn_if_weights_retained(self, retained=self._rendered_retain, variants=self._variants,
                                 exclusions=self._exclusions)

    @property
    def cdk_tag_manager(self) -> TagManager:
        """The endpoint's tags (``ITaggableV2``): what ``Tags.of(...)`` adds to, rendered as the
        custom resource's ``Tags`` (the endpoint's), with the ownership tag."""
        return self._tags.manager

    @property
    def deployed_endpoint_config_name(self) -> str:
        """The name of the config the endpoint serves after the deployment (the custom
        resource's ``EndpointConfigName`` attribute): what uses it waits for the deployment.
        ``endpoint_config_name`` is the same name without that wait."""
        return self.custom_resource.get_att_string("EndpointConfigName")

    def grant_invoke(self, grantee: iam.IGrantable) -> iam.Grant:
        """Allow ``grantee`` to invoke this endpoint: ``sagemaker:InvokeEndpoint``, and
        ``sagemaker:InvokeEndpointAsync`` when ``async_inference`` is configured.

        :param grantee: the principal (a role, a Lambda function...).
        """
        actions = ["sagemaker:InvokeEndpoint"]
        if self._async_inference is not None:
            actions.append("sagemaker:InvokeEndpointAsync")
        return iam.Grant.add_to_principal(
            grantee=grantee, actions=actions, resource_arns=[self.endpoint_arn]
        )

    def auto_scale_instance_count(
        self,
        *,
        max_capacity: int,
        min_capacity: int = 1,
        variant_name: str | None = None,
        invocations_per_instance: float | None = None,
        scale_in_cooldown: Duration | None = None,
        scale_out_cooldown: Duration | None = None,
    ) -> InstanceCountScaling:
        """Scale a variant's instance count with Application Auto Scaling.

        Variant properties are then retained on every update (unless
        ``retain_variant_properties=False`` was given, which warns): the instance count the
        autoscaler chose survives a new EndpointConfig instead of being reset to
        ``initial_instance_count`` (aws/aws-cdk #23151). The scalable target is registered
        once the endpoint is in service and deregistered before it is deleted. SageMaker refuses
        an update that changes the instance type of a scaled variant: remove the scaling first.

        :param max_capacity: the most instances.
        :param min_capacity: the fewest instances (>= 1; 0 is allowed for asynchronous
            endpoints). Default: - 1
        :param variant_name: the production variant to scale (instance-based).
            Default: - the only variant
        :param invocations_per_instance: a target tracking policy on invocations per instance
            and minute (``scale_on_invocations``). Default: - no policy; add your own
        :param scale_in_cooldown: of that policy. Default: - Application Auto Scaling's
        :param scale_out_cooldown: of that policy. Default: - Application Auto Scaling's
        :returns: the scaling, to add more policies to.
        """
        plan = self._autoscaling.check(
            variant_name, min_capacity, max_capacity, invocations_per_instance,
            scale_in_cooldown is not None or scale_out_cooldown is not None,
        )
        for warning, message in plan.warnings:
            Annotations.of(self).add_warning_v2(warning.full_id, message)
        scaling = InstanceCountScaling(
            self,
            plan.construct_id,
            endpoint_name=self.endpoint_name,
            variant_name=plan.variant_name,
            min_capacity=min_capacity,
            max_capacity=max_capacity,
            endpoint_in_service=self.deployment_complete,
        )
        self._autoscaling.add(plan.variant_name, scaling)
        if self._autoscaling.retains_variant_properties() != self._rendered_retain:
            # Rendered at construction: see add_rollback_alarm.
            self._rendered_retain = self._autoscaling.retains_variant_properties()
            self._override("RetainAllVariantProperties", self._rendered_retain)
            self._warn_if_weights_retained()
        if invocations_per_instance is not None:
            scaling.scale_on_invocations(
                "InvocationsPerInstance",
                invocations_per_instance=invocations_per_instance,
                scale_in_cooldown=scale_in_cooldown,
                scale_out_cooldown=scale_out_cooldown,
            )
        return scaling

    def _metric_variant_names(self) -> Sequence[str]:
        return [variant.variant_name for variant in self._variants]

    def _check_metric_variant(self, variant_name: str) -> None:
        names = [v.variant_name for v in (*self._variants, *self._shadow_variants)]
        if is_unresolved(variant_name) or any(is_unresolved(n) for n in names):
            return
        if variant_name not in names:
            raise_refusals([unknown_variant_refusal("variant_name", variant_name, names)],
                           "the metric")

    def _grant_kms_key(self, key: kms.IKey) -> None:
        # KmsKeyId: "The KMS key policy must grant permission to the IAM role that you specify
        # in your CreateEndpoint, UpdateEndpoint requests" (botocore model, CreateEndpointConfig):
        # the provider's role. SageMaker creates grants on the key for the instances' volumes.
        key.grant(self._provider.function, "kms:CreateGrant", "kms:DescribeKey")

    def _override(self, path: str, value: Any) -> None:
        """Override a property rendered at construction, in the template and in ``_properties``."""
        self._cfn_custom_resource().add_property_override(path, value)
        set_property(self._properties, path, value)

    def _cfn_custom_resource(self) -> CfnResource:
        resource = self.custom_resource.node.default_child
        assert isinstance(resource, CfnResource)
        return resource
