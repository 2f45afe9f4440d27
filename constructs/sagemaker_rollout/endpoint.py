"""RolloutEndpoint: a SageMaker endpoint whose every change is a guarded, waited-for deployment."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import jsii
from aws_cdk import (
    Annotations,
    CustomResource,
    Duration,
    IStableAnyProducer,
    Lazy,
    Stack,
    Token,
)
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_sagemaker as sagemaker

from constructs import Construct

from .deployment import DeploymentStrategy, render_auto_rollback
from .naming import default_endpoint_name, validate_name
from .provider import RolloutProvider
from .rules import WarningId
from .variants import ProductionVariant, VariantProperty

#: The CloudFormation type of the custom resource.
RESOURCE_TYPE = "Custom::SageMakerEndpointRollout"

#: How long CloudFormation waits for the custom resource: the maximum it allows, because a
#: SageMaker deployment can take long. The handler keeps its own deadline and answers before.
SERVICE_TIMEOUT = Duration.hours(1)

MAX_VARIANTS = 10
MAX_ROLLBACK_ALARMS = 10
MAX_TAGS = 50


class RolloutEndpoint(Construct):
    """A SageMaker endpoint that is updated by a guarded deployment, and waited for.

    On every change of its variants, a new ``AWS::SageMaker::EndpointConfig`` is created
    (CloudFormation names it, so every change is a replacement); then a custom resource
    (``Custom::SageMakerEndpointRollout``) calls SageMaker UpdateEndpoint with the deployment
    configuration and waits until the endpoint serves the new config, or fails the stack update if
    SageMaker rolled back. The old config is deleted by CloudFormation only after the stack update
    succeeded.

    The custom resource's properties have the names and shapes of ``AWS::SageMaker::Endpoint``.
    Booleans (``RetainAllVariantProperties``, ``RetainDeploymentConfig``) are always rendered;
    ``ExcludeRetainedVariantProperties`` and ``Tags`` are omitted when empty, and
    ``DeploymentConfig`` is omitted with ``reuse_last_deployment_config``. The handler returns the
    attributes ``EndpointName``, ``EndpointArn`` and ``EndpointConfigName``.

    Example::

        endpoint = RolloutEndpoint(self, "Endpoint",
            variants=[ProductionVariant.instances(
                model_name=model.attr_model_name, instance_type="ml.m5.large",
                initial_instance_count=2)],
        )
        alarm = cloudwatch.Metric(namespace="AWS/SageMaker", metric_name="Invocation5XXErrors",
            dimensions_map={"EndpointName": endpoint.endpoint_name, "VariantName": "AllTraffic"},
        ).create_alarm(self, "Errors", threshold=1, evaluation_periods=1)
        endpoint.add_rollback_alarm(alarm)
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
        retain_variant_properties: bool = False,
        retained_properties_exclusions: Sequence[VariantProperty] = (),
        reuse_last_deployment_config: bool = False,
        tags: Mapping[str, str] | None = None,
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
            (e.g. set by autoscaling) across updates. Default: - false
        :param retained_properties_exclusions: properties taken from the new config anyway;
            requires ``retain_variant_properties``. Default: - none
        :param reuse_last_deployment_config: deploy with the endpoint's last deployment
            configuration; not with ``deployment`` nor rollback alarms. Default: - false
        :param tags: tags of the endpoint (at most 50; keys 1..128 characters, values 0..256).
            Default: - no tags
        """
        super().__init__(scope, construct_id)
        variants = list(variants)
        _validate_variants(variants)
        if endpoint_name is None:
            endpoint_name = default_endpoint_name(self)
        else:
            validate_name("endpoint_name", endpoint_name)
        exclusions = list(dict.fromkeys(retained_properties_exclusions))
        if exclusions and not retain_variant_properties:
            raise ValueError(
                "retained_properties_exclusions "
                f"{[exclusion.value for exclusion in exclusions]!r} is not allowed without "
                "retain_variant_properties=True: exclusions only apply to retained properties"
            )
        if reuse_last_deployment_config and deployment is not None:
            raise ValueError(
                "deployment is not allowed with reuse_last_deployment_config=True: pass one or the "
                "other (the last deployment configuration replaces any given here)"
            )
        if tags is not None:
            _validate_tags(tags)

        self._reuse_last_deployment_config = reuse_last_deployment_config
        self._rollback_alarms: list[cloudwatch.IAlarm] = []
        for alarm in rollback_alarms:
            self._check_can_add_alarm()
            self._rollback_alarms.append(alarm)

        #: The endpoint's name: a plain value known at synth time, never an attribute of the
        #: custom resource, so that alarms built from it do not depend on the deployment.
        self.endpoint_name = endpoint_name
        #: The endpoint's ARN (SageMaker lower-cases names in ARNs).
        self.endpoint_arn = Stack.of(self).format_arn(
            service="sagemaker", resource="endpoint", resource_name=_arn_name(self, endpoint_name)
        )

        #: The endpoint config of the current variants. It has no explicit name: every change is
        #: a replacement with a new name, and the old config is deleted only after the update.
        self.cfn_endpoint_config = sagemaker.CfnEndpointConfig(
            self,
            "EndpointConfig",
            production_variants=[variant.render() for variant in variants],
        )
        #: The endpoint config's name (Fn::GetAtt EndpointConfigName: its Ref is the ARN, which
        #: UpdateEndpoint does not accept).
        self.endpoint_config_name: str = self.cfn_endpoint_config.attr_endpoint_config_name

        deployment_config: dict[str, Any] | None = None
        if not reuse_last_deployment_config:
            deployment_config = (deployment or DeploymentStrategy.all_at_once()).bind(
                self,
                variants=[variant.to_facts() for variant in variants],
                service_timeout=SERVICE_TIMEOUT,
                # The live list, for the checks bind defers to synth time. Its immediate
                # "baking without alarms" warning is acknowledged by add_rollback_alarm.
                alarms=self._rollback_alarms,
            )

        properties: dict[str, Any] = {
            "EndpointName": endpoint_name,
            "EndpointConfigName": self.endpoint_config_name,
            "RetainAllVariantProperties": retain_variant_properties,
            "RetainDeploymentConfig": reuse_last_deployment_config,
        }
        if deployment_config is not None:
            # Lazy: alarms added with add_rollback_alarm after construction are rendered too.
            properties["DeploymentConfig"] = Lazy.any(
                _Produce(lambda: self._with_auto_rollback(deployment_config))
            )
        if exclusions:
            properties["ExcludeRetainedVariantProperties"] = [
                {"VariantPropertyType": exclusion.value} for exclusion in exclusions
            ]
        if tags:
            properties["Tags"] = [{"Key": key, "Value": tags[key]} for key in sorted(tags)]

        self._provider = RolloutProvider.of(self)
        self._provider.grant_endpoint(endpoint_arn=self.endpoint_arn)

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

        for alarm in self._rollback_alarms:
            self._wire_alarm(alarm)

    def add_rollback_alarm(self, alarm: cloudwatch.IAlarm) -> None:
        """Roll a deployment back when this alarm fires.

        The alarm may watch this endpoint's own metrics (use ``endpoint_name``): the deployment
        depends on the alarm, never the other way round. The provider may describe the alarm.

        :param alarm: the alarm (at most 10 per endpoint).
        """
        self._check_can_add_alarm()
        self._rollback_alarms.append(alarm)
        self._wire_alarm(alarm)
        # bind() judged the deployment with the alarms known at construction; it has them now.
        Annotations.of(self).acknowledge_warning(
            WarningId.BAKING_WITHOUT_ALARMS.full_id, "rollback alarms added with add_rollback_alarm"
        )

    def _check_can_add_alarm(self) -> None:
        if self._reuse_last_deployment_config:
            raise ValueError(
                "rollback alarms are not allowed with reuse_last_deployment_config=True: they are "
                "part of the deployment configuration, and the last one is reused as it is"
            )
        if len(self._rollback_alarms) >= MAX_ROLLBACK_ALARMS:
            raise ValueError(
                f"rollback_alarms has {len(self._rollback_alarms) + 1} alarms, which is not "
                f"allowed: allowed are at most {MAX_ROLLBACK_ALARMS} alarms per endpoint"
            )

    def _wire_alarm(self, alarm: cloudwatch.IAlarm) -> None:
        # The deployment waits for the alarm; the alarm never depends on the deployment (it
        # uses the plain endpoint_name), so there is no cycle.
        self.custom_resource.node.add_dependency(alarm)
        self._provider.grant_describe_alarm(alarm)

    @property
    def rollback_alarms(self) -> list[cloudwatch.IAlarm]:
        """The alarms that roll a deployment back."""
        return list(self._rollback_alarms)

    def _with_auto_rollback(self, deployment_config: dict[str, Any]) -> dict[str, Any]:
        rendered = dict(deployment_config)
        auto_rollback = render_auto_rollback(self._rollback_alarms)
        if auto_rollback is not None:
            rendered["AutoRollbackConfiguration"] = auto_rollback
        return rendered


@jsii.implements(IStableAnyProducer)
class _Produce:
    """A value computed at synth time (for ``Lazy.any``)."""

    def __init__(self, produce: Callable[[], Any]) -> None:
        self._produce = produce

    def produce(self) -> Any:
        return self._produce()


def _arn_name(scope: Construct, endpoint_name: str) -> str:
    if not Token.is_unresolved(endpoint_name):
        return endpoint_name.lower()
    Annotations.of(scope).add_warning_v2(
        "sagemaker-rollout:endpointNameToken",
        "endpoint_name is a token: the IAM policy uses it as it is, but SageMaker lower-cases "
        "names in ARNs, so the deployed name must be lower-case (or pass a literal name).",
    )
    return endpoint_name


def _validate_variants(variants: Sequence[ProductionVariant]) -> None:
    if not 1 <= len(variants) <= MAX_VARIANTS:
        raise ValueError(
            f"variants has {len(variants)} variants, which is not allowed: allowed are 1 to "
            f"{MAX_VARIANTS} variants"
        )
    seen: set[str] = set()
    for variant in variants:
        name = variant.variant_name
        if Token.is_unresolved(name):
            continue
        if name in seen:
            raise ValueError(
                f"variants has the variant_name {name!r} twice, which is not allowed: "
                "allowed are distinct variant names"
            )
        seen.add(name)


def _validate_tags(tags: Mapping[str, str]) -> None:
    if len(tags) > MAX_TAGS:
        raise ValueError(
            f"tags has {len(tags)} tags, which is not allowed: allowed are at most {MAX_TAGS} tags"
        )
    for key, value in tags.items():
        if not Token.is_unresolved(key):
            if not 1 <= len(key) <= 128:
                raise ValueError(
                    f"tags key {key!r} is {len(key)} characters long, which is not allowed: "
                    "allowed are keys of 1 to 128 characters"
                )
            if key.lower().startswith("aws:"):
                raise ValueError(
                    f"tags key {key!r} is not allowed: keys starting with 'aws:' are reserved "
                    "by AWS"
                )
        if not Token.is_unresolved(value) and len(value) > 256:
            raise ValueError(
                f"tags value of key {key!r} is {len(value)} characters long, which is not "
                "allowed: allowed are values of 0 to 256 characters"
            )
