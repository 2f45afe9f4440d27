"""`aws_cdk.Duration`s to the API's whole seconds: converted once, range-checked, refused clearly.

The strategies and traffic routings take `Duration`s and convert them here, once, when they are
built: each conversion is a round trip to jsii's Node process, and the rest of the library works
on whole seconds (units are converted only to render, as aws-cdk's L2s do).

Every check appends its refusal to a list of errors instead of raising, so that a factory can
report every broken rule at once (`raise_refusals`).
"""

from __future__ import annotations

import math
import weakref

from aws_cdk import Duration
from sagemaker_rollout_handler.contract import (
    MAX_SERVICE_TIMEOUT_SECONDS,
    MIN_SERVICE_TIMEOUT_SECONDS,
)

from .rules import Rule, raise_refusals, refusal
from .time_budget import human
from .tokens import is_unresolved

__all__ = ["MAX_WAIT_SECONDS", "raise_refusals", "service_timeout_seconds", "wait_seconds",
           "whole_seconds"]

#: WaitIntervalInSeconds 0..3600: the bake after a canary, a linear step or a rolling batch
#: (botocore model TrafficRoutingConfig, RollingUpdatePolicy; fact sheet, "UpdateEndpoint
#: request").
MAX_WAIT_SECONDS = 3600

#: Durations converted already (a Duration never changes), such as the service timeout that every
#: endpoint passes to `bind`.
_CONVERTED: weakref.WeakKeyDictionary[Duration, float | None] = weakref.WeakKeyDictionary()


def whole_seconds(
    errors: list[str],
    what: str,
    value: Duration,
    *,
    low: int,
    high: int,
    rule: Rule,
    fix: str,
) -> int:
    """`value` in whole seconds, range-checked; appends a refusal to `errors` when it is not.

    :param what: the field, as the user wrote it (``canary bake_time``), for the message.
    :param rule: the rule of the range ``low..high``.
    :param fix: what to do instead, when out of range.
    :raises TypeError: when `value` is not a Duration at all.
    """
    if not isinstance(value, Duration):
        raise TypeError(
            f"{what} {value!r} is not allowed: allowed is an aws_cdk.Duration, such as "
            "Duration.minutes(5)"
        )
    exact = _exact_seconds(value)
    if exact is None:
        errors.append(
            refusal(
                Rule.CONCRETE_VALUES,
                f"{what} is an unresolved token ({value.to_string()}); the limit is a concrete "
                "Duration, because the time budget is checked at synth time. Fix: pass a "
                "concrete Duration.",
            )
        )
        return low
    if not float(exact).is_integer():
        # The API takes integers of seconds (botocore model: *InSeconds are integers).
        errors.append(
            refusal(
                Rule.WHOLE_SECONDS,
                f"{what} = {value.to_human_string()} ({exact:g} s) is not a whole number of "
                f"seconds; SageMaker takes whole seconds. Fix: use "
                f"Duration.seconds({math.floor(exact)}) or Duration.seconds({math.ceil(exact)}).",
            )
        )
        return low
    seconds = int(exact)
    if not low <= seconds <= high:
        errors.append(
            refusal(
                rule,
                f"{what} = {human(seconds)} is outside {low}..{high} s ({rule.summary}). "
                f"Fix: {fix}",
            )
        )
    return seconds


def wait_seconds(errors: list[str], what: str, value: Duration) -> int:
    """A bake (WaitIntervalInSeconds) in whole seconds, 0..3600."""
    return whole_seconds(
        errors, what, value, low=0, high=MAX_WAIT_SECONDS, rule=Rule.WAIT_RANGE,
        fix="use a wait from Duration.seconds(0) to Duration.hours(1).",
    )


def _exact_seconds(value: Duration) -> float | None:
    """`value` in seconds (maybe fractional), or None when it is a token: one round trip to jsii's
    Node process per Duration, instead of `is_unresolved()` and `to_seconds()` on every use."""
    if value in _CONVERTED:
        return _CONVERTED[value]
    exact = _convert(value)
    _CONVERTED[value] = exact
    return exact


def _convert(value: Duration) -> float | None:
    try:
        exact = value.to_seconds(integral=False)
    except RuntimeError:
        # aws-cdk-lib refuses to convert a token given in another unit than seconds.
        if value.is_unresolved():
            return None
        raise
    # A token given in seconds converts to itself: a token-encoded number.
    return None if is_unresolved(exact) else exact


def service_timeout_seconds(errors: list[str], service_timeout: Duration) -> int:
    """The custom resource's ServiceTimeout in whole seconds, 1..3600 (custom-resources fact
    sheet: AWS::CloudFormation::CustomResource ServiceTimeout)."""
    return whole_seconds(
        errors, "service_timeout", service_timeout, low=MIN_SERVICE_TIMEOUT_SECONDS,
        high=MAX_SERVICE_TIMEOUT_SECONDS, rule=Rule.SERVICE_TIMEOUT_RANGE,
        fix="use at most Duration.hours(1).",
    )
