"""SageMaker resource names: the rules SageMaker applies, and the default endpoint name."""

from __future__ import annotations

import re

from aws_cdk import Annotations, Names
from sagemaker_rollout_handler.contract import ENDPOINT_NAME_MAX_LENGTH, ENDPOINT_NAME_PATTERN

from constructs import Construct, IConstruct

from .rules import Rule, WarningId, refuse
from .tokens import is_unresolved

#: SageMaker's pattern for endpoint, endpoint-config, model and variant names (botocore model):
#: the endpoint name's, which the handler checks too.
NAME_PATTERN = ENDPOINT_NAME_PATTERN

#: The longest name SageMaker accepts for an endpoint, endpoint config, model or variant.
MAX_NAME_LENGTH = ENDPOINT_NAME_MAX_LENGTH

_ALLOWED = (
    f"1 to {MAX_NAME_LENGTH} characters: letters, digits and hyphens, starting and ending with a "
    f"letter or digit (pattern {NAME_PATTERN.pattern})"
)


def check_name(errors: list[str], field: str, value: str) -> None:
    """Append a refusal to `errors` unless ``value`` is a valid SageMaker name; tokens are not
    checked.

    :param field: the name of the property as the user wrote it, for the message.
    :param value: the name to check.
    """
    if is_unresolved(value):
        return
    if isinstance(value, str) and NAME_PATTERN.fullmatch(value) is not None:
        return
    errors.append(refuse(Rule.SAGEMAKER_NAME, field, repr(value), _ALLOWED, _name_fix(value)))


def _name_fix(value: object) -> str:
    """A valid name close to `value`: other characters become hyphens, cut to 63."""
    if not isinstance(value, str):
        return "pass a string."
    name = re.sub(r"[^a-zA-Z0-9]+", "-", value).strip("-")[:MAX_NAME_LENGTH].rstrip("-")
    if not name:
        return "use letters and digits, such as 'my-endpoint'."
    return f"use {name!r}."


def default_endpoint_name(construct: IConstruct) -> str:
    """A valid endpoint name derived from the construct's path, stable across deployments.

    The name depends only on the construct's path in the app (stack id included), so it stays
    the same from one deployment to the next, and differs between two constructs of the same app.
    Long paths are shortened by ``Names.unique_resource_name``, which keeps a hash of the full path.
    """
    name = Names.unique_resource_name(
        construct, max_length=MAX_NAME_LENGTH, separator="-", allowed_special_characters="-"
    ).strip("-")
    # unique_resource_name keeps only [A-Za-z0-9] and the separator and ends with a hash, so this
    # holds; fail loudly rather than deploy an endpoint SageMaker would reject.
    if NAME_PATTERN.fullmatch(name) is None:  # pragma: no cover - defensive
        raise RuntimeError(f"generated endpoint name {name!r} does not match {_ALLOWED}")
    return name


def arn_name(scope: Construct, endpoint_name: str) -> str:
    """The endpoint's name as its ARN has it: lower-cased (SageMaker lower-cases names in ARNs);
    a token is kept as it is, with a warning."""
    if not is_unresolved(endpoint_name):
        return endpoint_name.lower()
    Annotations.of(scope).add_warning_v2(
        WarningId.ENDPOINT_NAME_TOKEN.full_id,
        "endpoint_name is a token: the IAM policy uses it as it is, but SageMaker lower-cases "
        "names in ARNs, so the deployed name must be lower-case (or pass a literal name).",
    )
    return endpoint_name
