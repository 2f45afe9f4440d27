"""The thin layer over the boto3 SageMaker client: calls in, `Observation`s out.

Retries of throttling and transient 5xx errors are botocore's job first (standard retry mode,
fact sheet: "ThrottlingException is retried by botocore's standard and adaptive retry modes").
What outlasts its attempts (throttling, 5xx, a dropped connection: issue 17.5) comes out as a
`SageMakerError` marked ``transient``: the wait looks again later, until its deadline. Every
other botocore exception (BotoCoreError) becomes a SageMakerError too, so nothing but a
SageMakerError ever escapes a call (issue 17.3).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from .decisions import Observation, Phase

#: botocore's standard retry mode with more attempts than its default 3: a rollout waits for
#: minutes, a few seconds of backoff are cheap, and a FAILED stack is not.
CLIENT_CONFIG = Config(
    retries={"mode": "standard", "max_attempts": 8}, connect_timeout=10, read_timeout=30
)


def default_client() -> Any:
    return boto3.client("sagemaker", config=CLIENT_CONFIG)


class SageMakerError(Exception):
    """A SageMaker call that failed for good: its code and SageMaker's own words."""

    def __init__(self, operation: str, code: str, message: str, *, transient: bool = False
                 ) -> None:
        super().__init__(f"{operation} failed: {code}: {message}")
        self.operation = operation
        self.code = code
        self.message = message
        #: Worth trying again later: throttling, a 5xx, a connection that failed.
        self.transient = transient


#: Error codes botocore's standard mode retries as throttling or transient (botocore
#: retries/standard.py), and HTTP statuses of server faults.
_TRANSIENT_CODES = frozenset({
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException",
    "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
    "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
    "EC2ThrottledException", "RequestTimeout", "RequestTimeoutException", "InternalError",
    "InternalFailure", "ServiceUnavailable", "ServiceUnavailableException",
})

class Endpoints:
    """DescribeEndpoint / CreateEndpoint / UpdateEndpoint / DeleteEndpoint and tags."""

    def __init__(self, client: Any) -> None:
        self._client = _Guarded(client)

    def describe(self, name: str, *, denied_means_absent: bool = False) -> Observation | None:
        """The endpoint's state, or None when it does not exist (or, with
        `denied_means_absent`, when IAM denies the call: see `_is_not_ours`)."""
        try:
            answer = self._client.describe_endpoint(EndpointName=name)
        except ClientError as error:
            if _is_not_found(error, "Could not find endpoint"):
                return None
            if denied_means_absent and _is_not_ours(error):
                return None
            raise _wrap("DescribeEndpoint", error) from error
        return observation_from(answer)

    def config_exists(self, name: str) -> bool:
        try:
            self._client.describe_endpoint_config(EndpointConfigName=name)
        except ClientError as error:
            if _is_not_found(error, "Could not find endpoint configuration"):
                return False
            raise _wrap("DescribeEndpointConfig", error) from error
        return True

    def config_created(self, name: str) -> float | None:
        """The config's CreationTime (epoch seconds), None when it does not exist."""
        try:
            answer = self._client.describe_endpoint_config(EndpointConfigName=name)
        except ClientError as error:
            if _is_not_found(error, "Could not find endpoint configuration"):
                return None
            raise _wrap("DescribeEndpointConfig", error) from error
        return _epoch(answer.get("CreationTime"))

    def delete_config(self, name: str) -> None:
        """DeleteEndpointConfig; a config already gone is fine."""
        try:
            self._client.delete_endpoint_config(EndpointConfigName=name)
        except ClientError as error:
            if _is_not_found(error, "Could not find endpoint configuration"):
                return
            raise _wrap("DeleteEndpointConfig", error) from error

    def create(self, params: Mapping[str, Any]) -> None:
        self._call("CreateEndpoint", self._client.create_endpoint, params)

    def update(self, params: Mapping[str, Any]) -> None:
        self._call("UpdateEndpoint", self._client.update_endpoint, params)

    def delete(self, name: str) -> None:
        try:
            self._client.delete_endpoint(EndpointName=name)
        except ClientError as error:
            if _is_not_found(error, "Could not find endpoint") or _is_not_ours(error):
                return
            raise _wrap("DeleteEndpoint", error) from error

    def tags(self, arn: str) -> dict[str, str]:
        try:
            answer = self._client.list_tags(ResourceArn=arn, MaxResults=100)
        except ClientError as error:
            raise _wrap("ListTags", error) from error
        return {tag["Key"]: tag.get("Value", "") for tag in answer.get("Tags", [])}

    def add_tags(self, arn: str, tags: Mapping[str, str]) -> None:
        pairs = [{"Key": key, "Value": value} for key, value in sorted(tags.items())]
        self._call("AddTags", self._client.add_tags, {"ResourceArn": arn, "Tags": pairs})

    def sync_tags(self, arn: str, old: Mapping[str, str], new: Mapping[str, str]) -> None:
        """Make the endpoint's tags managed by the stack go from `old` to `new`."""
        removed = sorted(set(old) - set(new))
        changed = {key: value for key, value in new.items() if old.get(key) != value}
        if removed:
            self._call("DeleteTags", self._client.delete_tags, {"ResourceArn": arn,
                                                               "TagKeys": removed})
        if changed:
            tags = [{"Key": key, "Value": value} for key, value in sorted(changed.items())]
            self._call("AddTags", self._client.add_tags, {"ResourceArn": arn, "Tags": tags})

    @staticmethod
    def _call(operation: str, method: Any, params: Mapping[str, Any]) -> None:
        try:
            method(**params)
        except ClientError as error:
            raise _wrap(operation, error) from error


