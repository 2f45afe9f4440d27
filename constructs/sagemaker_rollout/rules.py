"""Every deployment rule and every warning of the library: their ids, in one place.

Every refusal message starts with `[sagemaker-rollout:<rule id>]` so a user can look the rule up
in the documentation ("Rules"), and tests can tell which rule refused a configuration. Every
warning is `Annotations.add_warning_v2(WarningId.X.full_id, ...)`, acknowledged by that id.
The checks live with what they check (the traffic routings, the strategies, the endpoint); their
ids live here. "Fact sheet" is the project's reference notes on SageMaker endpoint deployments
(`sagemaker-endpoint-deployments.md`), which cite the botocore model and the AWS docs.
"""

from __future__ import annotations

from enum import Enum

#: The prefix of every rule id and warning id.
ID_PREFIX = "sagemaker-rollout:"


class Rule(Enum):
    """A rule: its id (in messages and docs) and its source."""

    # --- ranges (botocore SageMaker model; fact sheet, "UpdateEndpoint request") ---------------
    WHOLE_SECONDS = ("whole-seconds", "every time is sent as whole seconds (API integers)")
    WAIT_RANGE = ("wait-range", "WaitIntervalInSeconds 0..3600 (bake time, linear interval)")
    TERMINATION_WAIT_RANGE = ("termination-wait-range", "TerminationWaitInSeconds 0..3600")
    TIMEOUT_RANGE = (
        "maximum-execution-timeout-range",
        "MaximumExecutionTimeoutInSeconds 600..28800",
    )
    SIZE_AT_LEAST_ONE = ("size-at-least-one", "CapacitySize.Value integer >= 1")
    ALARMS_1_TO_10 = ("alarms-1-to-10", "AutoRollbackConfiguration.Alarms 1..10 items")
    # --- this library's own rules ---------------------------------------------------------------
    PERCENT_AT_MOST_100 = ("percent-at-most-100", "a percentage of a fleet is at most 100")
    CONCRETE_VALUES = ("concrete-values", "times and sizes must be known at synth time")
    PROVISIONING_ALLOWANCE_RANGE = (
        "provisioning-allowance-range",
        "provisioning allowance 0..3600 s, whole seconds",
    )
    SERVICE_TIMEOUT_RANGE = ("service-timeout-range", "custom resource ServiceTimeout 1..3600 s")
    AT_LEAST_ONE_VARIANT = ("at-least-one-variant", "an endpoint has at least one variant")
    CONCRETE_INSTANCE_COUNT = (
        "concrete-instance-count",
        "linear and rolling need a known instance count to plan steps and the time budget",
    )
    # --- cross-field (botocore model documentation; fact sheet) --------------------------------
    CANARY_AT_MOST_HALF = ("canary-at-most-half", "CanarySize <= 50% of the variant's instances")
    LINEAR_STEP_10_TO_50 = ("linear-step-10-to-50-percent", "LinearStepSize 10..50% of instances")
    ROLLING_BATCH_5_TO_50 = (
        "rolling-batch-5-to-50-percent",
        "MaximumBatchSize 5..50% of instances",
    )
    TIMEOUT_EXCEEDS_WAITS = (
        "timeout-exceeds-waits",
        "MaximumExecutionTimeout larger than the total waiting time",
    )
    ONE_POLICY = ("one-policy", "exactly one of BlueGreenUpdatePolicy / RollingUpdatePolicy")
    ROLLING_NOT_SERVERLESS = ("rolling-not-serverless", "rolling is refused for serverless")
    #: A shadow variant is a second variant too.
    ROLLING_SINGLE_VARIANT = ("rolling-single-variant", "rolling is refused for >1 variant")
    SERVERLESS_ALL_AT_ONCE_ONLY = (
        "serverless-all-at-once-only",
        "serverless: no traffic shifting beyond ALL_AT_ONCE",
    )
    # --- the endpoint's variants (botocore model, CreateEndpointConfig ProductionVariant) ------
    SAGEMAKER_NAME = (
        "sagemaker-name",
        "endpoint, variant and model names: 1..63 letters, digits and hyphens",
    )
    INSTANCE_TYPE = ("instance-type", "an ML instance type, ml.<family>.<size>")
    INSTANCE_COUNT_AT_LEAST_ONE = ("instance-count-at-least-one", "InitialInstanceCount >= 1")
    WEIGHT_AT_LEAST_ZERO = ("weight-at-least-zero", "InitialVariantWeight >= 0")
    ONE_MODEL = ("one-model", "a variant serves exactly one model: model= or model_name=")
    INSTANCES_OR_SERVERLESS = (
        "instances-or-serverless",
        "a variant has instance_type (instances) or memory_size (serverless), not both",
    )
    SERVERLESS_MEMORY = ("serverless-memory", "MemorySizeInMB 1024..6144 in steps of 1024")
    MAX_CONCURRENCY_RANGE = ("max-concurrency-range", "MaxConcurrency 1..200")
    PROVISIONED_CONCURRENCY_RANGE = (
        "provisioned-concurrency-range",
        "ProvisionedConcurrency 1..MaxConcurrency",
    )
    VARIANTS_AT_MOST_10 = ("variants-at-most-10", "ProductionVariants 1..10 items")
    DISTINCT_VARIANT_NAMES = (
        "distinct-variant-names",
        "variant names are distinct in an endpoint config (production and shadow)",
    )
    SHADOW_ONE_TO_ONE = (
        "shadow-one-to-one",
        "ShadowProductionVariants: 1 shadow variant with exactly 1 production variant",
    )
    # --- the endpoint's other props (this library, and the API where cited) ---------------------
    EXCLUSIONS_NEED_RETAIN = (
        "exclusions-need-retain",
        "ExcludeRetainedVariantProperties only with RetainAllVariantProperties",
    )
    DEPLOYMENT_OR_REUSE = (
        "deployment-or-reuse",
        "deployment= and reuse_last_deployment_config=True exclude each other",
    )
    ALARMS_NOT_WITH_REUSE = (
        "alarms-not-with-reuse",
        "rollback alarms are part of the DeploymentConfig that reuse_last_deployment_config reuses",
    )
    TAG_COUNT = ("tag-count", "at most 48 tags: SageMaker's 50 less the handler's two")
    TAG_KEY = ("tag-key", "tag keys 1..128 characters, not aws: nor sagemaker-rollout:")
    TAG_VALUE = ("tag-value", "tag values 0..256 characters")
    PROPERTIES_FIT_WAIT = (
        "properties-fit-wait",
        "tags and properties fit what a wait carries (contract.CARRIED_PROPERTIES_LIMIT)",
    )
    REMOVAL_POLICY = ("removal-policy", "RemovalPolicy.DESTROY or RemovalPolicy.RETAIN")
    KNOWN_VARIANT = ("known-variant", "variant_name names one of the endpoint's variants")
    # --- data capture and asynchronous inference (botocore model) -------------------------------
    SAMPLING_PERCENTAGE = ("sampling-percentage", "InitialSamplingPercentage 0..100")
    CAPTURE_SOMETHING = ("capture-input-or-output", "CaptureOptions 1..2 items")
    CONTENT_TYPES_AT_MOST_10 = ("content-types-at-most-10", "Csv/JsonContentTypes 1..10 items")
    FAILURE_PREFIX_NEEDS_BUCKET = (
        "failure-prefix-needs-bucket",
        "failure_prefix is a key prefix in failure_bucket",
    )
    RESPONSE_NEEDS_TOPIC = (
        "response-needs-topic",
        "IncludeInferenceResponseIn names a topic that is given",
    )
    ASYNC_CONCURRENCY_RANGE = (
        "async-concurrency-range",
        "MaxConcurrentInvocationsPerInstance 1..1000",
    )
    # --- autoscaling (Application Auto Scaling) ------------------------------------------------
    SCALING_CAPACITY = (
        "scaling-capacity",
        "min_capacity >= 1 (0 for asynchronous endpoints) and <= max_capacity",
    )
    SCALING_TARGET = ("scaling-target", "invocations_per_instance > 0")
    COOLDOWN_NEEDS_TARGET = (
        "cooldown-needs-target",
        "scale_in/out_cooldown belong to the invocations_per_instance policy",
    )
    SCALED_ONCE = ("scaled-once", "one scalable target per variant")
    SCALING_NEEDS_INSTANCES = (
        "scaling-needs-instances",
        "instance autoscaling needs an instance-based variant",
    )
    # --- the provider's IAM policy (IAM quotas page; iam_limits.py) --------------------------
    IAM_POLICY_SIZE = (
        "iam-policy-size",
        "provider role: inline policies <= 10,240 characters in all, a managed policy <= 6,144, "
        "<= 10 managed policies (whitespace not counted)",
    )
    # --- variant combinations SageMaker documents as invalid (variant_combinations.py) --------
    INSTANCE_AND_SERVERLESS = (
        "instance-and-serverless-variants",
        "no serverless and instance-based variants in one endpoint",
    )
    ONE_SERVERLESS_VARIANT = (
        "one-serverless-variant",
        "a serverless endpoint has one production variant",
    )
    SERVERLESS_NOT_ASYNC = ("serverless-not-async", "no asynchronous inference on serverless")
    SHADOW_EXCLUSIONS = (
        "shadow-test-exclusions",
        "no shadow variant with serverless, asynchronous inference or Inf1 (Shadow tests: "
        "Exclusions)",
    )
    # --- the endpoint's name and options --------------------------------------------------------
    UNIQUE_ENDPOINT_NAME = (
        "unique-endpoint-name",
        "one endpoint per name in a stack, case-insensitively (names are unique per Region)",
    )
    DATA_CAPTURE_EXCLUSION_UNSUPPORTED = (
        "data-capture-exclusion-unsupported",
        "ExcludeRetainedVariantProperties DataCaptureConfig is '(Not currently supported.)' "
        "(API reference, VariantProperty)",
    )
    ENDPOINT_TAGS = (
        "endpoint-tags",
        "at most 48 tags of the user's per endpoint (SageMaker's 50 less the handler's two), "
        "none with the reserved sagemaker-rollout: prefix, Tags.of included",
    )
    # --- the time budget (custom resource ServiceTimeout; time_budget.py) ----------------------
    WORST_CASE_FITS_TIMEOUT = (
        "worst-case-fits-timeout",
        "worst-case duration <= MaximumExecutionTimeout",
    )
    TIMEOUT_FITS_SERVICE_TIMEOUT = (
        "timeout-fits-service-timeout",
        "MaximumExecutionTimeout + rollback allowance + handler margin <= ServiceTimeout",
    )
    # --- the WaitCondition handoff (wait_mode.py; waiting-at-scale, "Waiting longer than an
    # hour": AWS::CloudFormation::WaitCondition Timeout at most 43200 s) ------------------------
    TIMEOUT_FITS_WAIT_CONDITION = (
        "timeout-fits-wait-condition",
        "MaximumExecutionTimeout + rollback allowance + handler margin <= 43200 s "
        "(WaitCondition Timeout)",
    )

    @property
    def id(self) -> str:
        return self.value[0]

    @property
    def summary(self) -> str:
        return self.value[1]


