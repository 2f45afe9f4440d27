"""A virtual clock shared by the emulator and the code under test.

It satisfies the handler's ``Clock`` protocol (``lambda/sagemaker_rollout_handler/clock.py``:
``now() -> epoch seconds``, ``sleep(seconds)``), but ``sleep`` only moves virtual time forward, so
an hour-long deployment that the handler waits out runs in milliseconds.
"""

from __future__ import annotations

import threading
from typing import Protocol

#: 2026-01-01T00:00:00Z, a fixed start so that every test run sees the same timestamps.
DEFAULT_EPOCH = 1_767_225_600.0


class Clock(Protocol):
    """Structurally the handler's ``Clock`` protocol (kept local: the emulator imports nothing of
    the code under test)."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class VirtualClock:
    """Thread-safe virtual time in epoch seconds. Never reads or waits on real time."""

    def __init__(self, start: float = DEFAULT_EPOCH) -> None:
        self._lock = threading.Lock()
        self._now = float(start)

    def now(self) -> float:
        with self._lock:
            return self._now

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass, instantly. Negative values count as zero."""
        if seconds > 0:
            self.advance(seconds)

    def advance(self, seconds: float) -> float:
        """Move virtual time forward by ``seconds`` (>= 0); return the new time."""
        if seconds < 0:
            raise ValueError(f"virtual time cannot go backwards (advance({seconds}))")
        with self._lock:
            self._now += seconds
            return self._now
