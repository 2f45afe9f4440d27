"""The answer to CloudFormation: fitted into 4096 bytes, and PUT until it is received.

- `fit` (issue 17.7): CloudFormation's limit is on the body's bytes; a Reason is cut by its
  UTF-8 size, at a character boundary, keeping its head (the endpoint, the config, SageMaker's
  words) and marking the cut.
- `put_response` (issue 17.6): the presigned URL is S3's; S3 answers 5xx now and then ("retry
  the request", S3 error responses), and crhelper's `_send_response` treats any status as
  success. We retry 5xx and connection errors with exponential back-off while the invocation
  has time, and give up (logged) on a 4xx, which no retry can fix.
"""

from __future__ import annotations

import json
import logging
import ssl
from http.client import HTTPException, HTTPSConnection
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .clock import Clock

logger = logging.getLogger(__name__)

#: CloudFormation's limit on the whole response body.
RESPONSE_LIMIT = 4096
_CUT = " [...]"


def fit(body: dict[str, Any]) -> None:
    """Make the JSON body fit CloudFormation's limit: shorten the Reason from its end by encoded
    size, then drop Data if it is still too large."""
    def size() -> int:
        return len(json.dumps(body).encode())

    if size() > RESPONSE_LIMIT and body.get("Data"):
        reason_room = RESPONSE_LIMIT - (size() - len(json.dumps(str(body["Reason"])).encode()))
        if reason_room < 512:
            body["Data"] = {}
    excess = size() - RESPONSE_LIMIT
    if excess > 0:
        body["Reason"] = _cut(str(body["Reason"]), excess)
    if size() > RESPONSE_LIMIT:
        body["Data"] = {}


def _cut(reason: str, excess: int) -> str:
    """``reason`` shortened so that its JSON encoding is ``excess`` bytes smaller (or more)."""
    encoded = len(json.dumps(reason).encode())
    budget = encoded - excess - len(_CUT)
    kept = reason
    while kept and len(json.dumps(kept).encode()) > budget:
        # Drop by characters proportional to the excess: a handful of rounds at most.
        over = len(json.dumps(kept).encode()) - budget
        kept = kept[: max(0, len(kept) - max(1, over // 4))]
    return kept + _CUT


def put_response(
    url: str, body: str, clock: Clock, *, give_up_after: float, ssl_verify: Any = None
) -> bool | None:
    """PUT ``body`` to the presigned ``url`` (no Content-Type: the URL signs none). True when S3
    took it, False when it refused it (a 4xx: no retry can help), None when it did not answer
    (5xx, connection errors) within ``give_up_after`` seconds."""
    parts = urlsplit(url)
    target = urlunsplit(("", "", *parts[2:]))
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if ssl_verify is False:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    deadline = clock.now() + give_up_after
    delay = 1.0
    attempt = 0
    while True:
        attempt += 1
        status = _put_once(parts.netloc, target, body, context)
        if status is not None and status < 500:
            if status >= 300:
                logger.error({"message": "CloudFormation's response URL refused the answer",
                              "status": status})
            return status < 300
        logger.warning({"message": "answer not received; retrying", "attempt": attempt,
                        "status": status})
        if clock.now() + delay > deadline:
            logger.error({"message": "could not deliver the answer in this invocation",
                          "attempts": attempt})
            return None
        clock.sleep(delay)
        delay = min(delay * 2, 16.0)


def _put_once(host: str, target: str, body: str, context: ssl.SSLContext) -> int | None:
    """The HTTP status, or None when the connection failed."""
    connection = HTTPSConnection(host, context=context, timeout=30)
    try:
        connection.request("PUT", target, body=body.encode(),
                           headers={"content-type": "", "content-length": str(len(body.encode()))})
        return connection.getresponse().status
    except (OSError, HTTPException):
        return None
    finally:
        connection.close()
