"""EventBridge, EventBridge Scheduler and Lambda (resource policies) in a moto server.

moto models PutRule / PutTargets / RemoveTargets / DeleteRule, TestEventPattern, Scheduler's
schedules and groups, and Lambda AddPermission / RemovePermission / GetPolicy; it fires nothing
itself (the harness's :mod:`cfn_harness.cloud` does, on the virtual clock). On top of moto, the
quotas that AWS enforces and moto does not (:meth:`MotoAws.enforce_quotas`, on the clients handed
to the function):

* EventBridge "Number of rules": 300 per event bus per Region, shared by the whole account
  (EventBridge quotas page): PutRule of a new rule beyond it answers LimitExceededException.
  ``add_filler_rules`` puts the account's other workloads' rules on the bus.
* Lambda's resource-based policy: at most 20 KB, not adjustable (Lambda quotas page): an
  AddPermission that would make it larger answers PolicyLengthExceededException "The final
  policy size (N) is bigger than the limit (20480)" (the wording of issue 11's reproduction).
* Scheduler's DeleteSchedule deletes a schedule once (ResourceNotFoundException after: Scheduler
  API reference); moto's check-then-pop is made atomic, as the service is.

The server is meant to be session-scoped: :meth:`MotoAws.reset` (moto's ``POST /moto-api/reset``)
forgets everything between tests, then :meth:`MotoAws.create_function` recreates the provider
function (Lambda's AddPermission needs an existing function, and moto's CreateFunction needs an
existing IAM role and a code zip).
"""

from __future__ import annotations

import functools
import io
import json
import logging
import urllib.request
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_lambda import LambdaClient

REGION = "us-east-1"
#: EventBridge's rules per bus, Lambda's policy size (see the module docstring).
RULE_QUOTA = 300
POLICY_LIMIT = 20480
#: The schedule group of the stack under test, and the role Scheduler assumes.
SCHEDULE_GROUP = "sagemaker-rollout-test-stack"
SCHEDULER_ROLE = "arn:aws:iam::123456789012:role/sagemaker-rollout-scheduler"
ACCOUNT_ID = "123456789012"  # moto's default account
_TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                   "Action": "sts:AssumeRole"}],
}


@dataclass(frozen=True)
class RuleState:
    name: str
    arn: str
    schedule: str | None
    state: str
    targets: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class PollingState:
    """The EventBridge rules (with their targets) and the provider function's policy
    statements, as moto holds them now."""

    rules: tuple[RuleState, ...]
    statements: tuple[dict[str, Any], ...]

    def rule(self, name: str) -> RuleState | None:
        return next((rule for rule in self.rules if rule.name == name), None)

    def statements_for(self, rule_arn: str) -> list[dict[str, Any]]:
        return [s for s in self.statements
                if s.get("Condition", {}).get("ArnLike", {}).get("AWS:SourceArn") == rule_arn]

    def describe(self) -> str:
        rules = ", ".join(f"{r.name} ({len(r.targets)} target(s))" for r in self.rules) or "none"
        sids = ", ".join(str(s.get("Sid")) for s in self.statements) or "none"
        return f"rules: {rules}; permission statements: {sids}"