def refusal(rule: Rule, text: str) -> str:
    """A refusal message: `[sagemaker-rollout:<rule>] <what, the value, the limit, the fix>`."""
    return f"[{ID_PREFIX}{rule.id}] {text}"


def refuse(rule: Rule, field: str, value: str, limit: str, fix: str) -> str:
    """A refusal in the one style: `[sagemaker-rollout:<rule>] <field> = <value>; the limit is
    <limit>. Fix: <fix>`.

    :param field: the field as the user wrote it (``initial_instance_count of variant 'A'``,
        ``add_rollback_alarm``), never an internal name.
    :param value: the value as the user gave it (a token is described, never printed).
    :param fix: what to do instead, which passes.
    """
    return refusal(rule, f"{field} = {value}; the limit is {limit}. Fix: {fix}")


def raise_refusals(errors: list[str], what: str) -> None:
    """Raise one ValueError listing every refusal in `errors`, if there is any."""
    if errors:
        raise ValueError(f"sagemaker-rollout: {what} is refused:\n  " + "\n  ".join(errors))


class WarningId(Enum):
    """Warning ids, for `Annotations.add_warning_v2` (acknowledge with
    `Annotations.of(scope).acknowledge_warning("sagemaker-rollout:<id>")`)."""

    # --- the deployment strategy ---------------------------------------------------------------
    SILENT_ALL_AT_ONCE = "silent-all-at-once"
    STEP_ROUNDS_TO_ZERO = "step-rounds-to-zero"
    STEP_IS_WHOLE_FLEET = "step-is-whole-fleet"
    BAKING_WITHOUT_ALARMS = "baking-without-alarms"
    CHECKS_SKIPPED = "checks-skipped-for-tokens"
    # --- the endpoint ----------------------------------------------------------------------------
    ENDPOINT_NAME_TOKEN = "endpoint-name-token"
    ADOPT_GENERATED_NAME = "adopt-generated-name"
    # --- autoscaling -----------------------------------------------------------------------------
    AUTOSCALING_RESET = "autoscaling-reset-on-update"
    WEIGHT_RETAINED = "initial-weight-retained"
    AUTOSCALING_COUNT_EXCLUDED = "autoscaling-count-excluded"
    INITIAL_COUNT_OUT_OF_RANGE = "initial-count-outside-scaling-range"

    @property
    def full_id(self) -> str:
        return f"{ID_PREFIX}{self.value}"