def observation_from(answer: Mapping[str, Any]) -> Observation:
    pending = answer.get("PendingDeploymentSummary") or {}
    phases = tuple(
        Phase(
            variant_name=variant.get("VariantName", ""),
            status=status.get("Status", ""),
            message=status.get("StatusMessage", ""),
            start_time=_epoch(status.get("StartTime")),
        )
        for variant in pending.get("ProductionVariants", [])
        for status in variant.get("VariantStatus", [])
    )
    return Observation(
        status=answer["EndpointStatus"],
        config_name=answer.get("EndpointConfigName", ""),
        endpoint_arn=answer.get("EndpointArn", ""),
        pending_config_name=pending.get("EndpointConfigName"),
        failure_reason=answer.get("FailureReason", "") or "",
        phases=phases,
    )


def _epoch(value: Any) -> float:
    if value is None:
        return 0.0
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    return float(value)


def _is_not_found(error: ClientError, prefix: str) -> bool:
    info = error.response.get("Error", {})
    return info.get("Code") == "ValidationException" and str(info.get("Message", "")).startswith(
        prefix
    )


def _is_not_ours(error: ClientError) -> bool:
    """AccessDenied on an endpoint: the provider's policy reaches only endpoints that carry the
    stack's ownership tag, and an endpoint that does not exist has no tags, so IAM may refuse
    before SageMaker could say "Could not find endpoint" (an assumption no source settles: the
    security docs). Either way the endpoint is not there for this resource: nothing to delete, and
    a Create that finds the name taken fails with SageMaker's own message."""
    return error.response.get("Error", {}).get("Code") in ("AccessDeniedException", "AccessDenied")


def _wrap(operation: str, error: ClientError) -> SageMakerError:
    info = error.response.get("Error", {})
    code = str(info.get("Code", "Unknown"))
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return SageMakerError(operation, code, str(info.get("Message", "")),
                          transient=code in _TRANSIENT_CODES or status >= 500)


class _Guarded:
    """The boto3 client, whose non-API exceptions (a dropped connection, a timeout: botocore's
    BotoCoreError family) come out as SageMakerError."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        def call(**params: Any) -> Any:
            try:
                return method(**params)
            except BotoCoreError as error:
                transient = isinstance(error, BotoConnectionError | HTTPClientError)
                raise SageMakerError(_operation_name(name), type(error).__name__, str(error),
                                     transient=transient) from error

        return call


def _operation_name(method: str) -> str:
    return "".join(part.capitalize() for part in method.split("_"))


def is_in_progress_refusal(error: SageMakerError) -> bool:
    """SageMaker refused because the endpoint is busy: a race, not a failure (wait and retry)."""
    return error.code == "ValidationException" and error.message.startswith(
        "Cannot update in-progress endpoint"
    )
