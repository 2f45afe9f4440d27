"""What an EndpointConfig holds besides its variants: data capture and asynchronous inference.

Both are part of the EndpointConfig, so changing them is a new config and a guarded deployment
like any other change. Limits are those of the botocore SageMaker model (``DataCaptureConfig``,
``AsyncInferenceConfig``); tokens are not checked at synth.

Permissions: SageMaker writes captured data, asynchronous results and SNS notifications with the
execution role of the model (``CfnModel.execution_role_arn`` / the alpha ``Model``'s role): grant
that role ``bucket.grant_put(...)`` (and ``topic.grant_publish(...)``, ``key.grant_encrypt(...)``).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import CfnDeletionPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns

from constructs import Construct

from .rules import Rule, raise_refusals, refuse
from .tokens import is_unresolved
from .variants import ProductionVariant

_MAX_CONTENT_TYPES = 10
_MAX_CONCURRENT_INVOCATIONS = 1000


def _percentage(value: object) -> int:
    """The whole percentage nearest to `value` (100 for what is no number)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return 100
    return int(min(100, max(0, round(value)))) if abs(value) != float("inf") else 100


def _s3_uri(bucket: s3.IBucket, prefix: str | None) -> str:
    if not prefix:
        return f"s3://{bucket.bucket_name}/"
    return f"s3://{bucket.bucket_name}/{prefix.lstrip('/')}"


def _check_content_types(errors: list[str], field: str, content_types: Sequence[str]) -> None:
    if len(content_types) > _MAX_CONTENT_TYPES:
        errors.append(refuse(
            Rule.CONTENT_TYPES_AT_MOST_10, field, f"{len(content_types)} content types",
            f"1 to {_MAX_CONTENT_TYPES} content types (CaptureContentTypeHeader)",
            f"keep the {_MAX_CONTENT_TYPES} your clients send; the others are captured "
            "base64-encoded."))


class DataCapture:
    """Capture requests and responses of the endpoint to S3 (for Model Monitor, debugging).

    Example::

        DataCapture(bucket=bucket, prefix="capture/my-endpoint", sampling_percentage=20)
    """

    def __init__(
        self,
        *,
        bucket: s3.IBucket,
        prefix: str | None = None,
        sampling_percentage: int = 100,
        capture_input: bool = True,
        capture_output: bool = True,
        kms_key: kms.IKey | None = None,
        csv_content_types: Sequence[str] = (),
        json_content_types: Sequence[str] = (),
        enabled: bool = True,
    ) -> None:
        """
        :param bucket: the bucket captured data is written to.
        :param prefix: the key prefix in the bucket. Default: - the bucket's root
        :param sampling_percentage: the share of requests captured, 0..100. Lower it for
            endpoints with high traffic. Default: - 100
        :param capture_input: capture the requests. Default: - true
        :param capture_output: capture the responses. Default: - true
        :param kms_key: the key SageMaker encrypts captured data with (S3 server-side
            encryption). Default: - the bucket's default encryption
        :param csv_content_types: content types captured as CSV (at most 10).
            Default: - none (captured data is base64-encoded unless typed)
        :param json_content_types: content types captured as JSON (at most 10).
            Default: - none
        :param enabled: capture at all; false keeps the settings in the config but captures
            nothing. Default: - true
        """
        errors: list[str] = []
        if not is_unresolved(sampling_percentage) and (
            isinstance(sampling_percentage, bool)
            or not isinstance(sampling_percentage, int)
            or not 0 <= sampling_percentage <= 100
        ):
            errors.append(refuse(
                Rule.SAMPLING_PERCENTAGE, "sampling_percentage", repr(sampling_percentage),
                "a whole number from 0 to 100 (InitialSamplingPercentage)",
                f"use {_percentage(sampling_percentage)}."))
        if not (capture_input or capture_output):
            errors.append(refuse(
                Rule.CAPTURE_SOMETHING, "capture_input / capture_output", "False / False",
                "capturing the requests, the responses or both (CaptureOptions needs 1 item)",
                "capture one of them, or pass enabled=False to capture nothing."))
        _check_content_types(errors, "csv_content_types", csv_content_types)
        _check_content_types(errors, "json_content_types", json_content_types)
        raise_refusals(errors, "DataCapture")
        self.bucket = bucket
        self.prefix = prefix
        self.sampling_percentage = sampling_percentage
        self.capture_input = capture_input
        self.capture_output = capture_output
        self.kms_key = kms_key
        self.csv_content_types = list(csv_content_types)
        self.json_content_types = list(json_content_types)
        self.enabled = enabled

    @property
    def destination_s3_uri(self) -> str:
        """The S3 URI data is captured to."""
        return _s3_uri(self.bucket, self.prefix)

    def render(self) -> sagemaker.CfnEndpointConfig.DataCaptureConfigProperty:
        """The ``DataCaptureConfig`` of ``AWS::SageMaker::EndpointConfig``."""
        modes = [
            mode
            for mode, on in (("Input", self.capture_input), ("Output", self.capture_output))
            if on
        ]
        header = None
        if self.csv_content_types or self.json_content_types:
            header = sagemaker.CfnEndpointConfig.CaptureContentTypeHeaderProperty(
                csv_content_types=self.csv_content_types or None,
                json_content_types=self.json_content_types or None,
            )
        return sagemaker.CfnEndpointConfig.DataCaptureConfigProperty(
            capture_options=[
                sagemaker.CfnEndpointConfig.CaptureOptionProperty(capture_mode=mode)
                for mode in modes
            ],
            destination_s3_uri=self.destination_s3_uri,
            initial_sampling_percentage=self.sampling_percentage,
            enable_capture=self.enabled,
            kms_key_id=self.kms_key.key_arn if self.kms_key is not None else None,
            capture_content_type_header=header,
        )


