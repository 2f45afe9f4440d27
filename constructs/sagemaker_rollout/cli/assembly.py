"""The rollouts of a synthesized cloud assembly (`cdk.out`), read from its stack templates.

The assembly is read with aws-cdk-lib's own reader (`aws_cdk.cx_api.CloudAssembly`, stages and
all); each `Custom::SageMakerEndpointRollout` resource of each template is one rollout. What a
template says is taken as it is: the custom resource's properties have the shapes of
AWS::SageMaker::Endpoint (endpoint.py), and its EndpointConfigName points at the
AWS::SageMaker::EndpointConfig of the variants.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..deployment import VariantFacts
from ..endpoint import RESOURCE_TYPE
from .errors import CliError

Json = Mapping[str, Any]
_WAIT_CONDITION = "AWS::CloudFormation::WaitCondition"
_CDK_PATH = "aws:cdk:path"


@dataclass(frozen=True)
class Rollout:
    """One rollout custom resource, with what its template says about it."""

    stack: str
    logical_id: str
    #: The RolloutEndpoint's construct path (else the resource's logical id).
    path: str
    #: None: not a literal in the template (a token, resolved at deploy time).
    endpoint_name: str | None
    properties: Json
    #: The production variants of its EndpointConfig (counts None when not literal).
    variants: tuple[VariantFacts, ...]
    #: Alarm names, or `<construct path> (name generated at deploy)`.
    alarms: tuple[str, ...]
    service_timeout: int
    #: (seconds, what) of a WaitCondition that waits for this rollout, if the template has one.
    wait_condition: tuple[int, str] | None


@dataclass(frozen=True)
class StackTemplate:
    name: str
    template: Json
    #: Construct path of each logical id (the assembly's `aws:cdk:logicalId` metadata, there
    #: even when the template has no `aws:cdk:path` metadata).
    paths: Mapping[str, str]


def load_templates(directory: Path) -> list[StackTemplate]:
    """Every stack of the assembly at `directory`, stages included."""
    if not directory.is_dir():
        raise CliError(f"no cloud assembly at {directory}: run `cdk synth` first, or pass the "
                       "directory it wrote (cdk synth --output)")
    if not (directory / "manifest.json").is_file():
        raise CliError(f"{directory} is not a cloud assembly (no manifest.json): run `cdk synth` "
                       "first, or pass the directory it wrote")
    from aws_cdk import cx_api

    try:
        stacks = cx_api.CloudAssembly(str(directory)).stacks_recursively
    except RuntimeError as error:  # jsii's report of the reader's error
        raise CliError(f"cannot read the cloud assembly at {directory}: "
                       f"{str(error).splitlines()[0]}") from None
    if not stacks:
        raise CliError(f"the cloud assembly at {directory} has no stacks: does the app "
                       "synthesize any?")
    return [StackTemplate(stack.stack_name, stack.template, {
        str(entry.data): entry.path.lstrip("/")
        for entry in stack.find_metadata_by_type("aws:cdk:logicalId")}) for stack in stacks]


def rollouts_of(stack: StackTemplate) -> Iterator[Rollout]:
    resources: Json = stack.template.get("Resources") or {}
    paths = stack.paths
    for logical_id, resource in resources.items():
        if resource.get("Type") != RESOURCE_TYPE:
            continue
        properties: Json = resource.get("Properties") or {}
        name = properties.get("EndpointName")
        yield Rollout(
            stack=stack.name,
            logical_id=logical_id,
            path=_construct_path(resource, logical_id, paths),
            endpoint_name=name if isinstance(name, str) else None,
            properties=properties,
            variants=tuple(_variants(resources, properties.get("EndpointConfigName"))),
            alarms=tuple(_alarms(resources, properties, paths)),
            service_timeout=_whole(properties.get("ServiceTimeout"), 3600),
            wait_condition=_wait_condition(resources, logical_id),
        )


def _construct_path(resource: Json, logical_id: str, paths: Mapping[str, str]) -> str:
    """`Stack/Endpoint` for the custom resource at `Stack/Endpoint/Resource/Default`."""
    metadata = (resource.get("Metadata") or {}).get(_CDK_PATH)
    path = str(metadata or paths.get(logical_id) or logical_id)
    for suffix in ("/Default", "/Resource"):
        path = path.removesuffix(suffix)
    return path


def _whole(value: Any, default: int) -> int:
    """A number of seconds as CloudFormation has it (a string or a number)."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _referenced(value: Any) -> str | None:
    """The logical id that `{"Ref": id}` or `{"Fn::GetAtt": [id, attr]}` points at."""
    if isinstance(value, Mapping):
        if isinstance(value.get("Ref"), str):
            return str(value["Ref"])
        target = value.get("Fn::GetAtt")
        if isinstance(target, Sequence) and target and isinstance(target[0], str):
            return target[0]
    return None


