"""The endpoint's tags as a user sees them."""

from __future__ import annotations

from typing import Any

#: The handler keeps one bookkeeping tag (which request last deployed) under this prefix.
HANDLER_TAG_PREFIX = "sagemaker-rollout:"


def user_tags(sagemaker_client: Any, arn: str) -> list[dict[str, str]]:
    """The endpoint's tags less the handler's own bookkeeping tag."""
    tags: list[dict[str, str]] = sagemaker_client.list_tags(ResourceArn=arn)["Tags"]
    return [tag for tag in tags if not tag["Key"].startswith(HANDLER_TAG_PREFIX)]
