"""The WaitCondition mode's resources: a new handle and condition for every change that deploys.

Facts (waiting-at-scale.md, "Waiting longer than an hour"): a WaitCondition's properties cannot
be updated, and every wait needs a NEW handle and condition logical id ("Do not reuse an old wait
condition handle ... might evaluate old signals"); its Timeout is at most 43200 s and starts when
the condition is created; the handle's URL is a bearer credential. So (as cdk-github-runners and
aws-cfn-custom-resource-using-step-functions do):

- both logical ids end with a digest of what triggers a deployment (`deployment_digest`): the
  endpoint's name (a rename creates a new endpoint), the config's digest of the `Rollout` property
  (rollout_description.py: the EndpointConfig's properties and those of the models it serves: a
  new model replaces the config at deploy time although the config's own template properties, a
  ``Fn::GetAtt`` of the model's name, do not change), and the strategy with the condition's
  Timeout (which cannot be updated in place). A change that does not deploy (tags,
  alarms, RetainAllVariantProperties) keeps both ids: no new condition, nothing to signal;
- the custom resource is given the handle's URL (``WaitHandle``) and depends on nothing else new;
- the condition depends on the custom resource, so its Timeout starts once SageMaker accepted the
  deployment; Count 1: the handler's one signal (SUCCESS, or FAILURE with the reason) ends it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import CfnWaitCondition, CfnWaitConditionHandle, Stack
from aws_cdk import aws_sagemaker as sagemaker

from constructs import Construct

from .deployment import BoundDeployment
from .rollout_description import config_digest
from .tokens import is_unresolved
from .variants import ProductionVariant

__all__ = ["DIGEST_LENGTH", "DeploymentWait", "deployment_digest", "deployment_wait"]

#: Hex digits of the digest in the logical ids (32 bits: two successive deployments of one
#: endpoint collide once in four billion).
DIGEST_LENGTH = 8


def deployment_digest(
    *,
    endpoint_name: str,
    config: sagemaker.CfnEndpointConfig,
    variants: Sequence[ProductionVariant],
    deployment: Mapping[str, Any] | None,
    timeout: str,
) -> str:
    """What triggers a deployment, as `DIGEST_LENGTH` upper-case hex digits: the endpoint's name,
    the config's digest (rollout_description.py: the config's and its models' properties, the
    `Rollout` property's digest), the strategy and the condition's Timeout.

    :param variants: the production and shadow variants (their models are digested).
    :param deployment: the DeploymentConfig without alarms (None: the last one is reused).
    :param timeout: the WaitCondition's Timeout (a token when not known until synth).
    """
    stack = Stack.of(config)
    inputs = {
        "endpoint": _plain(stack.resolve(endpoint_name)),
        "config": config_digest(config, variants),
        "deployment": _plain(deployment),
        "timeout": _plain(timeout),
    }
    text = json.dumps(inputs, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_LENGTH].upper()


class DeploymentWait(Construct):
    """The handle and the condition that wait for one deployment (the WaitCondition mode).

    Create it before the custom resource (which is given ``handle_url``), then call
    ``wait_for(custom_resource)``.
    """

    def __init__(self, scope: Construct, construct_id: str, *, digest: str, timeout: str) -> None:
        """
        :param digest: `deployment_digest`: both logical ids end with it.
        :param timeout: the condition's Timeout in seconds (MaximumExecutionTimeout + the
            allowances; at most 43200, checked by the time budget).
        """
        super().__init__(scope, construct_id)
        #: The handle: a new one for every change that deploys.
        self.handle = CfnWaitConditionHandle(self, f"Handle{digest}")
        #: The condition: what must wait for the deployment's end depends on it.
        self.condition = CfnWaitCondition(
            self, f"Complete{digest}", handle=self.handle.ref, timeout=timeout, count=1
        )

    @property
    def handle_url(self) -> str:
        """The handle's presigned URL (its Ref): a bearer credential, never to be logged."""
        return self.handle.ref

    def wait_for(self, custom_resource: Construct) -> None:
        """Start the condition's Timeout once the custom resource answered (SageMaker accepted
        the deployment)."""
        self.condition.node.add_dependency(custom_resource)


def _plain(value: Any) -> Any:
    """`value` with every token left unresolved (a deferred Lazy) replaced by a marker: a token's
    string differs between runs; what it will be is known only at synth."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float) and not isinstance(value, bool) and (
        is_unresolved(value)
    ):
        return "<resolved at synth>"
    return value


def deployment_wait(
    scope: Construct,
    bound: BoundDeployment,
    *,
    endpoint_name: str,
    config: sagemaker.CfnEndpointConfig,
    variants: Sequence[ProductionVariant],
) -> DeploymentWait | None:
    """The WaitCondition of this deployment, in that mode (None in the custom-resource mode).

    :param variants: the production and shadow variants.
    """
    if bound.wait_condition_timeout is None:
        return None
    digest = deployment_digest(
        endpoint_name=endpoint_name,
        config=config,
        variants=variants,
        deployment=bound.config or None,
        timeout=bound.wait_condition_timeout,
    )
    return DeploymentWait(scope, "Deployment", digest=digest,
                          timeout=bound.wait_condition_timeout)
