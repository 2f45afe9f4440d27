"""Telling a token from a plain value without asking jsii's Node process when the answer is plain.

``Token.is_unresolved`` is a round trip to the Node process that runs aws-cdk-lib: a fraction of a
millisecond each, and the construct checks a dozen values per endpoint (names, counts, types,
sizes), so for a stack of many endpoints they were a visible share of ``cdk synth`` (the README's
Benchmark section). Most values are plain strings and numbers, which can be told apart from tokens
in Python by the same test aws-cdk-lib makes (``core/lib/private/encoding.ts``, ``unresolved``):

- a string can only be a token if it contains ``Token[`` (the marker of string tokens
  ``${Token[...]}`` and of list tokens ``#{Token[...]}``);
- a number can only be a token if it is one of the doubles ``createTokenDouble`` makes: the upper
  16 bits of its IEEE 754 representation are ``0xFBFF`` (``DOUBLE_TOKEN_MARKER_BITS``).

Anything else (and any value that passes those first tests) is asked of ``Token.is_unresolved``,
so the answer is always aws-cdk-lib's own; ``tests/test_construct_tokens.py`` checks that the two
agree on plain values and on real tokens of every kind.
"""

from __future__ import annotations

import struct

from aws_cdk import Token

#: aws-cdk-lib's ``ANY_TOKEN_MARKER``: in every string and list token.
_TOKEN_MARKER = "Token["
#: The upper 16 bits of a token-encoded double (``DOUBLE_TOKEN_MARKER_BITS``, 0xFBFF << 16).
_DOUBLE_TOKEN_MARKER = 0xFBFF


def is_unresolved(value: object) -> bool:
    """``Token.is_unresolved(value)``, answered in Python for plain strings and numbers."""
    if isinstance(value, str):
        return _TOKEN_MARKER in value and Token.is_unresolved(value)
    if isinstance(value, int | float):
        return _may_be_token_double(value) and Token.is_unresolved(value)
    if value is None:
        return False
    return Token.is_unresolved(value)


def _may_be_token_double(value: int | float) -> bool:
    try:
        bits: int = struct.unpack("<Q", struct.pack("<d", float(value)))[0]
    except OverflowError:  # an int beyond any double: not something aws-cdk-lib encodes
        return False
    return bits >> 48 == _DOUBLE_TOKEN_MARKER
