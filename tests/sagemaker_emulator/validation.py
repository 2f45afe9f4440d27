"""Server-side request validation.

Two layers:

* :func:`check_shape` walks the request against the SageMaker API model shipped in botocore and
  enforces what botocore does NOT check on the client (fact sheet, "Where validation happens":
  botocore validates only required members, types and minimums; maximums, enums and patterns
  reach the server). It also re-checks required members and minimums, for callers that turned
  client-side validation off.
* :func:`check_deployment` applies the cross-field rules of the fact sheet's UpdateEndpoint table
  and of the exclusions page. Their wording is *unverified* and comes from
  :class:`~sagemaker_emulator.errors.Messages`.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterable
from typing import Any

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape

from .errors import Messages, validation
from .timeline import GreenVariant

Json = dict[str, Any]


# --- layer 1: the botocore model --------------------------------------------------------------


@functools.cache
def _operation_model(operation: str) -> OperationModel:
    model = botocore.session.get_session().get_service_model("sagemaker")
    return model.operation_model(operation)


# The tag pattern `([\p{L}\p{Z}\p{N}_.:/=+\-@]*)` is a Java regex Python's `re` cannot compile.
_TAG_EXTRA = set("_.:/=+-@")


def _tag_chars_ok(value: str) -> bool:
    return all(
        unicodedata.category(c)[0] in "LZN" or c in _TAG_EXTRA for c in value
    )


@functools.cache
def _matcher(pattern: str) -> Callable[[str], bool] | None:
    if r"\p{L}\p{Z}\p{N}" in pattern:
        return _tag_chars_ok
    try:
        compiled = re.compile(pattern)
    except re.error:  # another Java-only construct: not enforced (documented gap)
        return None
    return lambda value: compiled.fullmatch(value) is not None


def _camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _constraint(value: object, path: str, text: str) -> str:
    # AWS's usual wording for model constraint violations (*unverified* for SageMaker).
    return f"Value '{value}' at '{path}' failed to satisfy constraint: Member must {text}"


def _walk(shape: Shape, value: object, path: str, errors: list[str]) -> None:
    meta = shape.metadata
    kind = shape.type_name
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            errors.append(_constraint(value, path, "be a structure"))
            return
        for required in shape.required_members:
            if value.get(required) is None:
                errors.append(_constraint(None, _join(path, required), "not be null"))
        for name, member in shape.members.items():
            if value.get(name) is not None:
                _walk(member, value[name], _join(path, name), errors)
    elif isinstance(shape, ListShape):
        if not isinstance(value, list):
            errors.append(_constraint(value, path, "be a list"))
            return
        _check_length(len(value), value, meta, path, errors)
        for i, item in enumerate(value, start=1):
            _walk(shape.member, item, f"{path}.{i}.member", errors)
    elif isinstance(shape, MapShape):
        if isinstance(value, dict):
            for key, item in value.items():
                _walk(shape.value, item, f"{path}.{key}", errors)
    elif kind == "string":
        if not isinstance(value, str):
            errors.append(_constraint(value, path, "be a string"))
            return
        _check_length(len(value), value, meta, path, errors)
        if "enum" in meta and value not in meta["enum"]:
            errors.append(
                _constraint(value, path, f"satisfy enum value set: [{', '.join(meta['enum'])}]")
            )
        matcher = _matcher(meta["pattern"]) if "pattern" in meta else None
        if matcher is not None and not matcher(value):
            errors.append(
                _constraint(value, path, f"satisfy regular expression pattern: {meta['pattern']}")
            )
    elif kind in ("integer", "long", "float", "double"):
        if isinstance(value, bool) or not isinstance(value, int | float):
            errors.append(_constraint(value, path, "be a number"))
            return
        if kind in ("integer", "long") and not float(value).is_integer():
            errors.append(_constraint(value, path, "be an integer"))
        if "min" in meta and value < meta["min"]:
            text = f"have value greater than or equal to {meta['min']}"
            errors.append(_constraint(value, path, text))
        if "max" in meta and value > meta["max"]:
            text = f"have value less than or equal to {meta['max']}"
            errors.append(_constraint(value, path, text))
    elif kind == "boolean" and not isinstance(value, bool):
        errors.append(_constraint(value, path, "be a boolean"))


def _join(path: str, name: str) -> str:
    return f"{path}.{_camel(name)}" if path else _camel(name)


def _check_length(
    length: int, value: object, meta: dict[str, Any], path: str, errors: list[str]
) -> None:
    if "min" in meta and length < meta["min"]:
        text = f"have length greater than or equal to {meta['min']}"
        errors.append(_constraint(value, path, text))
    if "max" in meta and length > meta["max"]:
        text = f"have length less than or equal to {meta['max']}"
        errors.append(_constraint(value, path, text))


def check_shape(operation: str, params: Json) -> None:
    """Reject ``params`` that break a constraint of the botocore model of ``operation``.

    Covers the fact sheet's field table: name pattern `[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}` and 63
    chars, enums (Type, CapacitySize.Type, VariantPropertyType, InstanceType), ranges
    (WaitIntervalInSeconds and TerminationWaitInSeconds 0..3600, MaximumExecutionTimeoutInSeconds
    600..28800, CapacitySize.Value >= 1), Alarms 1..10 and AlarmName 1..255 non-blank,
    ExcludeRetainedVariantProperties 0..3, Tags 0..50 with key 1..128 and value 0..256.
    """
    shape = _operation_model(operation).input_shape
    if shape is None:
        return
    errors: list[str] = []
    _walk(shape, params, "", errors)
    if errors:
        count = len(errors)
        noun = "error" if count == 1 else "errors"
        raise validation(f"{count} validation {noun} detected: " + "; ".join(errors), "shape")


# --- layer 2: cross-field deployment rules ----------------------------------------------------


def default_policy() -> Json:
    """The policy used when none is given.

    Source: fact sheet, "No policy given: blue/green with ALL_AT_ONCE traffic shifting
    (CloudFormation docs)". WaitInterval/TerminationWait 0 are the emulator's choice (*unverified*).
    """
    return {
        "TrafficRoutingConfiguration": {"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0},
        "TerminationWaitInSeconds": 0,
    }


def effective_deployment_config(config: Json | None) -> Json:
    """``config`` with the default blue/green ALL_AT_ONCE policy filled in when it has none."""
    result = dict(config or {})
    if "BlueGreenUpdatePolicy" not in result and "RollingUpdatePolicy" not in result:
        result["BlueGreenUpdatePolicy"] = default_policy()
    return result


def share_percent(size: Json, count: int) -> float:
    """A CapacitySize as a percentage of ``count`` instances."""
    if size["Type"] == "CAPACITY_PERCENT":
        return float(size["Value"])
    return float(100.0 * size["Value"] / count)


def _describe(size: Json) -> str:
    unit = "%" if size["Type"] == "CAPACITY_PERCENT" else " instance(s)"
    return f"{size['Value']}{unit}"


def check_deployment(
    config: Json,
    *,
    guarded: bool,
    old_variant_names: Iterable[str],
    new_config_name: str,
    green: list[GreenVariant],
    messages: Messages,
    known_alarms: frozenset[str] | None,
) -> None:
    """Apply the fact sheet's UpdateEndpoint rules to an effective DeploymentConfig.

    ``guarded`` is true when the caller asked for a DeploymentConfig (given or retained): the
    exclusions page's variant-name rule applies to guardrail deployments only.
    ``green`` is the new fleet (instance counts after RetainAllVariantProperties).
    """
    blue_green: Json | None = config.get("BlueGreenUpdatePolicy")
    rolling: Json | None = config.get("RollingUpdatePolicy")
    serverless = any(v.serverless is not None for v in green)
    old_names = sorted(old_variant_names)
    new_names = sorted(v.name for v in green)

    # Fact sheet: "Only one update policy: BlueGreenUpdatePolicy or RollingUpdatePolicy, not both
    # (CloudFormation docs for BlueGreenUpdatePolicy)".
    if blue_green is not None and rolling is not None:
        raise messages.rule("one-policy")

    if blue_green is not None:
        routing = blue_green["TrafficRoutingConfiguration"]
        kind = routing["Type"]
        waits = routing["WaitIntervalInSeconds"] + blue_green.get("TerminationWaitInSeconds", 0)
        # Fact sheet, exclusions: serverless endpoints do not support blue/green traffic shifting
        # beyond ALL_AT_ONCE (*unverified* detail).
        if serverless and kind != "ALL_AT_ONCE":
            raise messages.rule("serverless-traffic-shifting", type=kind)
        for variant in green:
            if variant.instance_count is None:
                continue
            count = variant.instance_count
            if kind == "CANARY" and "CanarySize" in routing:
                # Fact sheet: CanarySize "must be less than or equal to 50% of the variant's
                # total instance count" (botocore model documentation).
                size = routing["CanarySize"]
                if share_percent(size, count) > 50:
                    raise messages.rule(
                        "canary-size", variant=variant.name, size=_describe(size), count=count
                    )
            if kind == "LINEAR" and "LinearStepSize" in routing:
                # Fact sheet: LinearStepSize "must be 10-50% of the variant's total instance
                # count" (botocore model documentation).
                size = routing["LinearStepSize"]
                if not 10 <= share_percent(size, count) <= 50:
                    raise messages.rule(
                        "linear-step", variant=variant.name, size=_describe(size), count=count
                    )
        # *Unverified*: CanarySize / LinearStepSize missing for CANARY / LINEAR. The model
        # makes them optional; the emulator then uses 1 instance / 10% (see timeline.py).
        timeout = blue_green.get("MaximumExecutionTimeoutInSeconds")
    elif rolling is not None:
        # Fact sheet, exclusions: "Rolling deployments do not support serverless endpoints or
        # endpoints with more than one variant."
        if serverless:
            raise messages.rule("rolling-serverless")
        if len(green) > 1 or len(old_names) > 1:
            raise messages.rule("rolling-multi-variant")
        variant = green[0]
        count = variant.instance_count or 1
        size = rolling["MaximumBatchSize"]
        # Fact sheet: MaximumBatchSize "between 5% to 50% of the variant's total instance count",
        # counted against the new config's variant (the green fleet).
        if not 5 <= share_percent(size, count) <= 50:
            raise messages.rule(
                "rolling-batch", variant=variant.name, size=_describe(size), count=count
            )
        waits = rolling["WaitIntervalInSeconds"]
        timeout = rolling.get("MaximumExecutionTimeoutInSeconds")
    else:  # pragma: no cover - effective_deployment_config always sets a policy
        raise AssertionError("no update policy")

    # Fact sheet, exclusions: "The new endpoint config must keep the same variant name(s) as the
    # old one for guardrails."
    if guarded and old_names != new_names:
        raise messages.rule(
            "variant-names",
            new_config=new_config_name,
            old_variants=", ".join(old_names),
            new_variants=", ".join(new_names),
        )

    # Fact sheet: MaximumExecutionTimeoutInSeconds "should be larger than the total waiting time
    # specified in TerminationWaitInSeconds and WaitIntervalInSeconds". Read literally: the sum of
    # the two fields (not WaitInterval times the number of steps) (*unverified* reading).
    if timeout is not None and timeout <= waits:
        raise messages.rule("timeout-vs-waits", timeout=timeout, waits=waits)

    # *Unverified*: the server's answer for nonexistent alarms. Enforced only when the test gives
    # the emulator a set of known alarm names.
    if known_alarms is not None:
        for alarm in config.get("AutoRollbackConfiguration", {}).get("Alarms", []):
            if alarm["AlarmName"] not in known_alarms:
                raise messages.rule("unknown-alarm", alarm=alarm["AlarmName"])


def check_endpoint_config(params: Json, messages: Messages) -> None:
    """CreateEndpointConfig cross-field checks (beyond the botocore model)."""
    seen: set[str] = set()
    for variant in params["ProductionVariants"]:
        name = variant["VariantName"]
        # *Unverified* wording; unique variant names are implied by every API that addresses a
        # variant by name (UpdateEndpointWeightsAndCapacities, InvokeEndpoint TargetVariant).
        if name.lower() in seen:
            raise messages.rule("variant-duplicate", variant=name)
        seen.add(name.lower())
        provisioned = "InitialInstanceCount" in variant and "InstanceType" in variant
        if not provisioned and "ServerlessConfig" not in variant and "InstancePools" not in variant:
            raise messages.rule("variant-capacity", variant=name)
