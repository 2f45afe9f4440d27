"""What the EndpointConfig holds besides its variants: data capture, asynchronous inference, a KMS
key, shadow variants, and the model as a CfnModel, an alpha Model or a name."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk import Duration, Stack
from aws_cdk import aws_ecr as ecr
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sagemaker as sagemaker
from aws_cdk import aws_sns as sns
from aws_cdk.assertions import Match, Template
from construct_support import instance_variant, new_stack
from sagemaker_rollout import (
    AsyncInference,
    CapacitySize,
    DataCapture,
    DeploymentStrategy,
    ProductionVariant,
    RolloutEndpoint,
    TrafficRouting,
)

ENDPOINT_CONFIG = "AWS::SageMaker::EndpointConfig"



variant = instance_variant


def config_properties(stack: Stack) -> dict[str, Any]:
    (config,) = Template.from_stack(stack).find_resources(ENDPOINT_CONFIG).values()
    return config["Properties"]  # type: ignore[no-any-return]


def ref(stack: Stack, construct: Any) -> str:
    return stack.get_logical_id(construct.node.default_child)


# --- data capture --------------------------------------------------------------------------------


class Captured:
    """An endpoint capturing 20% of requests and responses, typed, encrypted."""

    def __init__(self) -> None:
        self.stack = new_stack()
        self.bucket = s3.Bucket(self.stack, "Capture")
        self.key = kms.Key(self.stack, "CaptureKey")
        RolloutEndpoint(
            self.stack,
            "Endpoint",
            variants=[variant()],
            data_capture=DataCapture(
                bucket=self.bucket,
                prefix="capture/endpoint",
                sampling_percentage=20,
                kms_key=self.key,
                json_content_types=["application/json"],
            ),
        )
        self.config = config_properties(self.stack)["DataCaptureConfig"]


@pytest.fixture(scope="module")
def captured() -> Captured:
    return Captured()


def test_data_capture_captures_requests_and_responses(captured: Captured) -> None:
    assert captured.config["CaptureOptions"] == [
        {"CaptureMode": "Input"},
        {"CaptureMode": "Output"},
    ]
    assert captured.config["EnableCapture"] is True


def test_data_capture_samples_the_given_percentage(captured: Captured) -> None:
    assert captured.config["InitialSamplingPercentage"] == 20


def test_data_capture_writes_under_the_prefix_of_the_bucket(captured: Captured) -> None:
    assert captured.config["DestinationS3Uri"] == {
        "Fn::Join": ["", ["s3://", {"Ref": ref(captured.stack, captured.bucket)},
                          "/capture/endpoint"]]
    }


def test_data_capture_is_encrypted_with_the_key_and_typed(captured: Captured) -> None:
    assert captured.config["KmsKeyId"] == {"Fn::GetAtt": [ref(captured.stack, captured.key), "Arn"]}
    assert captured.config["CaptureContentTypeHeader"] == {
        "JsonContentTypes": ["application/json"]
    }


def test_data_capture_of_requests_only_has_one_capture_option() -> None:
    stack = new_stack()
    RolloutEndpoint(stack, "Endpoint", variants=[variant()], data_capture=DataCapture(
        bucket=s3.Bucket(stack, "Capture"), capture_output=False))
    assert config_properties(stack)["DataCaptureConfig"]["CaptureOptions"] == [
        {"CaptureMode": "Input"}
    ]


def test_no_data_capture_renders_none() -> None:
    stack = new_stack()
    RolloutEndpoint(stack, "Endpoint", variants=[variant()])
    assert "DataCaptureConfig" not in config_properties(stack)


@pytest.mark.parametrize(
    ("props", "words"),
    [
        ({"sampling_percentage": 101}, (r"sampling-percentage\] sampling_percentage"
                r" = 101; .* 0 to 100.* Fix: use 100\.")),
        ({"sampling_percentage": 12.5}, (r"sampling-percentage\] sampling_percentage"
                r" = 12.5; .*whole number.* Fix: use 12\.")),
        ({"capture_input": False, "capture_output": False}, (
            r"capture-input-or-output\] .* the limit is capturing the requests, the resp")),
        ({"json_content_types": [f"application/x{i}" for i in range(11)]}, (
            r"content-types-at-most-10\] json_content_types = 11 content types; the limit is "
            r"1 to 10")),
    ],
)
def test_invalid_data_capture_is_refused(props: dict[str, Any], words: str) -> None:
    stack = new_stack()
    with pytest.raises(ValueError, match=words):
        DataCapture(bucket=s3.Bucket(stack, "Capture"), **props)


# --- asynchronous inference ----------------------------------------------------------------------


def test_async_inference_renders_output_failure_notifications_and_concurrency() -> None:
    stack = new_stack()
    out = s3.Bucket(stack, "Out")
    success, error = sns.Topic(stack, "Success"), sns.Topic(stack, "Error")
    RolloutEndpoint(stack, "Endpoint", variants=[variant()], async_inference=AsyncInference(
        output_bucket=out, output_prefix="results", failure_bucket=out, failure_prefix="failures",
        success_topic=success, error_topic=error, include_response_in_success_topic=True,
        max_concurrent_invocations_per_instance=4))
    bucket = {"Ref": ref(stack, out)}
    assert config_properties(stack)["AsyncInferenceConfig"] == {
        "OutputConfig": {
            "S3OutputPath": {"Fn::Join": ["", ["s3://", bucket, "/results"]]},
            "S3FailurePath": {"Fn::Join": ["", ["s3://", bucket, "/failures"]]},
            "NotificationConfig": {
                "SuccessTopic": {"Ref": ref(stack, success)},
                "ErrorTopic": {"Ref": ref(stack, error)},
                "IncludeInferenceResponseIn": ["SUCCESS_NOTIFICATION_TOPIC"],
            },
        },
        "ClientConfig": {"MaxConcurrentInvocationsPerInstance": 4},
    }


@pytest.mark.parametrize(
    ("props", "words"),
    [
        (
            {"max_concurrent_invocations_per_instance": 0},
            r"async-concurrency-range\] max_concurrent_invocations_per_instance = 0; .* 1 to 1000",
        ),
        ({"failure_prefix": "f"}, (r"failure-prefix-needs-bucket\]"
                r" failure_prefix = 'f' without failure_bucket")),
        ({"include_response_in_error_topic": True}, (
            r"response-needs-topic\] include_response_in_error_topic = True without error_topic"
            r".* Fix: pass error_topic=")),
    ],
)
def test_invalid_async_inference_is_refused(props: dict[str, Any], words: str) -> None:
    stack = new_stack()
    with pytest.raises(ValueError, match=words):
        AsyncInference(output_bucket=s3.Bucket(stack, "Out"), **props)


# --- KMS key -------------------------------------------------------------------------------------


class Encrypted:
    def __init__(self) -> None:
        self.stack = new_stack()
        self.key = kms.Key(self.stack, "VolumeKey")
        self.endpoint = RolloutEndpoint(
            self.stack, "Endpoint", variants=[variant()], kms_key=self.key
        )
        self.template = Template.from_stack(self.stack)


@pytest.fixture(scope="module")
def encrypted() -> Encrypted:
    return Encrypted()


def test_kms_key_encrypts_the_instance_volumes(encrypted: Encrypted) -> None:
    assert config_properties(encrypted.stack)["KmsKeyId"] == {
        "Fn::GetAtt": [ref(encrypted.stack, encrypted.key), "Arn"]
    }


def test_provider_may_create_grants_on_the_kms_key(encrypted: Encrypted) -> None:
    # KmsKeyId: the key policy must allow the role that calls CreateEndpoint/UpdateEndpoint.
    encrypted.template.has_resource_properties("AWS::IAM::Policy", {
        "PolicyDocument": {"Statement": Match.array_with([Match.object_like({
            "Action": ["kms:CreateGrant", "kms:DescribeKey"],
            "Resource": {"Fn::GetAtt": [ref(encrypted.stack, encrypted.key), "Arn"]},
        })])}
    })


# --- shadow variants -----------------------------------------------------------------------------


def test_shadow_variant_is_rendered_next_to_the_production_variant() -> None:
    stack = new_stack()
    RolloutEndpoint(stack, "Endpoint", variants=[variant()],
                    shadow_variants=[variant("Shadow", model_name="model-b")])
    properties = config_properties(stack)
    assert [v["VariantName"] for v in properties["ProductionVariants"]] == ["AllTraffic"]
    assert [(v["VariantName"], v["ModelName"]) for v in properties["ShadowProductionVariants"]] == [
        ("Shadow", "model-b")
    ]


def test_shadow_variant_with_a_canary_is_allowed() -> None:
    stack = new_stack()
    RolloutEndpoint(
        stack, "Endpoint", variants=[variant(initial_instance_count=2)],
        shadow_variants=[variant("Shadow")],
        deployment=DeploymentStrategy.blue_green(
            traffic_routing=TrafficRouting.canary(
                size=CapacitySize.count(1), bake_time=Duration.minutes(5))),
    )
    assert "ShadowProductionVariants" in config_properties(stack)


@pytest.mark.parametrize(
    ("props", "words"),
    [
        ({"shadow_variants": [variant("S1"), variant("S2")]}, (
            r"shadow-one-to-one\] shadow_variants = .*; the limit is 1 shadow variant")),
        (
            {"variants": [variant("A"), variant("B")], "shadow_variants": [variant("S")]},
            "with exactly 1 production variant",
        ),
        ({"shadow_variants": [variant("AllTraffic")]}, (r"distinct-variant-names\] variant_name"
                r" in shadow_variants = 'AllTraffic' twice")),
        (
            {
                "shadow_variants": [variant("Shadow")],
                "deployment": DeploymentStrategy.rolling(
                    batch_size=CapacitySize.count(1), bake_time=Duration.minutes(5)
                ),
                "variants": [variant(initial_instance_count=4)],
            },
            (r"rolling-single-variant\] deployment ="
                    r" DeploymentStrategy.rolling\(...\) with shadow_var"),
        ),
    ],
)
def test_shadow_variants_sagemaker_would_reject_are_refused(
    props: dict[str, Any], words: str
) -> None:
    props.setdefault("variants", [variant()])
    with pytest.raises(ValueError, match=words):
        RolloutEndpoint(new_stack(), "Endpoint", **props)


# --- the model -----------------------------------------------------------------------------------


def _model_name_rendered(make_model: Any) -> tuple[Stack, Any, Any]:
    stack = new_stack()
    model = make_model(stack)
    RolloutEndpoint(stack, "Endpoint", variants=[ProductionVariant.instances(
        model=model, instance_type="ml.m5.large")])
    return stack, model, config_properties(stack)["ProductionVariants"][0]["ModelName"]


def test_cfn_model_is_served_by_its_name_attribute() -> None:
    stack, model, rendered = _model_name_rendered(lambda stack: sagemaker.CfnModel(
        stack, "Model", execution_role_arn="arn:aws:iam::123456789012:role/r",
        primary_container=sagemaker.CfnModel.ContainerDefinitionProperty(image="i")))
    assert rendered == {"Fn::GetAtt": [stack.get_logical_id(model), "ModelName"]}


def test_alpha_model_is_served_by_its_name() -> None:
    alpha = pytest.importorskip("aws_cdk.aws_sagemaker_alpha")

    def make(stack: Stack) -> Any:
        repository = ecr.Repository.from_repository_name(stack, "Repo", "my-model")
        image = alpha.ContainerImage.from_ecr_repository(repository)
        return alpha.Model(stack, "Model", containers=[alpha.ContainerDefinition(image=image)])

    stack, model, rendered = _model_name_rendered(make)
    cfn_model = model.node.find_child("Model")  # the alpha Model's CfnModel
    assert rendered == {"Fn::GetAtt": [stack.get_logical_id(cfn_model), "ModelName"]}


def test_imported_alpha_model_is_served_by_its_name() -> None:
    alpha = pytest.importorskip("aws_cdk.aws_sagemaker_alpha")
    _, _, rendered = _model_name_rendered(
        lambda stack: alpha.Model.from_model_name(stack, "Model", "existing-model"))
    assert rendered == "existing-model"


@pytest.mark.parametrize(
    "props", [{}, {"model_name": "a", "model": object()}],
    ids=["neither", "both"],
)
def test_model_and_model_name_are_exclusive(props: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=(r"one-model\] variant 'AllTraffic' = (both|neither)"
            r" .*; the limit is exactly one of them")):
        ProductionVariant.instances(instance_type="ml.m5.large", **props)


def test_model_without_a_name_is_refused() -> None:
    with pytest.raises(ValueError, match=(r"one-model\] model of variant 'AllTraffic'"
            r" = a object; the limit is a CfnModel")):
        ProductionVariant.instances(instance_type="ml.m5.large", model=object())  # type: ignore[arg-type]
