"""API errors and the wording of the messages the emulator returns.

Verified messages (fact sheet, "Error behaviour to model") are module-level functions and are
fixed. Every wording the fact sheet marks *unverified* lives in :class:`Messages` so a test can
change it, and consumers must never assert on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class ApiError(Exception):
    """An error answered to the client as ``{"__type": code, "message": message}``.

    ``rule`` names the emulator rule that produced it (for tests: assert on the rule, never on the
    text of an *unverified* message).
    """

    def __init__(self, code: str, message: str, *, status: int = 400, rule: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.rule = rule


class DroppedConnection(Exception):
    """The server closes the connection without answering (botocore: ConnectionClosedError)."""


def validation(message: str, rule: str) -> ApiError:
    return ApiError("ValidationException", message, rule=rule)


# --- verified messages (fact sheet, "Error behaviour to model"; ARNs in double quotes) ---------


def endpoint_not_found(arn: str) -> ApiError:
    # Fact sheet: Describe/Update/Delete of a missing endpoint.
    return validation(f'Could not find endpoint "{arn}".', "endpoint-not-found")


def config_not_found(arn: str) -> ApiError:
    # Fact sheet: missing endpoint config (Create, Update, DescribeEndpointConfig).
    return validation(f'Could not find endpoint configuration "{arn}".', "config-not-found")


def endpoint_exists(arn: str) -> ApiError:
    # Fact sheet: Create of a name that exists (case-insensitive; an endpoint still Deleting
    # counts).
    return validation(f'Cannot create already existing endpoint "{arn}".', "endpoint-exists")


def config_exists(arn: str) -> ApiError:
    # Wording seen in user reports (awslabs/spot-tagging-bot-for-digital-assets #2,
    # philschmid/terraform-aws-sagemaker-huggingface #6).
    return validation(
        f'Cannot create already existing endpoint configuration "{arn}".', "config-exists"
    )


def endpoint_in_progress(arn: str) -> ApiError:
    # Fact sheet: Update, Delete or UpdateEndpointWeightsAndCapacities while Creating/Updating.
    return validation(f'Cannot update in-progress endpoint "{arn}".', "endpoint-in-progress")


def endpoint_failed(arn: str) -> ApiError:
    # Fact sheet: "starts with `Cannot update failed endpoint`"; botocore EndpointStatus docs:
    # "DeleteEndpoint is the only operation that can be performed on a failed endpoint".
    return validation(f'Cannot update failed endpoint "{arn}".', "endpoint-failed")


def resource_limit(instance_type: str) -> ApiError:
    # Fact sheet: code ResourceLimitExceeded (not retried by botocore); the text after
    # "0 Instances," is the usual Service Quotas wording (*unverified* beyond the fact sheet's
    # prefix).
    return ApiError(
        "ResourceLimitExceeded",
        f"The account-level service limit '{instance_type} for endpoint usage' is 0 Instances, "
        "with current utilization of 0 Instances and a request delta of 1 Instances. Please use "
        "AWS Service Quotas to request an increase for this quota. If AWS Service Quotas is not "
        "available, contact AWS support to request an increase for this quota.",
        rule="resource-limit",
    )


# --- unverified wordings: configurable ----------------------------------------------------------


def _default_rule_messages() -> dict[str, str]:
    # *Unverified*: the fact sheet says the server's words for broken percentage rules are unknown.
    # Keys are rule ids (see validation.py); values are str.format templates.
    return {
        "one-policy": "DeploymentConfig may contain only one of BlueGreenUpdatePolicy and "
        "RollingUpdatePolicy.",
        "canary-size": "CanarySize for variant {variant} ({size}) must be less than or equal to "
        "50% of the variant's total instance count ({count}).",
        "linear-step": "LinearStepSize for variant {variant} ({size}) must be 10-50% of the "
        "variant's total instance count ({count}).",
        "rolling-batch": "MaximumBatchSize for variant {variant} ({size}) must be between 5% and "
        "50% of the variant's total instance count ({count}).",
        "timeout-vs-waits": "MaximumExecutionTimeoutInSeconds ({timeout}) must be larger than the "
        "total waiting time specified in TerminationWaitInSeconds and WaitIntervalInSeconds "
        "({waits}).",
        "rolling-serverless": "Rolling deployments are not supported for serverless endpoints.",
        "rolling-multi-variant": "Rolling deployments are not supported for endpoints with more "
        "than one production variant.",
        "serverless-traffic-shifting": "Serverless endpoints support only ALL_AT_ONCE traffic "
        "routing; {type} is not supported.",
        "variant-names": "Deployment guardrails require the new endpoint configuration "
        "{new_config} to keep the variant names of the current one ({old_variants}); got "
        "{new_variants}.",
        "retain-and-config": "RetainDeploymentConfig cannot be combined with a DeploymentConfig.",
        "unknown-alarm": "The auto-rollback alarm {alarm} does not exist.",
        "same-config": "Endpoint {endpoint} already uses endpoint configuration {config}.",
        "variant-duplicate": "Variant names must be unique; {variant} appears more than once.",
        "resource-not-found": "Could not find resource {arn}.",
        "tag-limit": "A resource can have at most 50 tags; {arn} would have {count}.",
        "tag-reserved": "Tag keys starting with 'aws:' are reserved: {key}.",
        "pagination": "Invalid pagination token {token}.",
        "variant-capacity": "Production variant {variant} needs either InitialInstanceCount and "
        "InstanceType, or ServerlessConfig.",
    }


@dataclass
class Messages:
    """Every *unverified* wording, as ``str.format`` templates. Change freely in tests."""

    rules: dict[str, str] = field(default_factory=_default_rule_messages)
    #: FailureReason after an alarm rollback. Placeholders: {alarms}, {endpoint}, {config}.
    alarm_rollback: str = (
        "Endpoint update to {config} was rolled back because the CloudWatch alarm(s) {alarms} "
        "went into ALARM state during the deployment."
    )
    #: FailureReason after a MaximumExecutionTimeoutInSeconds rollback. {timeout}, {config}.
    timeout_rollback: str = (
        "Endpoint update to {config} was rolled back because the deployment exceeded "
        "MaximumExecutionTimeoutInSeconds ({timeout} seconds)."
    )
    #: Default FailureReason of fail_provisioning(). {variant}.
    provisioning_failed: str = (
        "The primary container for production variant {variant} did not pass the ping health "
        "check. Please check CloudWatch logs for this endpoint."
    )
    #: FailureReason of UpdateRollbackFailed. {detail}.
    rollback_failed: str = "Rollback of the endpoint update failed: {detail}"
    #: detail when the rollback target config was deleted (terraform-provider-aws #40048).
    rollback_target_missing: str = 'Could not find endpoint configuration "{arn}".'

    def rule(self, rule: str, **values: object) -> ApiError:
        return validation(self.rules[rule].format(**values), rule)
