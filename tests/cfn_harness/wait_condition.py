"""CloudFormation's WaitCondition, as the handler meets it: a handle URL, signals, a Timeout.

Facts (waiting-at-scale.md, "Waiting longer than an hour"; AWS::CloudFormation::WaitCondition
and "Creating wait conditions in a template"):

- the handle's Ref is a presigned S3 URL; a signal is an HTTP PUT to it with an empty
  Content-Type (the URL signs none: S3 answers 403 SignatureDoesNotMatch to any other) and the
  body ``{"Status": "SUCCESS"|"FAILURE", "UniqueId": ..., "Data": ..., "Reason": ...}``;
- a repeated UniqueId is a retransmission and is ignored; with Count 1 the first signal decides;
  one FAILURE fails the condition (and the stack update);
- the Timeout is a lower bound that starts when the condition is created ("occurs no sooner
  than ..."): a condition with no decisive signal by then times out;
- a stack rollback's clean-up deletes the handle and the condition the failed update created: a
  signal to a deleted handle is not seen by anyone (the harness answers 403, as S3 answers for
  an object key whose presigned URL CloudFormation no longer honours; *unverified* detail).

*Unverified* (modelled, and offered as choices): whether a signal sent before the condition
exists counts (the harness counts it: CloudFormation's own example creates the condition after
the instance that signals), and the URL's expiry (none here).

Faults: ``fail_next(n, how)`` makes the next n PUTs fail (``"reset"``: the connection is closed
without an answer; ``"500"``: S3's "InternalError, retry"), so that signal retries can be tested.
"""

from __future__ import annotations

import json
import secrets
import socket
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from .clock import Clock
from .response_server import TlsAuthority

#: The bucket of wait condition handles in us-east-1 (the host of a handle's URL in AWS).
HANDLE_BUCKET = "cloudformation-waitcondition-us-east-1"

Outcome = Literal["WAITING", "SUCCESS", "FAILURE", "TIMEOUT", "DELETED"]
Fault = Literal["reset", "500"]


@dataclass(frozen=True)
class Signal:
    """One signal PUT as received."""

    status: str
    unique_id: str
    reason: str
    data: str
    arrived_at: float
    content_type: str


@dataclass
class WaitCondition:
    """One handle and its condition (Count 1)."""

    logical_id: str
    url: str
    timeout: int
    #: When CloudFormation created the condition (None: the handle exists, the condition not yet).
    created_at: float | None = None
    deleted: bool = False
    signals: list[Signal] = field(default_factory=list)
    #: PUTs refused (403) or failed on purpose, for the tests' stories.
    refused: list[str] = field(default_factory=list)

    def outcome(self, now: float) -> Outcome:
        """What CloudFormation makes of the condition at `now`."""
        if self.deleted:
            return "DELETED"
        if self.signals:
            return "SUCCESS" if self.signals[0].status == "SUCCESS" else "FAILURE"
        if self.created_at is not None and now >= self.created_at + self.timeout:
            return "TIMEOUT"
        return "WAITING"

    @property
    def decisive(self) -> Signal | None:
        return self.signals[0] if self.signals else None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        status = self.server.owner._receive(self.path, raw, self.headers.get("Content-Type"))
        if status is None:  # a "reset" fault: no answer at all
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: WaitConditions, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.owner = owner
        self.context = context

    def finish_request(self, request: Any, client_address: Any) -> None:
        assert isinstance(request, socket.socket)
        with self.context.wrap_socket(request, server_side=True) as tls:
            super().finish_request(tls, client_address)


class WaitConditions:
    """The WaitConditionHandles and WaitConditions of the harness's stacks, behind HTTPS."""

    def __init__(self, tls: TlsAuthority, clock: Clock) -> None:
        self.tls = tls
        self.clock = clock
        self._lock = threading.Lock()
        self._conditions: dict[str, WaitCondition] = {}  # path -> condition
        self._faults: list[Fault] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> WaitConditions:
        if self._server is None:
            self._server = _Server(self, self.tls.server_context())
            self._thread = threading.Thread(target=self._server.serve_forever,
                                            kwargs={"poll_interval": 0.01},
                                            name="wait-condition-server", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def create_handle(self, stack_id: str, logical_id: str, *, timeout: int) -> WaitCondition:
        """A new handle (a new URL, even for a logical id used before: CloudFormation creates a
        new resource), and its condition not created yet."""
        if self._server is None:
            raise RuntimeError("the wait condition server is not started")
        host, port = self._server.server_address[:2]
        path = (f"/{HANDLE_BUCKET}/{quote(stack_id, safe='')}/{logical_id}/"
                f"{secrets.token_hex(8)}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Expires=86400"
                f"&X-Amz-Signature={secrets.token_hex(32)}")
        condition = WaitCondition(logical_id, f"https://{host!s}:{port}{path}", timeout)
        with self._lock:
            self._conditions[path] = condition
        return condition

    def create_condition(self, condition: WaitCondition) -> None:
        """CloudFormation creates the condition (after the custom resource it depends on): its
        Timeout starts."""
        with self._lock:
            condition.created_at = self.clock.now()

    def delete(self, condition: WaitCondition) -> None:
        """A rollback's clean-up (or the next successful update's) deletes handle and condition."""
        with self._lock:
            condition.deleted = True

    def fail_next(self, count: int, how: Fault = "reset") -> None:
        with self._lock:
            self._faults.extend([how] * count)

    def _receive(self, target: str, raw: bytes, content_type: str | None) -> int | None:
        with self._lock:
            if self._faults:
                fault = self._faults.pop(0)
                return None if fault == "reset" else 500
            condition = self._conditions.get(target)
            if condition is None or condition.deleted:
                return 403
            if content_type:  # the URL signs no Content-Type
                condition.refused.append(f"Content-Type {content_type!r}")
                return 403
            try:
                body = json.loads(raw)
            except ValueError:
                condition.refused.append("no JSON body")
                return 400
            unique_id = str(body.get("UniqueId", ""))
            if any(s.unique_id == unique_id for s in condition.signals):
                return 200  # a retransmission: ignored
            condition.signals.append(Signal(
                status=str(body.get("Status")), unique_id=unique_id,
                reason=str(body.get("Reason", "")), data=str(body.get("Data", "")),
                arrived_at=self.clock.now(), content_type=content_type or ""))
            return 200

    def condition_of(self, url: str) -> WaitCondition:
        parts = urlsplit(url)
        with self._lock:
            return self._conditions[f"{parts.path}?{parts.query}"]