class AsyncInference:
    """Make the endpoint asynchronous: requests are queued (``InvokeEndpointAsync``) and results
    written to S3.

    Asynchronous endpoints run on instances (not serverless); their instance count may scale to
    0 (``auto_scale_instance_count(min_capacity=0)``).
    """

    def __init__(
        self,
        *,
        output_bucket: s3.IBucket,
        output_prefix: str | None = None,
        failure_bucket: s3.IBucket | None = None,
        failure_prefix: str | None = None,
        kms_key: kms.IKey | None = None,
        success_topic: sns.ITopic | None = None,
        error_topic: sns.ITopic | None = None,
        include_response_in_success_topic: bool = False,
        include_response_in_error_topic: bool = False,
        max_concurrent_invocations_per_instance: int | None = None,
    ) -> None:
        """
        :param output_bucket: the bucket results are written to.
        :param output_prefix: the key prefix of results. Default: - the bucket's root
        :param failure_bucket: the bucket failures are written to.
            Default: - failures are not written to S3 separately
        :param failure_prefix: the key prefix of failures; requires ``failure_bucket``.
            Default: - the bucket's root
        :param kms_key: the key SageMaker encrypts results with. Default: - the bucket's
        :param success_topic: the SNS topic told of each success. Default: - none
        :param error_topic: the SNS topic told of each failure. Default: - none
        :param include_response_in_success_topic: put responses up to 128 KB in the success
            notification; requires ``success_topic``. Default: - false
        :param include_response_in_error_topic: the same for the error notification; requires
            ``error_topic``. Default: - false
        :param max_concurrent_invocations_per_instance: requests SageMaker sends one instance at
            once, 1..1000. Default: - SageMaker chooses
        """
        errors: list[str] = []
        if failure_prefix is not None and failure_bucket is None:
            errors.append(refuse(
                Rule.FAILURE_PREFIX_NEEDS_BUCKET, "failure_prefix",
                f"{failure_prefix!r} without failure_bucket", "a key prefix in failure_bucket",
                "pass failure_bucket= too, or drop failure_prefix."))
        for field, flag, topic in (
            ("include_response_in_success_topic", include_response_in_success_topic,
             success_topic),
            ("include_response_in_error_topic", include_response_in_error_topic, error_topic),
        ):
            if flag and topic is None:
                wanted = field.removeprefix("include_response_in_")
                errors.append(refuse(
                    Rule.RESPONSE_NEEDS_TOPIC, field, f"True without {wanted}",
                    f"{field}=True only with {wanted} (the response goes in its notifications)",
                    f"pass {wanted}= too, or drop {field}."))
        count = max_concurrent_invocations_per_instance
        if count is not None and not is_unresolved(count) and (
            isinstance(count, bool)
            or not isinstance(count, int)
            or not 1 <= count <= _MAX_CONCURRENT_INVOCATIONS
        ):
            errors.append(refuse(
                Rule.ASYNC_CONCURRENCY_RANGE, "max_concurrent_invocations_per_instance",
                repr(count), f"a whole number from 1 to {_MAX_CONCURRENT_INVOCATIONS}",
                "use a number in that range, or leave it out to let SageMaker choose."))
        raise_refusals(errors, "AsyncInference")
        self.output_bucket = output_bucket
        self.output_prefix = output_prefix
        self.failure_bucket = failure_bucket
        self.failure_prefix = failure_prefix
        self.kms_key = kms_key
        self.success_topic = success_topic
        self.error_topic = error_topic
        self.include_response_in_success_topic = include_response_in_success_topic
        self.include_response_in_error_topic = include_response_in_error_topic
        self.max_concurrent_invocations_per_instance = count

    def render(self) -> sagemaker.CfnEndpointConfig.AsyncInferenceConfigProperty:
        """The ``AsyncInferenceConfig`` of ``AWS::SageMaker::EndpointConfig``."""
        notification = None
        if self.success_topic is not None or self.error_topic is not None:
            include = [
                name
                for name, on in (
                    ("SUCCESS_NOTIFICATION_TOPIC", self.include_response_in_success_topic),
                    ("ERROR_NOTIFICATION_TOPIC", self.include_response_in_error_topic),
                )
                if on
            ]
            notification = sagemaker.CfnEndpointConfig.AsyncInferenceNotificationConfigProperty(
                success_topic=self.success_topic.topic_arn if self.success_topic else None,
                error_topic=self.error_topic.topic_arn if self.error_topic else None,
                include_inference_response_in=include or None,
            )
        client = None
        if self.max_concurrent_invocations_per_instance is not None:
            client = sagemaker.CfnEndpointConfig.AsyncInferenceClientConfigProperty(
                max_concurrent_invocations_per_instance=self.max_concurrent_invocations_per_instance
            )
        return sagemaker.CfnEndpointConfig.AsyncInferenceConfigProperty(
            output_config=sagemaker.CfnEndpointConfig.AsyncInferenceOutputConfigProperty(
                s3_output_path=_s3_uri(self.output_bucket, self.output_prefix),
                s3_failure_path=(
                    _s3_uri(self.failure_bucket, self.failure_prefix)
                    if self.failure_bucket is not None
                    else None
                ),
                kms_key_id=self.kms_key.key_arn if self.kms_key is not None else None,
                notification_config=notification,
            ),
            client_config=client,
        )


