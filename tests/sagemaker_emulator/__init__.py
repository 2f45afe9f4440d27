"""A local emulator of SageMaker's endpoint control plane, on virtual time.

The real boto3 client talks to it unchanged::

    clock = VirtualClock()
    with SageMakerEmulator(clock, timings=Timings(), seed=0) as emulator:
        sm = boto3.client("sagemaker", endpoint_url=emulator.url, region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="x")

Share ``clock`` with the code under test: its ``sleep`` advances virtual time instantly, and
the emulator's state is computed from per-endpoint timelines evaluated lazily at each request
against ``clock.now()`` (no background thread advances state, no real time is read).

Modules: ``clock`` (VirtualClock), ``server`` (HTTP / JSON 1.1 protocol, SageMakerEmulator),
``model`` (the store with every operation: ``records``, ``store``, ``configs``, ``endpoints``,
``deployments``, ``tags``), ``timeline`` (phases of each operation),
``validation`` (request rules), ``faults`` (fault injection), ``errors`` (messages).

Sources of the modelled rules ("fact sheet" = /work/shared/reference/sagemaker-endpoint-
deployments.md; each rule is cited again next to its code):

* Protocol, operation shapes, enums, ranges, patterns, list sizes: the botocore SageMaker service
  model (read at runtime by ``validation.check_shape``); the fact sheet, "Where validation
  happens" (the server, not botocore, rejects maximums, enums and patterns).
* UpdateEndpoint cross-field rules (one policy only; CanarySize <= 50%; LinearStepSize 10-50%;
  MaximumBatchSize 5-50%; MaximumExecutionTimeout larger than the waits; no policy = blue/green
  ALL_AT_ONCE; RetainDeploymentConfig; RetainAllVariantProperties and its exclusions): fact sheet,
  "UpdateEndpoint request".
* Guardrail exclusions (same variant names; rolling refused for serverless and multi-variant):
  fact sheet, "Exclusions" (developer guide, deployment-guardrails-exclusions).
* Phase sequences of ALL_AT_ONCE / CANARY / LINEAR / rolling, rollback to blue, rolling rollback
  in RollbackMaximumBatchSize batches, UpdateRollbackFailed, alarms as a prerequisite: fact sheet,
  "What happens during each kind of deployment".
* Statuses, EndpointConfigName kept OLD during an update, PendingDeploymentSummary, FailureReason
  after a failed update, LastDeploymentConfig: fact sheet, "Endpoint status"; botocore
  DescribeEndpointOutput.EndpointStatus documentation (SystemUpdating, Failed,
  UpdateRollbackFailed).
* A Failed endpoint (a CreateEndpoint that failed: ``Faults.fail_provisioning(on="create")``,
  or ``Faults.set_status``) has a FailureReason, refuses UpdateEndpoint, and accepts only
  DeleteEndpoint, which takes ``Timings.delete`` like any other: botocore's
  DescribeEndpointOutput.EndpointStatus ("DeleteEndpoint is the only operation that can be
  performed on a failed endpoint"); fact sheet, "Endpoint status". Each call records the status
  of the endpoint it names (``Call.endpoint_status``).
* Error messages (missing endpoint / config, already existing, in-progress, failed endpoint,
  ResourceLimitExceeded, ThrottlingException retried): fact sheet, "Error behaviour to model".
* DeleteEndpointConfig never blocked; the next UpdateEndpoint then fails with "Could not find
  endpoint configuration" naming the deleted config: terraform-provider-aws #40048, #48997,
  PR #49020.
* "Cannot create already existing endpoint configuration": user reports (awslabs/spot-tagging-bot-
  for-digital-assets #2).

Assumptions (*unverified*; configurable where marked, never assert on their wording):

* Every message of a cross-field rule (``Messages.rules``, configurable), the alarm / timeout
  rollback FailureReason (``Messages.alarm_rollback`` / ``timeout_rollback``), the default
  provisioning-failure reason, the UpdateRollbackFailed reason, the generic "1 validation error
  detected: ..." wording of model-constraint violations.
* UpdateEndpoint with the config already serving: rejected (``Behaviour.same_config_update``,
  configurable to "deploy").
* Nonexistent alarms are accepted unless ``Behaviour.known_alarms`` is set.
* Update/Delete also refused while SystemUpdating (documented), RollingBack and Deleting
  (assumed), with the in-progress message. UpdateRollbackFailed and OutOfService endpoints accept
  Update and Delete.
* RetainDeploymentConfig together with DeploymentConfig: rejected.
* LastDeploymentConfig after a successful update is the effective config (default policy filled
  in); after a rollback it is unchanged.
* Serverless endpoints refuse blue/green traffic shifting beyond ALL_AT_ONCE (the fact sheet marks
  this detail unverified).
* "Larger than the total waiting time" reads as TerminationWait + WaitInterval (not times the
  number of steps), strictly larger. CapacitySize rules are checked against the green fleet (the
  new config's counts, or the retained DesiredInstanceCount with RetainAllVariantProperties).
* Percent batch sizes round down to whole instances (at least 1); LINEAR has ceil(100/step%) or
  ceil(count/step) steps, each followed by a WaitInterval bake; CANARY/LINEAR without a size use
  1 instance / 10%; ALL_AT_ONCE ignores WaitIntervalInSeconds.
* MaximumExecutionTimeoutInSeconds absent = no limit; when the scheduled deployment is longer, it
  is rolled back at start + timeout.
* During RollingBack, PendingDeploymentSummary stays, with VariantStatus ``Deleting``.
* A failed green fleet (fail_provisioning on update) returns to InService after the provisioning
  phase with no RollingBack phase; a rollback whose target config was deleted ends in
  UpdateRollbackFailed.
* ProductionVariants is absent while Creating and after a failed create.
* Durations (``Timings``) are plausible magnitudes, not measured.
* The per-resource tag limit of 50 and the reserved ``aws:`` prefix (general AWS tagging rules).
* List operations default to 10 results per page, sorted by CreationTime descending.

Known gaps: UpdateEndpointWeightsAndCapacities, inference components, shadow variants, the
Marketplace/Inf1/Elastic-Inference fallback to ALL_AT_ONCE, EventBridge events, IAM, eventual
consistency after CreateEndpointConfig (inject it with ``faults.error``), Java-only regex
patterns other than the tag pattern (not enforced).
"""

from .clock import DEFAULT_EPOCH, Clock, VirtualClock
from .errors import ApiError, Messages
from .faults import AlarmTrip, Faults, InjectedError, ProvisioningFailure
from .records import Behaviour, Call, Endpoint, EndpointConfig, InvariantViolation
from .server import SageMakerEmulator
from .timeline import ALARM_PHASES, GreenVariant, Phase, Timeline, Timings

__all__ = [
    "ALARM_PHASES",
    "DEFAULT_EPOCH",
    "AlarmTrip",
    "ApiError",
    "Behaviour",
    "Call",
    "Clock",
    "Endpoint",
    "EndpointConfig",
    "Faults",
    "GreenVariant",
    "InjectedError",
    "InvariantViolation",
    "Messages",
    "Phase",
    "ProvisioningFailure",
    "SageMakerEmulator",
    "Timeline",
    "Timings",
    "VirtualClock",
]
