"""The HTTP face of the emulator: SageMaker's JSON 1.1 protocol, as botocore speaks it.

Requests: ``POST /`` with ``X-Amz-Target: SageMaker.<Operation>`` and a JSON body (botocore
service model metadata: protocol ``json``, jsonVersion ``1.1``, targetPrefix ``SageMaker``).
Answers: ``application/x-amz-json-1.1``, timestamps as epoch-second numbers, an
``x-amzn-RequestId`` header (botocore reads the request id from it), errors as
``{"__type": code, "message": text}`` with the HTTP status of the error (400 for client errors,
including ThrottlingException, which botocore retries by its code; 500/503 for server faults).

Optionally, every request is first judged by an ``Authorizer`` (``SageMakerEmulator.authorizer``)
with the access key id that signed it (the ``Credential=`` of botocore's SigV4 ``Authorization``
header): IAM's decision, made before SageMaker looks at the request, so a denied call changes
nothing and is answered as the authorizer's ``ApiError`` (``tests/iam_authorizer.py`` judges the
provider role's synthesized policy).
"""

from __future__ import annotations

import copy
import json
import re
import threading
import traceback
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from .clock import Clock
from .errors import ApiError, DroppedConnection, Messages
from .faults import Faults
from .model import Store
from .records import Behaviour, Call, Endpoint, EndpointConfig, InvariantViolation
from .timeline import Timeline, Timings

JSON_CONTENT_TYPE = "application/x-amz-json-1.1"
#: SigV4: ``Authorization: AWS4-HMAC-SHA256 Credential=<access key id>/<date>/<region>/...``.
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/")

#: ``authorizer(access_key_id, operation, params, store)``: raise ``ApiError`` to deny. Runs
#: under the store's lock, with the store refreshed to now (read its resources and tags).
Authorizer = Callable[[str, str, dict[str, Any], Store], None]
TARGET_PREFIX = "SageMaker."


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as botocore's connection pool expects
    disable_nagle_algorithm = True  # one small response must not wait for a delayed ACK
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        target = self.headers.get("X-Amz-Target", "")
        emulator = self.server.emulator
        try:
            if not target.startswith(TARGET_PREFIX):
                raise ApiError("UnknownOperationException", f"Unknown target {target!r}.")
            try:
                params = json.loads(body or b"{}")
            except ValueError:
                raise ApiError("SerializationException", "Request body is not JSON.") from None
            if not isinstance(params, dict):
                raise ApiError("SerializationException", "Request body is not a JSON object.")
            operation = target[len(TARGET_PREFIX):]
            emulator.authorize(self._access_key(), operation, params)
            result = emulator.store.handle(operation, params)
            self._answer(200, result)
        except ApiError as err:
            self._answer(err.status, {"__type": err.code, "message": err.message})
        except DroppedConnection:
            self.close_connection = True  # no answer at all: the client sees the socket close
        except Exception as exc:  # an emulator bug: say so loudly, never hide it
            emulator.internal_errors.append(traceback.format_exc())
            self._answer(500, {"__type": "InternalFailure", "message": f"emulator bug: {exc!r}"})

    def _access_key(self) -> str:
        found = _CREDENTIAL.search(self.headers.get("Authorization", ""))
        return found.group(1) if found else ""

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", JSON_CONTENT_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    #: socketserver's default listen backlog is 5 (``BaseServer.request_queue_size``): a fleet of
    #: concurrent invocations would meet refused connections (retried by botocore, then turned
    #: into "look again") that SageMaker's endpoint never gives. A real endpoint's backlog is
    #: not documented; the kernel caps this one at net.core.somaxconn.
    request_queue_size = 1024

    def __init__(self, emulator: SageMakerEmulator) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.emulator = emulator


