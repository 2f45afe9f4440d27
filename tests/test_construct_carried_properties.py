"""Rule ``properties-fit-wait``: what the construct accepts can be waited for (issue 17.1). The
tags and properties a wait carries are checked at synth against the contract's limit, with a real
ResponseURL's length, tokens at their longest, alarms added later and autoscaling included; the
refusal's fix, applied, synthesizes."""

from __future__ import annotations

import functools
import re
from typing import Any

import pytest
from aws_cdk import Duration, Fn, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk.assertions import Template
from carried_support import largest_request, largest_state
from construct_support import instance_variant, new_stack, only
from sagemaker_rollout import CapacitySize, DeploymentStrategy, RolloutEndpoint, TrafficRouting
from sagemaker_rollout.carried_properties import as_sent
from sagemaker_rollout.endpoint import RESOURCE_TYPE
from sagemaker_rollout.rules import Rule
from sagemaker_rollout_handler.contract import (
    CARRIED_PROPERTIES_LIMIT,
    WAKE_INPUT_LIMIT,
    carried_properties_limit,
    carried_size,
)
from sagemaker_rollout_handler.state import carried_request, wake_payload

RULE = f"[sagemaker-rollout:{Rule.PROPERTIES_FIT_WAIT.id}]"

#: Issue 17.1's reproduction: 18 tags of about 150 characters (as tests/test_hardening.py).
LARGE_TAGS = {f"team-{i:02d}-" + "k" * 32: "v" * 110 for i in range(18)}


def alarms(stack: Stack, count: int, length: int = 255) -> list[cloudwatch.IAlarm]:
    return [cloudwatch.Alarm.from_alarm_arn(
        stack, f"Alarm{i}", "arn:aws:cloudwatch:us-east-1:123456789012:alarm:" + str(i) * length)
        for i in range(count)]


def canary() -> DeploymentStrategy:
    return DeploymentStrategy.blue_green(traffic_routing=TrafficRouting.canary(
        size=CapacitySize.count(1), bake_time=Duration.minutes(10)))


def endpoint(stack: Stack, **props: Any) -> RolloutEndpoint:
    props.setdefault("deployment", canary())
    return RolloutEndpoint(stack, "Endpoint", endpoint_name="ep",
                           variants=[instance_variant(initial_instance_count=4)], **props)


@functools.cache
def logical_id() -> str:
    """The custom resource's logical id in ``endpoint``'s stacks (all named ``Stack``)."""
    stack = new_stack()
    endpoint(stack)
    return only(Template.from_stack(stack), RESOURCE_TYPE)[0]


def limit() -> int:
    """The limit of ``endpoint``'s stacks: the room the names ``Stack`` and the logical id leave."""
    return carried_properties_limit(stack_name_length=len("Stack"),
                                    logical_id_length=len(logical_id()))


def carried(stack: Stack) -> dict[str, Any]:
    """The custom resource's properties as the handler receives them, tokens at their longest."""
    _, body = only(Template.from_stack(stack), RESOURCE_TYPE)
    properties: dict[str, Any] = as_sent(body["Properties"])
    return properties


def refusal_of(stack: Stack) -> str:
    with pytest.raises(Exception, match=re.escape(RULE)) as excinfo:
        Template.from_stack(stack)
    return str(excinfo.value)


def tags_of_size(size: int) -> dict[str, str]:
    """Tags whose JSON (``Tags``, as rendered) takes about ``size`` characters."""
    return {f"tag-{i:02d}": "v" * 200 for i in range(size // 228)}


def test_the_issues_large_tags_with_a_rollback_alarm_are_accepted_and_fit_a_wake() -> None:
    stack = new_stack()
    endpoint(stack, tags=LARGE_TAGS, rollback_alarms=alarms(stack, 1, length=64))
    properties = carried(stack)
    assert len(properties["Tags"]) == 18 + 1  # and the ownership tag
    assert CARRIED_PROPERTIES_LIMIT < carried_size(properties) <= limit()
    # As the handler carries them (tags kept, as a recreation does), with this stack's ids, the
    # longest state and a real ResponseURL's length.
    request = {**carried_request(largest_request({}, stack_name="Stack",
                                                 logical_id=logical_id())),
               "ResourceProperties": properties}
    assert len(wake_payload(largest_state(), request)) <= WAKE_INPUT_LIMIT


def test_in_a_stack_of_the_longest_names_the_issues_large_tags_would_not_fit() -> None:
    """What the names' room is worth: the issue's tags need it (a 128-character stack name and a
    255-character logical id would leave too little)."""
    stack = new_stack()
    endpoint(stack, tags=LARGE_TAGS)
    assert CARRIED_PROPERTIES_LIMIT < carried_size(carried(stack)) <= limit()


def test_tags_a_wait_cannot_carry_are_refused_at_synth_with_the_sizes_and_the_limit() -> None:
    stack = new_stack()
    endpoint(stack, tags=tags_of_size(limit() + 500))
    message = refusal_of(stack)
    assert "the tags and properties of endpoint Stack/Endpoint = " in message
    assert f"the limit is {limit()} characters" in message
    assert "with this stack's name and this resource's logical id" in message
    assert "ResponseURL" in message and "a token counted at its longest" in message
    assert re.search(r"tags \d+, rollback alarm names 0, the rest \d+", message)


def test_the_fix_drops_the_fewest_tags_and_then_synthesizes() -> None:
    tags = tags_of_size(limit() + 500)
    stack = new_stack()
    endpoint(stack, tags=tags)
    fix = refusal_of(stack).split("Fix: ")[1]
    assert "sagemaker-rollout:" not in fix  # the handler's ownership tag is not the user's
    dropped = re.findall(r"'(tag-\d\d)'", fix)
    assert 0 < len(dropped) < len(tags)
    fixed = new_stack()
    endpoint(fixed, tags={k: v for k, v in tags.items() if k not in dropped})
    assert carried_size(carried(fixed)) <= limit()
    # One tag fewer would not have been enough.
    short = new_stack()
    endpoint(short, tags={k: v for k, v in tags.items() if k not in dropped[1:]})
    refusal_of(short)


def test_alarms_added_after_construction_count() -> None:
    tags = tags_of_size(limit() - 1800)
    fits = new_stack()
    endpoint(fits, tags=tags)
    Template.from_stack(fits)
    alone = new_stack()
    endpoint(alone, rollback_alarms=alarms(alone, 10))  # ten names of 255 characters, no tags
    Template.from_stack(alone)
    stack = new_stack()
    added = endpoint(stack, tags=tags)
    for alarm in alarms(stack, 10):
        added.add_rollback_alarm(alarm)
    message = refusal_of(stack)
    assert re.search(r"rollback alarm names 2\d\d\d", message)


def test_a_token_is_counted_at_its_longest() -> None:
    """A tag value known only at deploy (an import) counts 256 characters, SageMaker's limit."""
    base = carried_size(carried(_with_tags({"k": ""})))
    room = limit() - base
    # Literal filler that leaves less than 256 characters of room: the imported value may not fit.
    filler = {f"f{i:02d}": "v" * 100 for i in range((room - 200) // 118)}
    Template.from_stack(_with_tags({**filler, "k": "short"}))
    refusal_of(_with_tags({**filler, "k": Fn.import_value("TeamName")}))


def _with_tags(tags: dict[str, str]) -> Stack:
    stack = new_stack()
    endpoint(stack, tags=tags)
    return stack
