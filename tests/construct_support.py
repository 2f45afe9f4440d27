"""What the construct tests share: a fast stack and a plain instance variant."""

from __future__ import annotations

from typing import Any

from aws_cdk import App, Stack
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
