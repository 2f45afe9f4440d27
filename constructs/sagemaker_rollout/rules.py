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
    # --- the time budget (custom resource ServiceTimeout; time_budget.py) ----------------------
    WORST_CASE_FITS_TIMEOUT = (
        "worst-case-fits-timeout",
        "worst-case duration <= MaximumExecutionTimeout",
    )
    TIMEOUT_FITS_SERVICE_TIMEOUT = (
        "timeout-fits-service-timeout",
        "MaximumExecutionTimeout + rollback allowance + handler margin <= ServiceTimeout",
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
    AUTOSCALING_COUNT_EXCLUDED = "autoscaling-count-excluded"
    INITIAL_COUNT_OUT_OF_RANGE = "initial-count-outside-scaling-range"

    @property
    def full_id(self) -> str:
        return f"{ID_PREFIX}{self.value}"
