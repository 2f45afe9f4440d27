"""``tokens.is_unresolved`` gives aws-cdk-lib's own answer, and gives it without a round trip to
jsii's Node process for plain strings and numbers (the synth cost of many endpoints)."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest import mock

import jsii
import pytest
from aws_cdk import (
    Aws,
    CfnParameter,
    Fn,
    IStableAnyProducer,
    IStableListProducer,
    IStableNumberProducer,
    IStableStringProducer,
    Lazy,
    Token,
)
from construct_support import new_stack
from hypothesis import given, settings
from hypothesis import strategies as st
from sagemaker_rollout import tokens
from sagemaker_rollout.tokens import is_unresolved


@contextmanager
def no_round_trips() -> Iterator[None]:
    """Fail if ``Token.is_unresolved`` (a round trip to Node) is asked."""
    with mock.patch.object(tokens.Token, "is_unresolved",
                           side_effect=AssertionError("asked jsii's Node process")):
        yield


def token_double(n: int) -> float:
    """A double with aws-cdk-lib's token marker bits (``createTokenDouble``)."""
    return float(struct.unpack("<d", struct.pack("<Q", (0xFBFF << 48) | n))[0])


PLAIN = [
    "", "AllTraffic", "ml.m5.large", "Token", "{Token}", "$Token", "#{Token}", "Token(1)",
    "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/x", 0, 1, -1, 2**53, 10**400, 0.5,
    -1.8e289, float("inf"), float("-inf"), float("nan"), True, False, None,
]
#: What jsii can send to Node at all (JSON has no infinities, no NaN, no 10**400).
SENDABLE = [v for v in PLAIN if not (isinstance(v, float) and not abs(v) < float("inf"))
            and not (isinstance(v, int) and abs(v) > 2**64)]


@pytest.mark.parametrize("value", PLAIN, ids=repr)
def test_plain_values_are_resolved_without_asking_node(value: Any) -> None:
    with no_round_trips():
        assert is_unresolved(value) is False


@pytest.mark.parametrize("value", SENDABLE, ids=repr)
def test_plain_values_agree_with_token_is_unresolved(value: Any) -> None:
    assert is_unresolved(value) == Token.is_unresolved(value)


def real_tokens() -> list[Any]:
    stack = new_stack()
    parameter = CfnParameter(stack, "Count", type="Number")
    return [
        Aws.REGION,
        Aws.ACCOUNT_ID,
        f"ml.{Aws.REGION}.large",
        Fn.ref("Something"),
        Token.as_string({"Ref": "Something"}),
        Token.as_number({"Ref": "Something"}),
        parameter.value_as_number,
        parameter.value_as_string,
        Lazy.string(_Produce("x")),
        Lazy.number(_Produce(3)),
        Lazy.list(_Produce(["a"])),
        Token.as_list({"Ref": "Something"}),
        Lazy.any(_Produce({"a": 1})),
    ]


@jsii.implements(IStableStringProducer, IStableNumberProducer, IStableListProducer,
                 IStableAnyProducer)
class _Produce:
    def __init__(self, value: Any) -> None:
        self.value = value

    def produce(self) -> Any:
        return self.value


def test_real_tokens_of_every_kind_are_unresolved() -> None:
    for token in real_tokens():
        assert Token.is_unresolved(token), token
        assert is_unresolved(token), token


def test_a_double_with_the_token_marker_bits_is_asked_of_node() -> None:
    # Node decides: aws-cdk-lib's answer, whatever the marker test says.
    value = token_double(12345)
    assert is_unresolved(value) == Token.is_unresolved(value)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_any_text_agrees_with_token_is_unresolved(text: str) -> None:
    assert is_unresolved(text) == Token.is_unresolved(text)


@settings(max_examples=200, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False)
       | st.integers(min_value=-(2**62), max_value=2**62))
def test_any_number_agrees_with_token_is_unresolved(number: float) -> None:
    assert is_unresolved(number) == Token.is_unresolved(number)

