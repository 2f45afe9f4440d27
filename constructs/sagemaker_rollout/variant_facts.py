"""What a deployment strategy knows about the endpoint's production variants, and when.

`VariantFacts` is what the construct passes to `DeploymentStrategy.bind`; any of its values may
be a token. `ResolvedVariant` is the same variant as the rules see it: each value resolved now
if it can be (a `Lazy` already produced), else marked unknown, so that the checks that need it
are deferred to synth time or skipped with a warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_cdk import Stack

from constructs import Construct

from .tokens import is_unresolved


@dataclass(frozen=True)
class VariantFacts:
    """What the construct knows about one production variant when it renders the deployment."""

    variant_name: str
    #: None for a serverless variant; may be a token.
    instance_type: str | None
    #: None for a serverless variant; may be a token (a float that encodes it).
    initial_instance_count: int | float | None
    serverless: bool


@dataclass(frozen=True)
class ResolvedVariant:
    """A variant's facts with its tokens resolved as far as they can be."""

    name: str
    serverless: bool
    #: None: serverless, or a token not resolved yet.
    instance_count: int | None
    #: None: serverless, or a token not resolved yet.
    instance_type: str | None
    count_unknown: bool = False
    type_unknown: bool = False
    #: The count as given, when it is not a whole number.
    given_count: float | None = None

    @property
    def unknown(self) -> bool:
        return self.count_unknown or self.type_unknown

    @staticmethod
    def concrete(facts: VariantFacts) -> ResolvedVariant:
        """`facts` without resolving any token (a token is unknown)."""
        return ResolvedVariant.resolve(None, facts)

    @staticmethod
    def resolve(scope: Construct | None, facts: VariantFacts) -> ResolvedVariant:
        """`facts`, with each token resolved in `scope`'s stack if it can be."""
        if facts.serverless:
            return ResolvedVariant(facts.variant_name, True, None, None)
        count = _resolved(scope, facts.initial_instance_count)
        kind = _resolved(scope, facts.instance_type)
        if isinstance(count, int | float) and not float(count).is_integer():
            # Not a whole number of instances: planned as 0, refused by the rules with the value.
            return ResolvedVariant(facts.variant_name, False, 0,
                                   kind if isinstance(kind, str) else None, given_count=count)
        return ResolvedVariant(
            facts.variant_name,
            False,
            int(count) if isinstance(count, int | float) else None,
            kind if isinstance(kind, str) else None,
            count_unknown=not isinstance(count, int | float),
            type_unknown=facts.instance_type is not None and not isinstance(kind, str),
        )


def _resolved(scope: Construct | None, value: Any) -> Any:
    """`value`, resolved now if it is a token that can be (a `Lazy` already produced); None if
    it cannot be resolved yet."""
    if value is None or not is_unresolved(value):
        return value
    if scope is None:
        return None
    result = Stack.of(scope).resolve(value)
    if isinstance(result, bool) or is_unresolved(result):
        return None
    return result if isinstance(result, int | float | str) else None
