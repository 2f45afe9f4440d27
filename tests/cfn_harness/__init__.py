"""Drive a CloudFormation custom resource as CloudFormation + Lambda + EventBridge would, on
virtual time.

Pieces (each module's docstring says more):

* :mod:`.events` -- CloudFormation-shaped events; every property value a string, as CloudFormation
  delivers them (``cfn_value``, ``cfn_properties``, ``build_event``).
* :mod:`.context` -- ``LambdaContext``: remaining time counts down on the virtual clock.
* :mod:`.moto_aws` -- ``MotoAws``: a moto server for EventBridge, Scheduler and Lambda (the
  stack's rule and schedule group, the function's policy; the rule and policy quotas), reset per
  test.
* :mod:`.response_server` -- ``ResponseServer``: HTTPS (trustme CA, ``SSL_CERT_FILE``) stand-in
  for the presigned S3 ResponseURL; records every PUT with its virtual arrival time.
* :mod:`.cloud` -- ``Cloud``: the event loop that delivers requests, EventBridge Scheduler
  schedules and SageMaker's events to the function, each invocation in its own thread.
* :mod:`.driver` -- ``CloudFormationStack``: ``create`` / ``update`` / ``rollback`` / ``delete``
  send one request and drive it to its answer (``drive`` sends several at once), asserting the
  protocol at every step, and return a ``Response``.
* :mod:`.logs` -- ``LogCapture`` and ``assert_no_secrets``.
* :mod:`.sleeps` -- ``virtual_sleeps`` (botocore back-off, crhelper sleeps on the virtual clock),
  ``preserved_logging``.
* :mod:`.session` -- ``HarnessServers`` (session-scoped) and ``Harness`` (per test).

Typical use (see tests/conftest.py)::

    servers = HarnessServers().start()              # once per session, env from environment()
                                                    # (a script: ``with running_servers()``)
    harness = servers.fresh(clock)                  # per test
    with harness.virtual_sleeps():
        stack = harness.stack(resource)             # resource(event, context): crhelper
        response = stack.create({"EndpointName": "ep", "EndpointConfigName": "a"})
        assert response.status == "SUCCESS", response.reason
    harness.assert_no_secrets_in_logs()
"""

from .clock import Clock, VirtualClockLike
from .cloud import Cloud, Invocation
from .context import DEFAULT_LAMBDA_TIMEOUT, LambdaContext
from .driver import ApiCall, CloudFormationStack, HarnessViolation, Response, drive
from .events import RESOURCE_TYPE, build_event, cfn_properties, cfn_value
from .logs import CapturedLog, LogCapture, assert_no_secrets, secrets_of_url
from .moto_aws import MotoAws, PollingState, RuleState
from .response_server import RecordedPut, ResponseServer, TlsAuthority
from .session import (
    FAKE_CREDENTIALS,
    FUNCTION_NAME,
    Harness,
    HarnessServers,
    environment,
    running_servers,
)
from .sleeps import preserved_logging, virtual_sleeps

__all__ = [
    "DEFAULT_LAMBDA_TIMEOUT",
    "FAKE_CREDENTIALS",
    "FUNCTION_NAME",
    "RESOURCE_TYPE",
    "ApiCall",
    "CapturedLog",
    "Clock",
    "Cloud",
    "CloudFormationStack",
    "Harness",
    "HarnessServers",
    "HarnessViolation",
    "Invocation",
    "LambdaContext",
    "LogCapture",
    "MotoAws",
    "PollingState",
    "RecordedPut",
    "Response",
    "ResponseServer",
    "RuleState",
    "TlsAuthority",
    "VirtualClockLike",
    "assert_no_secrets",
    "build_event",
    "cfn_properties",
    "cfn_value",
    "drive",
    "environment",
    "preserved_logging",
    "running_servers",
    "secrets_of_url",
    "virtual_sleeps",
]

