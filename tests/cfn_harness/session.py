"""Wiring: the session-wide servers and the per-test harness built on them."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .clock import VirtualClockLike
from .cloud import Cloud
from .driver import CloudFormationStack, Handler
from .logs import LogCapture, assert_no_secrets
from .moto_aws import SCHEDULE_GROUP, SCHEDULER_ROLE, MotoAws
from .response_server import ResponseServer, TlsAuthority
from .sleeps import virtual_sleeps

FUNCTION_NAME = "sagemaker-rollout-provider"
#: Fake credentials for the whole session: distinctive, so a leak into the logs is detectable.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIAHARNESSFAKE0001",
    "AWS_SECRET_ACCESS_KEY": "harness/secret/NotARealKey0123456789abcdef",
    "AWS_SESSION_TOKEN": "harness-session-token-NotReal-0123456789",
}


def environment(tls: TlsAuthority, region: str = "us-east-1") -> dict[str, str | None]:
    """The process environment the provider runs in (None = unset): a region (crhelper's
    constructor fails every later event without one), fake credentials, no profile or
    instance metadata, and ``SSL_CERT_FILE`` trusting the response server's CA."""
    return {
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        **FAKE_CREDENTIALS,
        "AWS_PROFILE": None,
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_SAM_LOCAL": None,  # crhelper skips polling when set
        "SSL_CERT_FILE": str(tls.bundle_path),
    }


@contextlib.contextmanager
def running_servers() -> Iterator[HarnessServers]:
    """The session servers, started, with the process environment set to ``environment()``;
    both undone on exit. For scripts (``benchmarks/``): pytest uses the ``harness_servers``
    fixture of tests/conftest.py, which does the same through ``MonkeyPatch``."""
    servers = HarnessServers().start()
    saved = {name: os.environ.get(name) for name in environment(servers.tls)}
    try:
        for name, value in environment(servers.tls).items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        yield servers
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old
        servers.stop()


class HarnessServers:
    """The session-scoped part: moto (EventBridge, Lambda, IAM) and the HTTPS response server."""

    def __init__(self) -> None:
        self.tls = TlsAuthority()
        self.aws = MotoAws()
        self.responses = ResponseServer(self.tls)

    def start(self) -> HarnessServers:
        self.aws.start()
        self.responses.start()
        return self

    def stop(self) -> None:
        self.responses.stop()
        self.aws.stop()
        self.tls.cleanup()

    def fresh(self, clock: VirtualClockLike, *, function_name: str = FUNCTION_NAME) -> Harness:
        """Forget the previous test: empty moto (then the provider function, its schedule group
        and its rule on the default bus again), no answers."""
        self.aws.reset()
        self.aws.create_function(function_name)
        from sagemaker_rollout_handler.contract import sagemaker_event_pattern

        self.aws.install_stack(function_name, sagemaker_event_pattern(None))
        self.responses.reset(clock)
        return Harness(clock, self.aws, self.responses, function_name)


@dataclass
class Harness:
    """Per test: the clock, the servers, the clients the provider gets, its logs."""

    clock: VirtualClockLike
    aws: MotoAws
    responses: ResponseServer
    function_name: str
    logs: LogCapture = field(default_factory=LogCapture)
    #: Real-looking sleeps the function made, routed to the virtual clock: (where, seconds).
    sleeps: list[tuple[str, float]] = field(default_factory=list)
    stacks: list[CloudFormationStack] = field(default_factory=list)

    def __post_init__(self) -> None:
        retries = {"retries": {"mode": "standard"}}
        #: The clients to hand to the provider (standard retries, like boto3 in Lambda), with the
        #: quotas moto does not enforce (MotoAws.enforce_quotas).
        self.events_client: Any = self.aws.client("events", **retries)
        self.lambda_client: Any = self.aws.client("lambda", **retries)
        self.scheduler_client: Any = self.aws.client("scheduler", **retries)
        self.aws.enforce_quotas(self.events_client, self.lambda_client, self.function_name)
        #: The event loop: requests, schedules, SageMaker's events (cfn_harness.cloud).
        self.cloud = Cloud(self.clock, self.aws, self.function_name)  # type: ignore[arg-type]
        self.cloud.hook_scheduler(self.scheduler_client)
        self.schedule_group = SCHEDULE_GROUP
        self.scheduler_role = SCHEDULER_ROLE
        self.function_arn = self.aws.function_arn(self.function_name)

    @contextlib.contextmanager
    def virtual_sleeps(self) -> Iterator[None]:
        with virtual_sleeps(self.clock, lambda where, s: self.sleeps.append((where, s))):
            yield

    def stack(self, handler: Handler, *, factory: Any = None, **options: Any
              ) -> CloudFormationStack:
        """A stack whose custom resource is served by ``handler`` (see CloudFormationStack).
        ``factory()`` builds a container of the function for each invocation running at the same
        time as others (default: ``handler`` itself, which must then never run twice at once)."""
        stack = CloudFormationStack(
            handler, cloud=self.cloud, clock=self.clock, aws=self.aws, responses=self.responses,
            function_name=self.function_name, logs=self.logs,
            api_clients=(self.events_client, self.lambda_client, self.scheduler_client),
            **options,
        )
        self.cloud.serve(factory or (lambda: handler))
        self.cloud.lambda_timeout = stack.lambda_timeout
        self.stacks.append(stack)
        return stack

    def waiting_requests(self) -> list[str]:
        """The RequestIds of the requests whose wait (schedule) still exists."""
        names = set(self.aws.schedules())
        return [request for name, request in self.cloud.schedule_requests.items()
                if name in names]

    def run_stale_waits(self, limit: float = 3600.0) -> None:
        """Let time pass, delivering wakes and events, until no request waits any more (the
        waits of requests CloudFormation no longer waits for end by themselves)."""
        with self.logs.capturing():
            self.cloud.run(lambda: not self.aws.schedules(), self.clock.now() + limit,
                           lambda: f"still waiting: {self.waiting_requests()}")

    def finish(self) -> None:
        """End-of-test checks: no late second answer to any request, no secret in the logs."""
        for stack in self.stacks:
            stack.check_history()
        self.assert_no_secrets_in_logs()

    def assert_no_secrets_in_logs(self) -> None:
        """No ResponseURL (nor its query string / signature) and no credential in the logs of
        any invocation so far."""
        urls = [url for stack in self.stacks for url in stack.response_urls]
        assert_no_secrets(self.logs, response_urls=urls, credentials=FAKE_CREDENTIALS.values())
