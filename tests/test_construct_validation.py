"""Eager checks: each refusal names its rule, the field as the user wrote it, the value, the limit
and a fix, and that fix passes; every refusal of a construct is raised at once; tokens pass."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import pytest
from aws_cdk import Duration, RemovalPolicy, Size, Stack, Token
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk.assertions import Template
from construct_support import instance_variant, new_stack
from sagemaker_rollout import (
    CapacitySize,
    DeploymentStrategy,
    ProductionVariant,
    RolloutEndpoint,
    TrafficRouting,
    VariantProperty,
)
from sagemaker_rollout.rules import Rule


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


def alarms(count: int, stack: Stack | None = None, first: int = 0) -> list[cloudwatch.IAlarm]:
    """`count` distinct alarms (an alarm of the same ARN added twice is rendered once)."""
    stack = stack or new_stack()
    return [
        cloudwatch.Alarm.from_alarm_arn(
            stack, f"Alarm{i}", f"arn:aws:cloudwatch:eu-west-1:123456789012:alarm:a{i}"
        )
        for i in range(first, first + count)
    ]


def synthesized(*variants: ProductionVariant, alarm_count: int = 0, **props: Any) -> Template:
    """The template of an endpoint of these variants (default: one instance variant) with
    `alarm_count` rollback alarms."""
    stack = new_stack()
    if alarm_count:
        props["rollback_alarms"] = alarms(alarm_count, stack)
    RolloutEndpoint(stack, "Endpoint", variants=list(variants) or [instances()], **props)
    return Template.from_stack(stack)


@dataclass(frozen=True)
class Refused:
    """A refusal: what is wrong, how to build it, its rule, words the message must contain
    (field and value), the fix it must propose, and the same build with that fix applied."""

    what: str
    build: Callable[[], object]
    rule: Rule
    words: list[str]
    fix: str
    fixed: Callable[[], object]


REFUSALS = [
    Refused("variant name with an underscore", lambda: instances(variant_name="all_traffic"),
            Rule.SAGEMAKER_NAME, ["variant_name = 'all_traffic'", "letters, digits and hyphens"],
            "use 'all-traffic'.", lambda: synthesized(instances(variant_name="all-traffic"))),
    Refused("variant name of 64 characters", lambda: instances(variant_name="v" * 64),
            Rule.SAGEMAKER_NAME, ["variant_name = '" + "v" * 64, "1 to 63 characters"],
            f"use {'v' * 63!r}.", lambda: synthesized(instances(variant_name="v" * 63))),
    Refused("model name with a leading hyphen", lambda: instances(model_name="-model"),
            Rule.SAGEMAKER_NAME, ["model_name of variant 'AllTraffic' = '-model'",
                                  "starting and ending with a letter or digit"],
            "use 'model'.", lambda: synthesized(instances(model_name="model"))),
    Refused("instance type without the ml. prefix", lambda: instances(instance_type="m5.large"),
            Rule.INSTANCE_TYPE, ["instance_type of variant 'AllTraffic' = 'm5.large'",
                                 "ml.<family>.<size>"],
            "use 'ml.m5.large'.", lambda: synthesized(instances(instance_type="ml.m5.large"))),
    Refused("zero instances", lambda: instances(initial_instance_count=0),
            Rule.INSTANCE_COUNT_AT_LEAST_ONE,
            ["initial_instance_count of variant 'AllTraffic' = 0", "a whole number >= 1"],
            "use 1.", lambda: synthesized(instances(initial_instance_count=1))),
    Refused("a fractional instance count", lambda: instances(initial_instance_count=1.5),
            Rule.INSTANCE_COUNT_AT_LEAST_ONE,
            ["initial_instance_count of variant 'AllTraffic' = 1.5", "a whole number >= 1"],
            "use 2.", lambda: synthesized(instances(initial_instance_count=2))),
    Refused("a negative weight", lambda: instances(initial_variant_weight=-0.5),
            Rule.WEIGHT_AT_LEAST_ZERO, ["initial_variant_weight of variant 'AllTraffic' = -0.5",
                                        "a number >= 0"],
            "use 0 (no traffic) or more, such as 1.",
            lambda: synthesized(instances(initial_variant_weight=1))),
    Refused("a weight that is not a number", lambda: instances(initial_variant_weight=math.nan),
            Rule.WEIGHT_AT_LEAST_ZERO, ["initial_variant_weight of variant 'AllTraffic' = nan"],
            "use 0 (no traffic) or more, such as 1.",
            lambda: synthesized(instances(initial_variant_weight=0))),
    Refused("a model name passed as the model", lambda: instances(
        model_name=None, model="model-a"), Rule.ONE_MODEL,
        ["model of variant 'AllTraffic' = the string 'model-a'", "a model construct"],
        "a model's name goes in model_name=: pass model_name=<that string> instead of model=.",
        lambda: synthesized(instances(model_name="model-a"))),
    Refused("a model's name token passed as the model", lambda: instances(
        model_name=None, model=Token.as_string({"Fn::GetAtt": ["Model", "ModelName"]})),
        Rule.ONE_MODEL, ["model of variant 'AllTraffic' = a string token"],
        "a model's name goes in model_name=: pass model_name=<that string> instead of model=.",
        lambda: synthesized(instances(
            model_name=Token.as_string({"Fn::GetAtt": ["Model", "ModelName"]})))),
    Refused("serverless memory below 1 GiB", lambda: serverless(memory_size=Size.mebibytes(512)),
            Rule.SERVERLESS_MEMORY, ["memory_size of variant 'AllTraffic' = 512 MiB",
                                     "1024, 2048, 3072, 4096, 5120 or 6144 MiB"],
            "use Size.gibibytes(1).", lambda: synthesized(serverless(
                memory_size=Size.gibibytes(1)))),
    Refused("serverless memory not in 1 GiB steps",
            lambda: serverless(memory_size=Size.mebibytes(2600)),
            Rule.SERVERLESS_MEMORY, ["2600 MiB", "steps of 1 GiB"],
            "use Size.gibibytes(3).", lambda: synthesized(serverless(
                memory_size=Size.gibibytes(3)))),
    Refused("serverless memory above 6 GiB", lambda: serverless(memory_size=Size.gibibytes(8)),
            Rule.SERVERLESS_MEMORY, ["8192 MiB", "1 to 6 GiB"],
            "use Size.gibibytes(6).", lambda: synthesized(serverless(
                memory_size=Size.gibibytes(6)))),
    Refused("max concurrency above 200", lambda: serverless(max_concurrency=201),
            Rule.MAX_CONCURRENCY_RANGE, ["max_concurrency of variant 'AllTraffic' = 201",
                                         "from 1 to 200"],
            "use 200.", lambda: synthesized(serverless(max_concurrency=200))),
    Refused("provisioned concurrency above max concurrency",
            lambda: serverless(max_concurrency=10, provisioned_concurrency=11),
            Rule.PROVISIONED_CONCURRENCY_RANGE,
            ["provisioned_concurrency of variant 'AllTraffic' = 11", "from 1 to 10"],
            "use 10.", lambda: synthesized(serverless(max_concurrency=10,
                                                        provisioned_concurrency=10))),
    Refused("no variants", lambda: endpoint(variants=[]), Rule.AT_LEAST_ONE_VARIANT,
            ["variants = [] (0 variants)", "1 to 10 production variants"],
            "give the endpoint a variant: ProductionVariant.instances(...) or .serverless(...).",
            lambda: synthesized(instances())),
    Refused("eleven variants",
            lambda: endpoint(variants=[instances(variant_name=f"v{i}") for i in range(11)]),
            Rule.VARIANTS_AT_MOST_10, ["variants = 11 variants", "1 to 10 production variants"],
            "split the variants over 2 endpoints of at most 10 variants.",
            lambda: synthesized(*[instances(variant_name=f"v{i}") for i in range(10)])),
    Refused("two variants of the same name",
            lambda: endpoint(variants=[instances(), instances(model_name="model-b")]),
            Rule.DISTINCT_VARIANT_NAMES, ["variant_name in variants = 'AllTraffic' twice"],
            "rename one of them, such as 'AllTraffic-2'.",
            lambda: synthesized(instances(), instances(variant_name="AllTraffic-2",
                                                       model_name="model-b"))),
    Refused("an endpoint name with an underscore", lambda: endpoint(endpoint_name="my_endpoint"),
            Rule.SAGEMAKER_NAME, ["endpoint_name = 'my_endpoint'", "letters, digits and hyphens"],
            "use 'my-endpoint'.", lambda: synthesized(endpoint_name="my-endpoint")),
    Refused("exclusions without retain",
            lambda: endpoint(retained_properties_exclusions=[VariantProperty.DESIRED_WEIGHT]),
            Rule.EXCLUSIONS_NEED_RETAIN,
            ["retained_properties_exclusions = ['DesiredWeight'] with retain_variant_properties="
             "None"],
            "pass retain_variant_properties=True, or drop retained_properties_exclusions.",
            lambda: synthesized(retain_variant_properties=True,
                                retained_properties_exclusions=[VariantProperty.DESIRED_WEIGHT])),
    Refused("a deployment together with reuse of the last one", lambda: endpoint(
        reuse_last_deployment_config=True, deployment=DeploymentStrategy.all_at_once()),
        Rule.DEPLOYMENT_OR_REUSE, ["deployment = DeploymentStrategy ALL_AT_ONCE with "
                                   "reuse_last_deployment_config=True"],
        "drop deployment=, or drop reuse_last_deployment_config=True.",
        lambda: synthesized(reuse_last_deployment_config=True)),
    Refused("rollback alarms together with reuse of the last deployment config",
            lambda: endpoint(reuse_last_deployment_config=True, rollback_alarms=alarms(1)),
            Rule.ALARMS_NOT_WITH_REUSE,
            ["rollback_alarms = 1 alarm(s) with reuse_last_deployment_config=True"],
            "drop the alarms, or drop reuse_last_deployment_config=True and give a deployment=.",
            lambda: synthesized(alarm_count=1)),
    Refused("eleven rollback alarms", lambda: endpoint(rollback_alarms=alarms(11)),
            Rule.ALARMS_1_TO_10, ["rollback_alarms = 11 alarms", "10 alarms per endpoint"],
            "drop 1 alarm(s): keep those that tell a bad model from a good one.",
            lambda: synthesized(alarm_count=10)),
    Refused("49 tags (two are kept for the handler's request and ownership tags)",
            lambda: endpoint(tags={f"k{i}": "v" for i in range(49)}),
            Rule.TAG_COUNT, ["tags = 49 tags", "at most 48 tags"], "drop 1 tag(s).",
            lambda: synthesized(tags={f"k{i}": "v" for i in range(48)})),
    Refused("a tag key in the handler's reserved prefix",
            lambda: endpoint(tags={"sagemaker-rollout:request": "x"}), Rule.TAG_KEY,
            ["tags key = 'sagemaker-rollout:request'", "the rollout handler's bookkeeping"],
            "use a key of your own, such as 'request'.",
            lambda: synthesized(tags={"request": "x"})),
    Refused("an empty tag key", lambda: endpoint(tags={"": "v"}), Rule.TAG_KEY,
            ["tags key = '' (0 characters)", "1 to 128 characters"], "give the tag a key.",
            lambda: synthesized(tags={"k": "v"})),
    Refused("a tag key of 129 characters", lambda: endpoint(tags={"k" * 129: "v"}), Rule.TAG_KEY,
            ["(129 characters)", "1 to 128 characters"], "shorten it to 128 characters.",
            lambda: synthesized(tags={"k" * 128: "v"})),
    Refused("a tag value of 257 characters", lambda: endpoint(tags={"k": "v" * 257}),
            Rule.TAG_VALUE, ["tags value of key 'k' = 257 characters", "0 to 256 characters"],
            "shorten it to 256 characters.", lambda: synthesized(tags={"k": "v" * 256})),
    Refused("a tag key in the aws: namespace", lambda: endpoint(tags={"aws:owner": "me"}),
            Rule.TAG_KEY, ["tags key = 'aws:owner'", "reserved by AWS"],
            "use a key of your own, such as 'owner'.", lambda: synthesized(tags={"owner": "me"})),
    Refused("a removal policy the endpoint cannot have",
            lambda: endpoint(removal_policy=RemovalPolicy.SNAPSHOT), Rule.REMOVAL_POLICY,
            ["removal_policy = RemovalPolicy.SNAPSHOT", "an endpoint has no snapshot"],
            "use RemovalPolicy.RETAIN to keep the endpoint, else RemovalPolicy.DESTROY.",
            lambda: synthesized(removal_policy=RemovalPolicy.RETAIN)),
]


@pytest.mark.parametrize("case", [pytest.param(case, id=case.what) for case in REFUSALS])
def test_refusal_names_rule_field_value_limit_and_fix(case: Refused) -> None:
    with pytest.raises(ValueError) as refused:
        case.build()
    message = str(refused.value)
    assert f"[sagemaker-rollout:{case.rule.id}] " in message
    for word in case.words:
        assert word in message
    assert f"Fix: {case.fix}" in message


@pytest.mark.parametrize("case", [pytest.param(case, id=case.what) for case in REFUSALS])
def test_the_fix_a_refusal_proposes_passes(case: Refused) -> None:
    case.fixed()


def test_every_refusal_of_an_endpoint_is_raised_at_once() -> None:
    with pytest.raises(ValueError) as refused:
        endpoint(endpoint_name="my_endpoint", tags={"aws:owner": "me"},
                 rollback_alarms=alarms(11), removal_policy=RemovalPolicy.SNAPSHOT,
                 deployment=DeploymentStrategy.blue_green(traffic_routing=TrafficRouting.canary(
                     size=CapacitySize.count(1), bake_time=Duration.minutes(5))))
    message = str(refused.value)
    assert message.startswith("sagemaker-rollout: RolloutEndpoint Stack/Endpoint is refused:")
    for rule in (Rule.SAGEMAKER_NAME, Rule.TAG_KEY, Rule.ALARMS_1_TO_10, Rule.REMOVAL_POLICY,
                 Rule.CANARY_AT_MOST_HALF):
        assert message.count(f"[sagemaker-rollout:{rule.id}]") == 1, rule


def test_every_refusal_of_a_variant_is_raised_at_once() -> None:
    with pytest.raises(ValueError) as refused:
        instances(instance_type="m5.large", initial_instance_count=0, variant_name="a_b",
                  initial_variant_weight=-1)
    message = str(refused.value)
    for rule in (Rule.INSTANCE_TYPE, Rule.INSTANCE_COUNT_AT_LEAST_ONE, Rule.SAGEMAKER_NAME,
                 Rule.WEIGHT_AT_LEAST_ZERO):
        assert f"[sagemaker-rollout:{rule.id}]" in message, rule


def test_adding_an_eleventh_rollback_alarm_names_add_rollback_alarm() -> None:
    rollout = endpoint(rollback_alarms=alarms(4))
    for alarm in alarms(6, first=4):
        rollout.add_rollback_alarm(alarm)
    with pytest.raises(ValueError) as refused:
        rollout.add_rollback_alarm(alarms(1, first=10)[0])
    message = str(refused.value)
    assert "[sagemaker-rollout:alarms-1-to-10] add_rollback_alarm = alarm number 11 (4 from " \
        "rollback_alarms, 6 added by add_rollback_alarm before)" in message
    assert "rollback_alarms has" not in message


def test_a_rollback_alarm_added_with_reuse_of_the_last_config_names_add_rollback_alarm() -> None:
    rollout = endpoint(reuse_last_deployment_config=True)
    with pytest.raises(ValueError, match=r"alarms-not-with-reuse\] add_rollback_alarm = an alarm"):
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
        ],
        endpoint_name=text,
        tags={text: text},
    )
    # A serverless endpoint has one variant (variant_combinations.py): an endpoint of its own.
    RolloutEndpoint(
        new_stack(),
        "Serverless",
        variants=[
            ProductionVariant.serverless(
                variant_name="Serverless",
                model_name=text,
                memory_size=Size.mebibytes(number),
                max_concurrency=number,
                provisioned_concurrency=number,
            ),
        ],
        endpoint_name=text,
    )


def test_limits_themselves_are_allowed() -> None:
    RolloutEndpoint(
        new_stack(),
        "Endpoint",
        variants=[
            instances(variant_name="v" * 63, initial_variant_weight=0),
            instances(variant_name="w"),
        ],
        endpoint_name="e" * 63,
        tags={"k" * 128: "v" * 256, "empty": ""},
        retain_variant_properties=True,
        # Every supported exclusion (DATA_CAPTURE_CONFIG is refused: "Not currently supported").
        retained_properties_exclusions=[VariantProperty.DESIRED_INSTANCE_COUNT,
                                        VariantProperty.DESIRED_WEIGHT],
    )
    for memory, concurrency, provisioned in ((Size.gibibytes(6), 200, 200),
                                             (Size.mebibytes(1024), 1, None)):
        RolloutEndpoint(
            new_stack(),
            "Serverless",
            variants=[serverless(variant_name="s", memory_size=memory,
                                 max_concurrency=concurrency,
                                 provisioned_concurrency=provisioned)],
        )


def test_the_tags_docstring_states_the_limit_the_check_applies() -> None:
    from sagemaker_rollout.endpoint_props import MAX_TAGS

    doc = RolloutEndpoint.__init__.__doc__ or ""
    assert f":param tags: tags of the endpoint (at most {MAX_TAGS}, ``Tags.of`` included:" in doc
    endpoint(tags={f"k{i}": "v" for i in range(MAX_TAGS)})
