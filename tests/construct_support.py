"""What the construct tests share: a fast stack, a plain instance variant, and ways to read a
template (its only resource of a type; which resource depends on which)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from aws_cdk import App, Stack
from aws_cdk.assertions import Template
from sagemaker_rollout import ProductionVariant


def new_stack() -> Stack:
    """A stack in an app that skips bundling (fast)."""
    return Stack(App(context={"aws:cdk:bundling-stacks": []}), "Stack")


def instance_variant(name: str = "AllTraffic", **overrides: Any) -> ProductionVariant:
    """An instance variant of model-a on ml.m5.large; `overrides` replace any of its props."""
    props: dict[str, Any] = {
        "model_name": "model-a",
        "instance_type": "ml.m5.large",
        "variant_name": name,
    }
    props.update(overrides)
    return ProductionVariant.instances(**props)


def only(template: Template, resource_type: str) -> tuple[str, dict[str, Any]]:
    """The logical id and the body of the one resource of `resource_type` (asserted one)."""
    resources = template.find_resources(resource_type)
    assert len(resources) == 1, resources
    return next(iter(resources.items()))


def _references(value: Any, resource_ids: set[str]) -> Iterator[str]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and inner in resource_ids:
                yield inner
            elif key == "Fn::GetAtt" and inner[0] in resource_ids:
                yield inner[0]
            elif key == "Fn::Sub":
                text = inner if isinstance(inner, str) else inner[0]
                for match in re.findall(r"\$\{([^}.!]+)", text):
                    if match in resource_ids:
                        yield match
            else:
                yield from _references(inner, resource_ids)
    elif isinstance(value, list):
        for inner in value:
            yield from _references(inner, resource_ids)


def dependency_graph(template: Mapping[str, Any]) -> dict[str, set[str]]:
    """For each resource, the resources it depends on (DependsOn, Ref, GetAtt, Sub)."""
    resources: dict[str, Any] = template["Resources"]
    ids = set(resources)
    graph: dict[str, set[str]] = {}
    for resource_id, resource in resources.items():
        depends_on = resource.get("DependsOn", [])
        edges = {depends_on} if isinstance(depends_on, str) else set(depends_on)
        edges |= set(_references(resource.get("Properties", {}), ids))
        graph[resource_id] = edges
    return graph


def depends_on(graph: dict[str, set[str]], start: str, target: str) -> bool:
    """Whether `start` depends on `target`, directly or through other resources."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for dependency in graph[todo.pop()]:
            if dependency == target:
                return True
            if dependency not in seen:
                seen.add(dependency)
                todo.append(dependency)
    return False


def has_cycle(graph: dict[str, set[str]]) -> bool:
    """Whether any resource depends on itself."""
    return any(depends_on(graph, resource_id, resource_id) for resource_id in graph)
