"""The custom resource's `Rollout` property: what the next deployment deploys, and how, in words
a reader of `cdk diff` sees.

`<strategy> / config <digest>`, for example `canary 1 instance / bake 10 min / termination wait
5 min / config 3f2a9c0b1d4e`. The digest is a hash of the EndpointConfig's properties and of the
properties of the models it serves (their tags left out: a tag changes no model), so it changes
exactly when CloudFormation replaces the EndpointConfig, which is what makes the handler deploy:
a change of a model, a variant, data capture, asynchronous inference or the KMS key. A change of
the endpoint's tags changes neither part and deploys nothing. A change of the strategy alone
changes the strategy part only, and deploys nothing either (SageMaker serves that config
already): the digest is what tells whether a rollout runs.

Computed once, at construction, from the properties as they are then (a synth-time callback per
endpoint would make synth of many endpoints slower): an escape-hatch override of the config or
of a model added afterwards is not in the digest. The handler accepts the property and ignores it
(`sagemaker_rollout_handler.contract.ROLLOUT_PROPERTY`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from aws_cdk import Reference, Stack, Tokenization
from aws_cdk import aws_sagemaker as sagemaker

from .tokens import is_unresolved
from .variants import ProductionVariant

#: Hex digits of the digest: enough to tell configs apart in a diff, short enough to read.
DIGEST_LENGTH = 12


def describe_rollout(
    config: sagemaker.CfnEndpointConfig,
    variants: Sequence[ProductionVariant],
    deployment_config: Mapping[str, Any] | None,
) -> str:
    """The `Rollout` property of an endpoint of `config` (serving `variants`) deployed with
    `deployment_config` (None: the last deployment config is reused)."""
    return f"{describe_strategy(deployment_config)} / config {config_digest(config, variants)}"


def config_digest(config: sagemaker.CfnEndpointConfig, variants: Sequence[ProductionVariant]
                  ) -> str:
    """A short hash of the config's properties and of its models' (without their tags)."""
    stack = Stack.of(config)
    models = _models(variants)
    resolved = stack.resolve({
        "config": config._cfn_properties,
        "models": [{k: v for k, v in m._cfn_properties.items() if k != "tags"}
                   for m in models if m is not None],
    })
    text = json.dumps(resolved, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:DIGEST_LENGTH]


def _models(variants: Sequence[ProductionVariant]) -> list[sagemaker.CfnModel]:
    """The CfnModels the variants serve: given as constructs, or named by a token of theirs
    (``model_name=cfn_model.attr_model_name``), each once."""
    found: list[sagemaker.CfnModel] = []
    for variant in variants:
        model = _model_resource(variant.model) or _named_model(variant.model_name)
        if model is not None and not any(model is m for m in found):
            found.append(model)
    return found


def _named_model(name: str) -> sagemaker.CfnModel | None:
    """The CfnModel a token of a model name refers to (its Fn::GetAtt ModelName), if any."""
    if not is_unresolved(name):
        return None
    for token in Tokenization.reverse_string(name).tokens:
        target = token.target if isinstance(token, Reference) else None
        if isinstance(target, sagemaker.CfnModel):
            return target
    return None


def _model_resource(model: object) -> sagemaker.CfnModel | None:
    """The CfnModel behind a variant's model (a CfnModel, or a construct that holds one)."""
    if model is None or isinstance(model, sagemaker.CfnModel):
        return model
    node = getattr(model, "node", None)
    if node is None:
        return None  # (a model imported by name: its name is in the config)
    found = [child for child in node.children if isinstance(child, sagemaker.CfnModel)]
    return found[0] if found else None


def describe_strategy(deployment_config: Mapping[str, Any] | None) -> str:
    """`canary 25% / bake 10 min`, `rolling 2 instances / bake 5 min / rollback 1 instance`,
    `all at once`; `last deployment config` when it is reused."""
    if deployment_config is None:
        return "last deployment config"
    rolling = deployment_config.get("RollingUpdatePolicy")
    if isinstance(rolling, Mapping):
        parts = [f"rolling {_size(rolling.get('MaximumBatchSize'))}",
                 f"bake {_duration(rolling.get('WaitIntervalInSeconds'))}"]
        if rolling.get("RollbackMaximumBatchSize") is not None:
            parts.append(f"rollback {_size(rolling['RollbackMaximumBatchSize'])}")
        return " / ".join(parts)
    policy = deployment_config.get("BlueGreenUpdatePolicy") or {}
    routing = policy.get("TrafficRoutingConfiguration") or {}
    kind = routing.get("Type", "ALL_AT_ONCE")
    wait = _duration(routing.get("WaitIntervalInSeconds"))
    parts = {
        "CANARY": [f"canary {_size(routing.get('CanarySize'))}", f"bake {wait}"],
        "LINEAR": [f"linear {_size(routing.get('LinearStepSize'))}", f"interval {wait}"],
    }.get(kind, ["all at once"])
    if policy.get("TerminationWaitInSeconds"):
        parts.append(f"termination wait {_duration(policy['TerminationWaitInSeconds'])}")
    return " / ".join(parts)


def _size(size: Any) -> str:
    if not isinstance(size, Mapping):
        return "?"
    value = size.get("Value")
    if size.get("Type") == "CAPACITY_PERCENT":
        return f"{value}%"
    return f"{value} instance" + ("" if value == 1 else "s")


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, int):
        return "?"
    minutes, rest = divmod(seconds, 60)
    if not minutes:
        return f"{rest} s"
    hours, minutes = divmod(minutes, 60)
    words = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else "",
             f"{rest} s" if rest else ""]
    return " ".join(w for w in words if w)
