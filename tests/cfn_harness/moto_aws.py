"""EventBridge and Lambda (resource policies) in a moto server: where crhelper's polling lives.

moto models PutRule / PutTargets / RemoveTargets / DeleteRule and Lambda AddPermission /
RemovePermission / GetPolicy faithfully; it does not fire scheduled rules, which the driver
(:mod:`cfn_harness.driver`) does itself on the virtual clock.

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
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

if TYPE_CHECKING:
    from mypy_boto3_events import EventBridgeClient
    from mypy_boto3_lambda import LambdaClient

REGION = "us-east-1"
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


def _paginate(call: Any, key: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    token: str | None = None
    while True:
        answer = call(**({"NextToken": token} if token else {}))
        items.extend(answer.get(key, []))
        token = answer.get("NextToken")
        if not token:
            return items
