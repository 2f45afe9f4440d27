"""No real sleeping: every wait the provider function can make runs on the virtual clock.

* botocore's retry back-off (``time.sleep`` in ``botocore.endpoint``, standard/legacy modes):
  a throttled DescribeEndpoint retried after a back-off costs Lambda time, as in AWS.
* crhelper's response retries (``time.sleep`` in ``crhelper.utils``: 2 s between tries, 5 s
  between rounds).
* crhelper's sleep before answering a Delete (``CfnResource._wait_for_cwlogs``, whose ``sleep``
  default argument is bound at import time, so it is replaced on the function itself).

Also :func:`preserved_logging`: crhelper reconfigures the root logger (level, formatters of every
root handler) at construction and at every invocation; the harness puts it back afterwards so
that pytest's own log handlers keep their formatting.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import botocore.endpoint
from crhelper import resource_helper, utils

from .clock import Clock


class _VirtualTime:
    """Stands in for the ``time`` module inside one module: ``sleep`` is virtual, the rest real."""

    def __init__(self, clock: Clock, on_sleep: Callable[[float], None] | None) -> None:
        self._clock = clock
        self._on_sleep = on_sleep

    def sleep(self, seconds: float) -> None:
        if self._on_sleep is not None:
            self._on_sleep(seconds)
        self._clock.sleep(seconds)

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


@contextlib.contextmanager
def virtual_sleeps(
    clock: Clock, on_sleep: Callable[[str, float], None] | None = None
) -> Iterator[None]:
    """Route the sleeps listed in the module docstring to ``clock`` for the duration.
    ``on_sleep(where, seconds)`` is told about each one."""

    def reporter(where: str) -> Callable[[float], None] | None:
        if on_sleep is None:
            return None
        return lambda seconds: on_sleep(where, seconds)

    # crhelper's stubs declare only its public API: reach its internals untyped.
    endpoint: Any = botocore.endpoint
    crhelper_utils: Any = utils
    wait_for_logs: Any = getattr(resource_helper.CfnResource, "_wait_for_cwlogs")  # noqa: B009
    saved = (endpoint.time, crhelper_utils.time, wait_for_logs.__defaults__)
    endpoint.time = _VirtualTime(clock, reporter("botocore retry"))
    crhelper_utils.time = _VirtualTime(clock, reporter("crhelper response retry"))
    delete_sleep = _VirtualTime(clock, reporter("crhelper sleep_on_delete"))
    wait_for_logs.__defaults__ = (delete_sleep.sleep,)
    try:
        yield
    finally:
        endpoint.time, crhelper_utils.time, wait_for_logs.__defaults__ = saved


@contextlib.contextmanager
def preserved_logging() -> Iterator[None]:
    """Undo crhelper's changes to the root logger (level, handler formatters) afterwards."""
    root = logging.getLogger()
    level = root.level
    formatters = {handler: handler.formatter for handler in root.handlers}
    named = {name: logging.getLogger(name).level
             for name in ("boto", "boto3", "botocore", "urllib3")}
    try:
        yield
    finally:
        root.setLevel(level)
        for handler, formatter in formatters.items():
            handler.setFormatter(formatter)
        for name, named_level in named.items():
            logging.getLogger(name).setLevel(named_level)
