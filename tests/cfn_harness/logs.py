"""What the provider function would write to CloudWatch Logs, captured for assertions.

crhelper configures the root logger itself at every invocation (``log_helper.setup``: level,
and its JSON formatter on every root handler). :class:`LogCapture` is a root handler attached
only while the driver runs an invocation, so it sees exactly the records that pass the levels
the handler chose, formatted by crhelper's formatter, as Lambda would ship them.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

#: Loggers of the code that runs inside the provider function (records from other threads are
#: kept only when they come from these, e.g. crhelper's timeout timer).
FUNCTION_LOGGERS = ("crhelper", "sagemaker_rollout_handler")


@dataclass(frozen=True)
class CapturedLog:
    logger: str
    level: str
    message: str  # record.getMessage()
    formatted: str  # as crhelper's formatter (or the default one) rendered it
    thread: str

    @property
    def text(self) -> str:
        return f"{self.message}\n{self.formatted}"


class LogCapture(logging.Handler):
    """Collects log records emitted during handler invocations."""

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.records: list[CapturedLog] = []
        self._threads: set[int] = set()
        self._lock_records = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        ours = record.thread in self._threads
        if not ours and not record.name.startswith(FUNCTION_LOGGERS):
            return
        try:
            message = record.getMessage()
        except Exception as exc:  # a broken log call is itself worth seeing
            message = f"<unformattable record {record.msg!r} % {record.args!r}: {exc!r}>"
        try:
            formatted = self.format(record)
        except Exception as exc:
            formatted = f"<formatter failed: {exc!r}>"
        if record.exc_text and record.exc_text not in formatted:
            formatted = f"{formatted}\n{record.exc_text}"
        with self._lock_records:
            self.records.append(CapturedLog(record.name, record.levelname, message, formatted,
                                            record.threadName or ""))

    @contextlib.contextmanager
    def capturing(self) -> Iterator[LogCapture]:
        """Attach to the root logger for the duration (the calling thread's records, plus those
        of the function's own loggers from any thread)."""
        root = logging.getLogger()
        ident = threading.get_ident()
        self._threads.add(ident)
        root.addHandler(self)
        try:
            yield self
        finally:
            root.removeHandler(self)
            self._threads.discard(ident)

    def text(self) -> str:
        with self._lock_records:
            return "\n".join(record.text for record in self.records)

    def clear(self) -> None:
        with self._lock_records:
            self.records.clear()


#: Query parameters of a presigned URL that carry (part of) the signature or a credential.
_SIGNING_PARAMETERS = ("x-amz-signature", "x-amz-credential", "x-amz-security-token",
                       "signature", "awsaccesskeyid")


def secrets_of_url(url: str) -> list[str]:
    """The strings of a presigned URL that must never be logged: the URL itself (with and without
    its scheme), its query string, and each signing parameter's value."""
    parts = urlsplit(url)
    found = [url, url.split("://", 1)[-1]]
    if parts.query:
        found.append(parts.query)
        found.extend(value for key, value in parse_qsl(parts.query)
                     if key.lower() in _SIGNING_PARAMETERS and len(value) >= 8)
        found.extend(value for value in parts.query.split("&") if "Signature" in value)
    return found


def assert_no_secrets(
    capture: LogCapture, *, response_urls: Iterable[str] = (), credentials: Iterable[str] = ()
) -> None:
    """No ResponseURL (nor its query string or signature) and no credential in the logs."""
    text = capture.text()
    leaks: list[str] = []
    for url in response_urls:
        leaks.extend(f"ResponseURL part {s[:40]!r}..." for s in secrets_of_url(url) if s in text)
    for secret in credentials:
        if secret and len(secret) >= 8 and secret in text:
            leaks.append(f"credential {secret[:4]!r}...")
    if "X-Amz-Signature" in text:
        leaks.append("an X-Amz-Signature parameter")
    if leaks:
        lines = [r.formatted for r in capture.records
                 if any(s in r.text for u in response_urls for s in secrets_of_url(u))
                 or any(c and len(c) >= 8 and c in r.text for c in credentials)
                 or "X-Amz-Signature" in r.text]
        raise AssertionError("secrets in the provider's logs: " + "; ".join(sorted(set(leaks)))
                             + "\nfirst offending records:\n" + "\n".join(lines[:3]))
