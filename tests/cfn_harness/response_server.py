"""A local HTTPS server standing in for the presigned S3 URL CloudFormation waits on.

crhelper sends its answer with ``http.client.HTTPSConnection`` and
``ssl.create_default_context()``, i.e. it only speaks TLS and trusts the default CA store. The
harness makes a throw-away CA with ``trustme``, serves a certificate for 127.0.0.1 signed by it,
and points ``SSL_CERT_FILE`` (which OpenSSL reads each time a default context loads its CA
store) at a bundle holding that CA: see :class:`TlsAuthority`.

Every PUT is recorded with its parsed JSON body, its size in bytes, its headers, the virtual time
of arrival and whether it hit a URL the harness issued (S3 would answer 403 otherwise).
"""

from __future__ import annotations

import json
import secrets
import socket
import ssl
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import trustme

from .clock import Clock

Json = dict[str, Any]
#: CloudFormation's response bucket for us-east-1 (the first path segment of a ResponseURL).
RESPONSE_BUCKET = "cloudformation-custom-resource-response-useast1"


class TlsAuthority:
    """A trustme CA, a server certificate for 127.0.0.1, and a CA bundle file to trust it."""

    def __init__(self, directory: Path | None = None) -> None:
        self.ca = trustme.CA()
        self.server_cert = self.ca.issue_cert("127.0.0.1", "localhost")
        self._tmp = None if directory else tempfile.TemporaryDirectory(prefix="cfn-harness-tls-")
        self.directory = directory or Path(self._tmp.name)  # type: ignore[union-attr]
        self.bundle_path = self.directory / "ca-bundle.pem"
        parts = [self.ca.cert_pem.bytes()]
        system = ssl.get_default_verify_paths().openssl_cafile
        if system and Path(system).is_file():  # keep the system CAs trusted too
            parts.append(Path(system).read_bytes())
        self.bundle_path.write_bytes(b"\n".join(parts))

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.server_cert.configure_cert(ctx)
        return ctx

    def cleanup(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()


@dataclass(frozen=True)
class RecordedPut:
    """One PUT received by the response server."""

    request_id: str | None  # from the body (None if the body is no JSON object with RequestId)
    body: Json | None  # parsed JSON, None if unparsable
    raw: bytes
    size: int  # bytes
    arrived_at: float  # virtual time
    target: str  # path + query string as received
    headers: dict[str, str]
    issued: bool  # the target is a ResponseURL the harness handed out
    sequence: int  # arrival order over the server's life


@dataclass
class _State:
    clock: Clock | None = None
    puts: list[RecordedPut] = field(default_factory=list)
    issued: dict[str, str] = field(default_factory=dict)  # target -> RequestId
    sequence: int = 0


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _TlsServer

    def do_PUT(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        failure = self.server.owner._take_failure()
        if failure is not None:
            # The response-URL fault: S3 answers 5xx now and then ("retry the request", S3
            # error responses); the answer is not received.
            self.send_response(failure)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.server.owner._record(self.path, raw, {k.lower(): v for k, v in self.headers.items()})
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


class _TlsServer(ThreadingHTTPServer):
    daemon_threads = True
    #: Not socketserver's backlog of 5: a stack's hundreds of answers arrive at once (S3, behind
    #: the ResponseURL, refuses none of them).
    request_queue_size = 1024

    def __init__(self, owner: ResponseServer, context: ssl.SSLContext) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.owner = owner
        self.context = context

    def finish_request(self, request: Any, client_address: Any) -> None:
        # The TLS handshake runs in the per-connection thread, not in the accept loop.
        assert isinstance(request, socket.socket)
        with self.context.wrap_socket(request, server_side=True) as tls:
            super().finish_request(tls, client_address)


class ResponseServer:
    """The presigned-S3 stand-in. Session-scoped: :meth:`reset` per test (new clock)."""

    def __init__(self, tls: TlsAuthority) -> None:
        self.tls = tls
        self._lock = threading.Lock()
        self._state = _State()
        self._server: _TlsServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> ResponseServer:
        if self._server is None:
            self._server = _TlsServer(self, self.tls.server_context())
            self._thread = threading.Thread(target=self._server.serve_forever,
                                            kwargs={"poll_interval": 0.01},
                                            name="cfn-response-server", daemon=True)
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

    def reset(self, clock: Clock) -> None:
        with self._lock:
            sequence = self._state.sequence
            self._state = _State(clock=clock, sequence=sequence)
            self._failures: list[int] = []
            self.refused = 0

    def fail_next(self, times: int, status: int = 500) -> None:
        """The next ``times`` PUTs answer HTTP ``status`` and are not received."""
        with self._lock:
            self._failures.extend([status] * times)

    def _take_failure(self) -> int | None:
        with self._lock:
            if not getattr(self, "_failures", None):
                return None
            self.refused += 1
            return self._failures.pop(0)

    @property
    def origin(self) -> str:
        if self._server is None:
            raise RuntimeError("the response server is not started")
        host, port = self._server.server_address[:2]
        return f"https://{host!s}:{port}"

    def issue_url(self, stack_id: str, logical_resource_id: str, request_id: str) -> str:
        """A ResponseURL shaped like CloudFormation's presigned S3 URL, registered as valid."""
        key = quote(f"{stack_id}|{logical_resource_id}|{request_id}", safe="")
        when = datetime.fromtimestamp(self._now(), UTC)
        credential = quote(f"AKIA{secrets.token_hex(8).upper()}/{when:%Y%m%d}/us-east-1/s3/"
                           "aws4_request", safe="")
        # A real presigned ResponseURL is 1-1.5 KB (issue 17.1): most of it is the session
        # token of CloudFormation's temporary credentials (X-Amz-Security-Token).
        token = quote(secrets.token_urlsafe(660), safe="")
        query = (f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date={when:%Y%m%dT%H%M%SZ}"
                 f"&X-Amz-SignedHeaders=host&X-Amz-Expires=7200&X-Amz-Credential={credential}"
                 f"&X-Amz-Security-Token={token}&X-Amz-Signature={secrets.token_hex(32)}")
        target = f"/{RESPONSE_BUCKET}/{key}?{query}"
        with self._lock:
            self._state.issued[target] = request_id
        return self.origin + target

    def puts(self, request_id: str | None = None) -> list[RecordedPut]:
        """Every PUT so far (of one RequestId if given: by body, or by the URL it hit)."""
        with self._lock:
            puts = list(self._state.puts)
            issued = dict(self._state.issued)
        if request_id is None:
            return puts
        return [p for p in puts if p.request_id == request_id
                or issued.get(p.target) == request_id]

    def _now(self) -> float:
        clock = self._state.clock
        if clock is None:
            raise RuntimeError("ResponseServer.reset(clock) was never called")
        return clock.now()

    def _record(self, target: str, raw: bytes, headers: dict[str, str]) -> None:
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = None
        body = parsed if isinstance(parsed, dict) else None
        request_id = body.get("RequestId") if body else None
        with self._lock:
            self._state.sequence += 1
            self._state.puts.append(RecordedPut(
                request_id=str(request_id) if request_id is not None else None,
                body=body, raw=raw, size=len(raw), arrived_at=self._now(), target=target,
                headers=headers, issued=target in self._state.issued,
                sequence=self._state.sequence,
            ))


def new_request_id() -> str:
    return str(uuid.uuid4())
