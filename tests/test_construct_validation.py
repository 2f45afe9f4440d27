"""Eager checks: each ValueError names the field, the value and what is allowed; tokens pass."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import pytest
from aws_cdk import Size, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from construct_support import instance_variant, new_stack
from sagemaker_rollout import (
    DeploymentStrategy,
    ProductionVariant,
    RolloutEndpoint,
    VariantProperty,
)


def instances(**overrides: Any) -> ProductionVariant:
    return instance_variant(**overrides)


def serverless(**overrides: Any) -> ProductionVariant:
    props: dict[str, Any] = {
        "model_name": "model-a",
        "memory_size": Size.gibibytes(2),
        "max_concurrency": 10,
    }
    props.update(overrides)
    return ProductionVariant.serverless(**props)


def endpoint(**overrides: Any) -> RolloutEndpoint:
    props: dict[str, Any] = {"variants": [instances()]}
    props.update(overrides)
    return RolloutEndpoint(new_stack(), "Endpoint", **props)


def alarms(count: int) -> list[cloudwatch.IAlarm]:
    stack = new_stack()
    return [
        cloudwatch.Alarm.from_alarm_arn(
            stack, f"Alarm{i}", f"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:a{i}"
        )
        for i in range(count)
    ]


# (what is wrong, how to build it, words the message must contain: field, value, what is allowed)
REFUSALS: list[tuple[str, Callable[[], object], list[str]]] = [
    (
        "variant name with an underscore",
        lambda: instances(variant_name="all_traffic"),
        ["variant_name", "'all_traffic'", "letters, digits and hyphens"],
    ),
    (
        "variant name of 64 characters",
        lambda: instances(variant_name="v" * 64),
        ["variant_name", "v" * 64, "1 to 63 characters"],
    ),
    (
        "model name with a leading hyphen",
        lambda: instances(model_name="-model"),
        ["model_name", "'-model'", "starting and ending with a letter or digit"],
    ),
    (
        "instance type without the ml. prefix",
        lambda: instances(instance_type="m5.large"),
        ["instance_type", "'m5.large'", "ml.<family>.<size>"],
    ),
    (
        "zero instances",
        lambda: instances(initial_instance_count=0),
        ["initial_instance_count", "0", "a whole number >= 1"],
    ),
    (
        "a fractional instance count",
        lambda: instances(initial_instance_count=1.5),
        ["initial_instance_count", "1.5", "a whole number >= 1"],
    ),
    (
        "a negative weight",
        lambda: instances(initial_variant_weight=-0.5),
        ["initial_variant_weight", "-0.5", "a number >= 0"],
    ),
    (
        "a weight that is not a number",
        lambda: instances(initial_variant_weight=float("nan")),
        ["initial_variant_weight", "nan", "a number >= 0"],
    ),
    (
        "serverless memory below 1 GiB",
        lambda: serverless(memory_size=Size.mebibytes(512)),
        ["memory_size", "512 MiB", "1024, 2048, 3072, 4096, 5120 or 6144 MiB"],
    ),
    (
        "serverless memory not in 1 GiB steps",
        lambda: serverless(memory_size=Size.mebibytes(1536)),
        ["memory_size", "1536 MiB", "steps of 1 GiB"],
    ),
    (
        "serverless memory above 6 GiB",
        lambda: serverless(memory_size=Size.gibibytes(8)),
        ["memory_size", "8192 MiB", "1 to 6 GiB"],
    ),
    (
        "max concurrency above 200",
        lambda: serverless(max_concurrency=201),
        ["max_concurrency", "201", "from 1 to 200"],
    ),
    (
        "provisioned concurrency above max concurrency",
        lambda: serverless(max_concurrency=10, provisioned_concurrency=11),
        ["provisioned_concurrency", "11", "from 1 to 10"],
    ),
    (
        "no variants",
        lambda: endpoint(variants=[]),
        ["variants", "0 variants", "1 to 10 variants"],
    ),
    (
        "eleven variants",
        lambda: endpoint(variants=[instances(variant_name=f"v{i}") for i in range(11)]),
        ["variants", "11 variants", "1 to 10 variants"],
    ),
    (
        "two variants of the same name",
        lambda: endpoint(variants=[instances(), instances(model_name="model-b")]),
        ["variants", "'AllTraffic'", "distinct variant names"],
    ),
    (
        "an endpoint name with a dot",
        lambda: endpoint(endpoint_name="my.endpoint"),
        ["endpoint_name", "'my.endpoint'", "letters, digits and hyphens"],
    ),
    (
        "exclusions without retain",
        lambda: endpoint(retained_properties_exclusions=[VariantProperty.DESIRED_WEIGHT]),
        ["retained_properties_exclusions", "DesiredWeight", "retain_variant_properties=True"],
    ),
    (
        "a deployment together with reuse of the last one",
        lambda: endpoint(
            reuse_last_deployment_config=True, deployment=DeploymentStrategy.all_at_once()
        ),
        ["deployment", "reuse_last_deployment_config=True", "one or the other"],
    ),
    (
        "rollback alarms together with reuse of the last deployment config",
        lambda: endpoint(reuse_last_deployment_config=True, rollback_alarms=alarms(1)),
        ["rollback alarms", "reuse_last_deployment_config=True", "last one is reused"],
    ),
    (
        "eleven rollback alarms",
        lambda: endpoint(rollback_alarms=alarms(11)),
        ["rollback_alarms", "11 alarms", "at most 10"],
    ),
    (
        "50 tags (one is kept for the handler's bookkeeping)",
        lambda: endpoint(tags={f"k{i}": "v" for i in range(50)}),
        ["tags", "50 tags", "at most 49"],
    ),
    (
        "a tag key in the handler's reserved prefix",
        lambda: endpoint(tags={"sagemaker-rollout:request": "x"}),
        ["tags key", "'sagemaker-rollout:request'", "reserved"],
    ),
    (
        "an empty tag key",
        lambda: endpoint(tags={"": "v"}),
        ["tags key", "''", "1 to 128 characters"],
    ),
    (
        "a tag key of 129 characters",
        lambda: endpoint(tags={"k" * 129: "v"}),
        ["tags key", "129 characters", "1 to 128 characters"],
    ),
    (
        "a tag value of 257 characters",
        lambda: endpoint(tags={"k": "v" * 257}),
        ["tags value", "'k'", "257 characters", "0 to 256 characters"],
    ),
    (
        "a tag key in the aws: namespace",
        lambda: endpoint(tags={"aws:owner": "me"}),
        ["tags key", "'aws:owner'", "reserved"],
    ),
]


@pytest.mark.parametrize(
    ("build", "words"),
    [pytest.param(build, words, id=what) for what, build, words in REFUSALS],
)
def test_refusal_names_field_value_and_what_is_allowed(
    build: Callable[[], object], words: list[str]
) -> None:
    with pytest.raises(ValueError) as refused:
        build()
    for word in words:
        assert word in str(refused.value)


def test_adding_an_eleventh_rollback_alarm_is_refused() -> None:
    rollout = endpoint(rollback_alarms=alarms(10))
    with pytest.raises(ValueError, match="at most 10"):
        rollout.add_rollback_alarm(alarms(1)[0])


def test_token_values_are_not_checked_at_synth() -> None:
    number = cast(int, Token.as_number({"Ref": "Count"}))  # a token, encoded in a float
    text = Token.as_string({"Ref": "Text"})
    RolloutEndpoint(
        new_stack(),
        "Endpoint",
        variants=[
            ProductionVariant.instances(
                variant_name=text,
                model_name=text,
                instance_type=text,
                initial_instance_count=number,
                initial_variant_weight=number,
            ),
            ProductionVariant.serverless(
                variant_name="Serverless",
                model_name=text,
                memory_size=Size.mebibytes(number),
                max_concurrency=number,
                provisioned_concurrency=number,
            ),
        ],
        endpoint_name=text,
        tags={text: text},
    )


def test_limits_themselves_are_allowed() -> None:
    RolloutEndpoint(
        new_stack(),
        "Endpoint",
        variants=[
            instances(variant_name="v" * 63, initial_variant_weight=0),
            serverless(
                variant_name="s",
                memory_size=Size.gibibytes(6),
                max_concurrency=200,
                provisioned_concurrency=200,
            ),
            serverless(variant_name="t", memory_size=Size.mebibytes(1024), max_concurrency=1),
        ],
        endpoint_name="e" * 63,
        tags={"k" * 128: "v" * 256, "empty": ""},
        retain_variant_properties=True,
        retained_properties_exclusions=list(VariantProperty),
    )