def render_endpoint_config(
    scope: Construct,
    *,
    variants: Sequence[ProductionVariant],
    shadow_variants: Sequence[ProductionVariant],
    data_capture: DataCapture | None,
    async_inference: AsyncInference | None,
    kms_key: kms.IKey | None,
    retain: bool,
) -> sagemaker.CfnEndpointConfig:
    """The ``AWS::SageMaker::EndpointConfig`` of these variants, with no explicit name: every
    change is a replacement with a new name, and the old config is deleted only after the update.

    :param retain: keep the config when the stack is deleted (an endpoint that is retained).
    """
    config = sagemaker.CfnEndpointConfig(
        scope,
        "EndpointConfig",
        production_variants=[variant.render() for variant in variants],
        shadow_production_variants=(
            [variant.render() for variant in shadow_variants] if shadow_variants else None
        ),
        data_capture_config=data_capture.render() if data_capture is not None else None,
        async_inference_config=(
            async_inference.render() if async_inference is not None else None
        ),
        kms_key_id=kms_key.key_arn if kms_key is not None else None,
    )
    if retain:
        # A retained endpoint keeps serving its last config: keep that on stack delete too
        # (a deleted in-use config breaks the endpoint's next update and its rollbacks). A
        # config replaced by an update is no longer in use, and is still deleted.
        config.cfn_options.deletion_policy = CfnDeletionPolicy.RETAIN
        config.cfn_options.update_replace_policy = CfnDeletionPolicy.DELETE
    return config
