"""CloudFormation's WaitCondition, as the handler meets it: a handle URL, signals, a Timeout.

Facts (waiting-at-scale.md, "Waiting longer than an hour"; AWS::CloudFormation::WaitCondition
and "Creating wait conditions in a template"):

- the handle's Ref is a presigned S3 URL; a signal is an HTTP PUT to it with an empty
  Content-Type (the URL signs none) and the body
  ``{"Status": "SUCCESS"|"FAILURE", "UniqueId": ..., "Data": ..., "Reason": ...}``;
- a repeated UniqueId is a retransmission and is ignored; with Count 1 the first signal decides;
  one FAILURE fails the condition (and the stack update);
- the Timeout is a lower bound that starts when the condition is created ("occurs no sooner
  than ..."): a condition with no decisive signal by then times out;
- a stack rollback's clean-up deletes the handle and the condition the failed update created; a
  signal after that is seen by no one.

The handle's URL is served by the harness's presigned-S3 stand-in (`ResponseServer`), which
records every PUT over HTTPS (and, where it offers them, injects its faults); this module only
reads what arrived at the handle's URL as CloudFormation would.

*Unverified* (modelled, and offered as choices): whether a signal sent before the condition
exists counts (here it does: CloudFormation's own example creates the condition after the
instance that signals), and the URL's expiry (none here). A PUT with a Content-Type would be
refused by S3 (SignatureDoesNotMatch); here it is recorded and does not count.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from .clock import Clock
from .response_server import RecordedPut, ResponseServer

Outcome = Literal["WAITING", "SUCCESS", "FAILURE", "TIMEOUT", "DELETED"]

_handles = itertools.count(1)


@dataclass(frozen=True)
class Signal:
    """One signal that counts (the first of its UniqueId, before the handle was deleted)."""

    status: str
    unique_id: str
    reason: str
    data: str
    arrived_at: float


@dataclass
class WaitCondition:
    """One handle and its condition (Count 1)."""

    logical_id: str
    url: str
    timeout: int
    server: ResponseServer
    #: When CloudFormation created the condition (None: the handle exists, the condition not yet).
    created_at: float | None = None
    deleted_at: float | None = None

    def puts(self) -> list[RecordedPut]:
        """Every PUT that reached the handle's URL."""
        parts = urlsplit(self.url)
        target = f"{parts.path}?{parts.query}"
        return [p for p in self.server.puts() if p.target == target]

    def signals(self) -> list[Signal]:
        """The signals that count, in order of arrival."""
        seen: set[str] = set()
        found = []
        for put in self.puts():
            body = put.body
            if body is None or put.headers.get("content-type") or (
                self.deleted_at is not None and put.arrived_at > self.deleted_at
            ):
                continue
            unique_id = str(body.get("UniqueId", ""))
            if unique_id in seen:
                continue  # a retransmission
            seen.add(unique_id)
            found.append(Signal(str(body.get("Status")), unique_id, str(body.get("Reason", "")),
                                str(body.get("Data", "")), put.arrived_at))
        return found

    def outcome(self, now: float) -> Outcome:
        """What CloudFormation makes of the condition at `now`."""
        signals = self.signals()
        if signals and (self.created_at is None or signals[0].arrived_at
                        < self.created_at + self.timeout):
            return "SUCCESS" if signals[0].status == "SUCCESS" else "FAILURE"
        if self.deleted_at is not None:
            return "DELETED"
        if self.created_at is not None and now >= self.created_at + self.timeout:
            return "TIMEOUT"
        return "WAITING"


class WaitConditions:
    """The handles and conditions of the harness's stacks."""

    def __init__(self, server: ResponseServer, clock: Clock) -> None:
        self.server = server
        self.clock = clock

    def create_handle(self, stack_id: str, logical_id: str, *, timeout: int) -> WaitCondition:
        """A new handle: a new URL, even for a logical id used before (CloudFormation creates a
        new resource), and its condition not created yet."""
        url = self.server.issue_url(stack_id, logical_id, f"wait-condition-handle-{next(_handles)}")
        return WaitCondition(logical_id, url, timeout, self.server)

    def create_condition(self, condition: WaitCondition) -> None:
        """CloudFormation creates the condition (after the custom resource it depends on): its
        Timeout starts."""
        condition.created_at = self.clock.now()

    def delete(self, condition: WaitCondition) -> None:
        """A rollback's clean-up (or the next successful update's) deletes handle and condition."""
        condition.deleted_at = self.clock.now()