class SageMakerEmulator:
    """A local SageMaker endpoint control plane on virtual time.

    >>> clock = VirtualClock()
    >>> with SageMakerEmulator(clock) as emulator:
    ...     client = boto3.client("sagemaker", endpoint_url=emulator.url, region_name="us-east-1",
    ...                           aws_access_key_id="x", aws_secret_access_key="x")
    """

    def __init__(
        self,
        clock: Clock,
        *,
        region: str = "us-east-1",
        account_id: str = "123456789012",
        timings: Timings | None = None,
        seed: int = 0,
        messages: Messages | None = None,
        behaviour: Behaviour | None = None,
    ) -> None:
        self.region = region
        self.account_id = account_id
        #: Tracebacks of exceptions the emulator raised while serving (should stay empty).
        self.internal_errors: list[str] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.reset(clock, timings=timings or Timings(), seed=seed,
                   messages=messages or Messages(), behaviour=behaviour or Behaviour())

    def reset(
        self,
        clock: Clock,
        *,
        timings: Timings | None = None,
        seed: int = 0,
        messages: Messages | None = None,
        behaviour: Behaviour | None = None,
    ) -> None:
        """Forget every resource, call and fault, and start over on ``clock``, keeping the HTTP
        server (and its URL) running: lets a test module share one server and one boto3 client.
        """
        self.clock = clock
        self.store = Store(clock, region=self.region, account_id=self.account_id,
                           timings=timings or Timings(), seed=seed,
                           messages=messages or Messages(), behaviour=behaviour or Behaviour())
        self.faults = Faults(self.store)
        self.internal_errors.clear()
        #: IAM in front of the API (None: every request is allowed, as with an admin's keys).
        self.authorizer: Authorizer | None = None

    def authorize(self, access_key: str, operation: str, params: dict[str, Any]) -> None:
        """IAM's decision on one request; a denied request is recorded, with the error's code and
        rule, and goes no further."""
        if self.authorizer is None:
            return
        store = self.store
        with store.lock:
            now = store.refresh()
            try:
                self.authorizer(access_key, operation, params, store)
            except ApiError as err:
                store.calls.append(Call(now, operation, copy.deepcopy(params), err.code, err.rule))
                raise

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self) -> SageMakerEmulator:
        if self._server is None:
            self._server = _Server(self)
            self._thread = threading.Thread(target=self._server.serve_forever,
                                            kwargs={"poll_interval": 0.01},
                                            name="sagemaker-emulator", daemon=True)
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

    def __enter__(self) -> SageMakerEmulator:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # --- introspection -----------------------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Every request so far (virtual time, operation, params, error code / rule if any)."""
        with self.store.lock:
            return list(self.store.calls)

    def calls_to(self, operation: str) -> int:
        """How many requests named ``operation`` (failed ones included)."""
        with self.store.lock:
            return sum(1 for call in self.store.calls if call.operation == operation)

    def invariant_violations(self) -> list[InvariantViolation]:
        """Moments an endpoint referenced an endpoint config that no longer existed."""
        with self.store.lock:
            self.store.refresh()
            return list(self.store.violations)

    def endpoint(self, name: str) -> Endpoint | None:
        """The endpoint record as of now (a live object: read, do not mutate), or None."""
        with self.store.lock:
            self.store.refresh()
            return self.store.endpoints.get(name.lower())

    def endpoint_status(self, name: str) -> str | None:
        with self.store.lock:
            now = self.store.refresh()
            endpoint = self.store.endpoints.get(name.lower())
            return None if endpoint is None else self.store.status_of(endpoint, now)

    def endpoint_config(self, name: str) -> EndpointConfig | None:
        with self.store.lock:
            return self.store.configs.get(name.lower())

    def collect_events(self) -> list[Any]:
        """Publish the events due by now and return every event published so far
        (``events.Published``: changed_at, deliver_at, event)."""
        self.store.collect_events()
        with self.store.lock:
            return list(self.store.events.published)

    def next_change_after(self, t: float) -> float | None:
        return self.store.next_change_after(t)

    def deployment_end(self, name: str) -> float | None:
        """Virtual time at which the running operation of ``name`` ends (None if idle)."""
        with self.store.lock:
            self.store.refresh()
            endpoint = self.store.endpoints.get(name.lower())
            if endpoint is None or endpoint.timeline is None:
                return None
            return endpoint.timeline.end

    def finished_operations(self, name: str) -> list[Timeline]:
        """The operations (create, update, delete, system-update) of endpoint ``name`` that have
        ended by now, oldest first. ``timeline.started`` is when SageMaker accepted the call,
        ``timeline.end`` when the endpoint reached its terminal status (InService on the new or
        the old config, Failed, UpdateRollbackFailed, gone), ``timeline.outcome`` which one."""
        with self.store.lock:
            self.store.refresh()
            return [timeline for endpoint, timeline in self.store.finished
                    if endpoint == name.lower()]

    def set_variant_capacity(self, endpoint_name: str, variant_name: str, *,
                             desired_instance_count: int | None = None,
                             desired_weight: float | None = None) -> None:
        """Simulate autoscaling / UpdateEndpointWeightsAndCapacities on a serving variant."""
        with self.store.lock:
            self.store.refresh()
            self.store.set_variant_capacity(endpoint_name, variant_name,
                                            desired_instance_count=desired_instance_count,
                                            desired_weight=desired_weight)