class MotoAws:
    """A moto server on 127.0.0.1 (free port) and clients for it."""

    def __init__(self, *, region: str = REGION, account_id: str = ACCOUNT_ID) -> None:
        self.region = region
        self.account_id = account_id
        self._server: ThreadedMotoServer | None = None

    def start(self) -> MotoAws:
        _atomic_delete_schedule()
        if self._server is None:
            # werkzeug logs one line per request on the root handlers: keep test output readable.
            logging.getLogger("werkzeug").setLevel(logging.ERROR)
            self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
            self._server.start()
            self._events = self.client("events")
            self._lambda = self.client("lambda")
            self._iam = self.client("iam")
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the moto server is not started")
        host, port = self._server.get_host_and_port()
        return f"http://{host}:{port}"

    def client(self, service: str, **config: Any) -> Any:
        """A boto3 client for ``service`` on the moto server (fake credentials, no retries
        unless ``config`` says otherwise)."""
        factory: Any = boto3.client  # its overloads want a literal service name
        return factory(
            service, endpoint_url=self.url, region_name=self.region,
            aws_access_key_id="testing", aws_secret_access_key="testing",
            config=Config(retries=config.pop("retries", {"mode": "standard",
                                                          "total_max_attempts": 1}), **config),
        )

    def events_client(self) -> EventBridgeClient:
        client: EventBridgeClient = self.client("events")
        return client

    def lambda_client(self) -> LambdaClient:
        client: LambdaClient = self.client("lambda")
        return client

    def reset(self) -> None:
        """Forget every resource in every moto backend."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:
            answer.read()
        self._patterns: list[str] = []
        self._matchers: dict[str, Any] = {}
        self._scheduler = self.client("scheduler")

    # --- what CDK deploys with the stack (provider.py), and the account around it -------------

    def install_stack(self, function_name: str, pattern: dict[str, Any]) -> None:
        """The stack's schedule group and its one rule on the default bus (SageMaker's events ->
        the function), with the rule's one Lambda permission."""
        self._scheduler.create_schedule_group(Name=SCHEDULE_GROUP)
        rule = self._events.put_rule(Name="SageMakerRolloutEvents", EventPattern=json.dumps(
            pattern), State="ENABLED")["RuleArn"]
        self._events.put_targets(Rule="SageMakerRolloutEvents", Targets=[
            {"Id": "provider", "Arn": self.function_arn(function_name)}])
        self._lambda.add_permission(
            FunctionName=function_name, StatementId="SageMakerRolloutEvents",
            Action="lambda:InvokeFunction", Principal="events.amazonaws.com", SourceArn=rule)
        self._patterns.append(json.dumps(pattern))

    def add_filler_rules(self, count: int) -> None:
        """Rules of the account's other workloads on the default bus."""
        for index in range(count):
            self._events.put_rule(Name=f"other-workload-{index:03d}",
                                  ScheduleExpression="rate(1 hour)", State="ENABLED")

    def function_rules(self, function_arn: str) -> list[str]:
        """The event patterns that deliver to the function (installed by ``install_stack``)."""
        return list(self._patterns)

    def matches(self, pattern: str, event: dict[str, Any]) -> bool:
        """EventBridge's pattern matching, as moto implements it (in process: one call per
        event would be slow with hundreds of deployments)."""
        from moto.events.models import EventPattern

        matcher = self._matchers.get(pattern)
        if matcher is None:
            matcher = self._matchers[pattern] = EventPattern.load(pattern)
        return bool(matcher.matches_event(cast(Any, event)))

    def schedule_input(self, name: str) -> str | None:
        try:
            answer = self._scheduler.get_schedule(Name=name, GroupName=SCHEDULE_GROUP)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return None
            raise
        return str(answer["Target"]["Input"])

    def schedules(self) -> list[str]:
        """The names of the schedules in the stack's group."""
        pages = self._scheduler.list_schedules(GroupName=SCHEDULE_GROUP)
        return [str(item["Name"]) for item in pages.get("Schedules", [])]

    def rule_count(self) -> int:
        return len(_paginate(self._events.list_rules, "Rules"))

    def policy_size(self, function_name: str) -> int:
        try:
            return len(self._lambda.get_policy(FunctionName=function_name)["Policy"])
        except ClientError:
            return 0

    def enforce_quotas(self, events_client: Any, lambda_client: Any, function_name: str) -> None:
        """The rule quota and the policy limit, on the clients handed to the function."""
        def put_rule(params: dict[str, Any], **_: Any) -> None:
            names = {r["Name"] for r in _paginate(self._events.list_rules, "Rules")}
            if params.get("Name") not in names and len(names) >= RULE_QUOTA:
                raise _client_error("PutRule", "LimitExceededException",
                                    f"The requested resource exceeds the maximum number "
                                    f"allowed ({RULE_QUOTA}).")

        def add_permission(params: dict[str, Any], **_: Any) -> None:
            statement = {"Sid": params.get("StatementId"), "Effect": "Allow",
                         "Principal": {"Service": params.get("Principal")},
                         "Action": params.get("Action"),
                         "Resource": self.function_arn(function_name),
                         "Condition": {"ArnLike": {"AWS:SourceArn": params.get("SourceArn")}}}
            size = self.policy_size(function_name) + len(json.dumps(statement)) + 1
            if size > POLICY_LIMIT:
                raise _client_error("AddPermission", "PolicyLengthExceededException",
                                    f"The final policy size ({size}) is bigger than the limit "
                                    f"({POLICY_LIMIT}).")

        events_client.meta.events.register("provide-client-params.events.PutRule", put_rule)
        lambda_client.meta.events.register("provide-client-params.lambda.AddPermission",
                                           add_permission)

    def function_arn(self, name: str) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{name}"

    def create_function(self, name: str, *, timeout: int = 180) -> str:
        """A dummy provider function named ``name`` (and the IAM role moto insists on)."""
        role = self._iam.create_role(RoleName=f"{name}-role"[:64],
                                     AssumeRolePolicyDocument=json.dumps(_TRUST))["Role"]["Arn"]
        code = io.BytesIO()
        with zipfile.ZipFile(code, "w") as archive:
            archive.writestr("index.py", "def handler(event, context):\n    return None\n")
        answer = self._lambda.create_function(
            FunctionName=name, Runtime="python3.12", Role=role, Handler="index.handler",
            Code={"ZipFile": code.getvalue()}, Timeout=timeout,
        )
        return str(answer["FunctionArn"])

    def polling_state(self, function_name: str) -> PollingState:
        rules: list[RuleState] = []
        for rule in _paginate(self._events.list_rules, "Rules"):
            targets = _paginate(functools.partial(self._events.list_targets_by_rule,
                                                  Rule=rule["Name"]), "Targets")
            rules.append(RuleState(rule["Name"], rule["Arn"], rule.get("ScheduleExpression"),
                                   rule.get("State", ""), tuple(targets)))
        try:
            policy = json.loads(self._lambda.get_policy(FunctionName=function_name)["Policy"])
            statements = tuple(policy.get("Statement", []))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            statements = ()
        return PollingState(tuple(rules), statements)


def _client_error(operation: str, code: str, message: str) -> ClientError:
    return ClientError(cast(Any, {"Error": {"Code": code, "Message": message},
                                  "ResponseMetadata": {"HTTPStatusCode": 400}}), operation)


def _atomic_delete_schedule() -> None:
    from moto.scheduler import exceptions, models

    def delete_schedule(self: Any, name: str) -> None:
        if self.schedules.pop(name, None) is None:
            raise exceptions.ScheduleNotFound(name)

    setattr(models.ScheduleGroup, "delete_schedule", delete_schedule)  # noqa: B010


def _paginate(call: Any, key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        answer = call(**({"NextToken": token} if token else {}))
        items.extend(answer.get(key, []))
        token = answer.get("NextToken")
        if not token:
            return items