def _variants(resources: Json, config_name: Any) -> Iterator[VariantFacts]:
    config = resources.get(_referenced(config_name) or "") or {}
    for variant in (config.get("Properties") or {}).get("ProductionVariants") or []:
        serverless = "ServerlessConfig" in variant
        count = variant.get("InitialInstanceCount")
        kind = variant.get("InstanceType")
        yield VariantFacts(
            variant_name=str(variant.get("VariantName", "")),
            instance_type=None if serverless or not isinstance(kind, str) else kind,
            initial_instance_count=None if serverless or not isinstance(count, int) else count,
            serverless=serverless,
        )


def _alarms(resources: Json, properties: Json, paths: Mapping[str, str]) -> Iterator[str]:
    rollback = (properties.get("DeploymentConfig") or {}).get("AutoRollbackConfiguration") or {}
    for alarm in rollback.get("Alarms") or []:
        name = alarm.get("AlarmName")
        if isinstance(name, str):
            yield name
            continue
        target = _referenced(name)
        resource = resources.get(target or "") or {}
        literal = (resource.get("Properties") or {}).get("AlarmName")
        if isinstance(literal, str):
            yield literal
        else:
            yield (f"{_construct_path(resource, target or '?', paths)} "
                   "(name generated at deploy)")


def _mentions(value: Any, logical_id: str) -> bool:
    if isinstance(value, Mapping):
        return _referenced(value) == logical_id or any(_mentions(v, logical_id)
                                                       for v in value.values())
    if isinstance(value, list):
        return any(_mentions(v, logical_id) for v in value)
    return False


def _wait_condition(resources: Json, rollout_id: str) -> tuple[int, str] | None:
    """A WaitCondition that waits for this rollout: it depends on the rollout, or the rollout
    is given its handle. None: the budget is the custom resource's ServiceTimeout."""
    rollout = resources.get(rollout_id) or {}
    for logical_id, resource in resources.items():
        if resource.get("Type") != _WAIT_CONDITION:
            continue
        properties = resource.get("Properties") or {}
        depends = resource.get("DependsOn") or []
        depends = [depends] if isinstance(depends, str) else depends
        handle = _referenced(properties.get("Handle"))
        given_handle = handle is not None and _mentions(rollout.get("Properties"), handle)
        if rollout_id in depends or given_handle:
            return _whole(properties.get("Timeout"), 0), f"WaitCondition {logical_id}"
    return None


def find_rollout(directory: Path, endpoint_name: str) -> Rollout:
    """The rollout of the endpoint named `endpoint_name` (case-insensitive, as SageMaker's
    names) in the assembly at `directory`."""
    rollouts = [r for stack in load_templates(directory) for r in rollouts_of(stack)]
    for rollout in rollouts:
        if (rollout.endpoint_name or "").lower() == endpoint_name.lower():
            return rollout
    known = ", ".join(r.endpoint_name or f"{r.path} (name generated at deploy)"
                      for r in rollouts) or "none"
    raise CliError(f"no rollout of endpoint {endpoint_name} in the cloud assembly at "
                   f"{directory} (its rollouts: {known})")
