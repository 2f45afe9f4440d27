"""The thin layer over EventBridge Scheduler: one one-time schedule per waiting request.

(GetSchedule by name only: ListSchedules has no resource-level permission, and an event finds
its request's schedule from the endpoint's request tag, ``schedule_name``.)

A waiting request's schedule is its safety wake (``at()``: Scheduler fires it within the minute
after the time given, waiting-at-scale.md) and the carrier of its state (Target.Input). It lives in
the schedule group the stack owns, and Scheduler invokes the function through the stack's
execution role: no resource-policy statement and no default-bus rule per request.

- ``arm`` (CreateSchedule) when a request starts waiting; ConflictException means the request was
  delivered again while it waits.
- ``rearm`` (UpdateSchedule) moves the wake and stores the new state; it fails on a schedule that
  was deleted, so an invocation that lost the race to answer learns it there.
- ``claim`` (DeleteSchedule) is the lock: Scheduler deletes a schedule once, the second caller
  gets ResourceNotFoundException. Only the invocation that deleted it answers CloudFormation.

``ActionAfterCompletion`` is NONE: a fired schedule stays until claimed, so the state survives
its wake (*unverified*: UpdateSchedule re-arms a one-time schedule that has fired; the harness
models it so).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from .contract import SCHEDULE_NAME_PREFIX

#: Scheduler's retry of a failed invocation (throttled Lambda): bounded by the request's hour.
RETRY_POLICY = {"MaximumEventAgeInSeconds": 3600, "MaximumRetryAttempts": 20}


def endpoint_key(endpoint_name: str) -> str:
    """The part of a schedule's name that says which endpoint it waits for."""
    return hashlib.sha256(endpoint_name.lower().encode()).hexdigest()[:16]


def schedule_name(endpoint_name: str, owner: str, request_id: str) -> str:
    """``sagemaker-rollout-<endpoint>-<request>``: one name per request, where the request is
    the resource (``owner``: a hash of the stack id and logical id) and CloudFormation's
    RequestId. An event finds it from the endpoint's request tag, which holds both."""
    request = hashlib.sha256(f"{owner}/{request_id}".encode()).hexdigest()[:16]
    return f"{SCHEDULE_NAME_PREFIX}{endpoint_key(endpoint_name)}-{request}"


def at_expression(when: float) -> str:
    """``at(yyyy-mm-ddThh:mm:ss)`` in UTC, rounded up to the second."""
    moment = datetime.fromtimestamp(math.ceil(when), UTC)
    return f"at({moment:%Y-%m-%dT%H:%M:%S})"


def at_time(expression: str) -> float:
    moment = datetime.strptime(expression[3:-1], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return moment.timestamp()


@dataclass(frozen=True)
class WakeTarget:
    """Where the stack's schedules live and whom they invoke."""

    group: str
    role_arn: str
    function_arn: str


class Wakes:
    """CreateSchedule / UpdateSchedule / DeleteSchedule / GetSchedule / ListSchedules."""

    def __init__(self, client: Any, target: WakeTarget) -> None:
        self._client = client
        self.target = target

    def _params(self, name: str, when: float, payload: str) -> dict[str, Any]:
        return {
            "Name": name,
            "GroupName": self.target.group,
            "ScheduleExpression": at_expression(when),
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "ActionAfterCompletion": "NONE",
            "State": "ENABLED",
            "Target": {"Arn": self.target.function_arn, "RoleArn": self.target.role_arn,
                       "Input": payload, "RetryPolicy": RETRY_POLICY},
        }

    def arm(self, name: str, when: float, payload: str) -> bool:
        """Create the request's schedule; False when it exists already (a re-delivery)."""
        try:
            self._client.create_schedule(**self._params(name, when, payload))
        except ClientError as error:
            if _code(error) == "ConflictException":
                return False
            raise
        return True

    def rearm(self, name: str, when: float, payload: str) -> bool:
        """Move the wake and store the state; False when the schedule is gone (answered)."""
        try:
            self._client.update_schedule(**self._params(name, when, payload))
        except ClientError as error:
            if _code(error) == "ResourceNotFoundException":
                return False
            raise
        return True

    def claim(self, name: str) -> bool:
        """Delete the schedule: True for the one caller that deleted it (the answer lock)."""
        try:
            self._client.delete_schedule(Name=name, GroupName=self.target.group)
        except ClientError as error:
            if _code(error) == "ResourceNotFoundException":
                return False
            raise
        return True

    def read(self, name: str) -> tuple[str, float] | None:
        """The schedule's payload and wake time, or None when it is gone."""
        try:
            answer = self._client.get_schedule(Name=name, GroupName=self.target.group)
        except ClientError as error:
            if _code(error) == "ResourceNotFoundException":
                return None
            raise
        return str(answer["Target"]["Input"]), at_time(str(answer["ScheduleExpression"]))


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
