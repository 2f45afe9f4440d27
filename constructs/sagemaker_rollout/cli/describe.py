"""DescribeEndpoint through boto3, every failure turned into one clear line (exit 2).

The client is boto3's own: the normal credential chain, the region from `--region` or the
environment / profile, and `AWS_ENDPOINT_URL_SAGEMAKER` (or `AWS_ENDPOINT_URL`) honoured as boto3
does. Standard retries: throttling and transient server errors are retried by botocore.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
)

from .errors import CliError

#: Makes a SageMaker client for a region (None: boto3's default).
ClientFactory = Callable[[str | None], Any]

#: The message SageMaker gives for a missing endpoint (fact sheet, "Error behaviour to model").
_NOT_FOUND = "Could not find endpoint"


def sagemaker_client(region: str | None) -> Any:
    try:
        session = boto3.session.Session(region_name=region)
        return session.client("sagemaker",
                              config=Config(retries={"mode": "standard", "max_attempts": 5}))
    except NoRegionError:
        raise CliError("no AWS region: pass --region, or set AWS_REGION or a profile's "
                       "region") from None
    except BotoCoreError as error:
        raise CliError(f"cannot make a SageMaker client: {error}") from None


def region_of(client: Any) -> str:
    return str(client.meta.region_name)


def describe(client: Any, name: str) -> Mapping[str, Any]:
    """DescribeEndpoint(name), or a CliError that says what went wrong in one line."""
    try:
        answer: Mapping[str, Any] = client.describe_endpoint(EndpointName=name)
        return answer
    except ClientError as error:
        info = error.response.get("Error", {})
        code, message = str(info.get("Code", "")), str(info.get("Message", ""))
        if code == "ValidationException" and message.startswith(_NOT_FOUND):
            raise CliError(f"no endpoint named {name} in {region_of(client)} ({message})") \
                from None
        raise CliError(f"DescribeEndpoint {name} failed: {code}: {message}") from None
    except (NoCredentialsError, PartialCredentialsError) as error:
        raise CliError(f"no usable AWS credentials ({error}): configure them as for the AWS "
                       "CLI (AWS_PROFILE, AWS_ACCESS_KEY_ID...)") from None
    except BotoCoreError as error:
        raise CliError(f"DescribeEndpoint {name} failed: {error}") from None
