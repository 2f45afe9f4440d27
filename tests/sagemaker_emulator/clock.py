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
    """Thread-safe virtual time in epoch seconds. Never reads or waits on real time.

    Two ways to sleep:

    * from a thread that has not joined (tests, scripts, a handler run alone): ``sleep`` moves
      time forward at once;
    * from a thread that joined (:meth:`joining`: a Lambda invocation the harness runs next to
      others), ``sleep`` blocks until the one thread that drives time (:meth:`settle`,
      :meth:`advance_to`) has moved it that far. Time moves only once every joined thread is
      asleep, so invocations running "at the same time" see one consistent clock, as in AWS.
    """

    def __init__(self, start: float = DEFAULT_EPOCH) -> None:
        self._cv = threading.Condition()
        self._now = float(start)
        self._joined: set[int] = set()
        self._pending = 0
        #: Joined threads asleep, with the time they wake at.
        self._asleep: dict[int, float] = {}

    def now(self) -> float:
        with self._cv:
            return self._now

    def sleep(self, seconds: float) -> None:
        """Let ``seconds`` of virtual time pass (see the class docstring). Negative = zero."""
        ident = threading.get_ident()
        with self._cv:
            if ident not in self._joined:
                if seconds > 0:
                    self._now += seconds
                return
            self._asleep[ident] = self._now + max(0.0, seconds)
            self._cv.notify_all()
            while ident in self._asleep:
                self._cv.wait()

    def advance(self, seconds: float) -> float:
        """Move virtual time forward by ``seconds`` (>= 0); return the new time."""
        if seconds < 0:
            raise ValueError(f"virtual time cannot go backwards (advance({seconds}))")
        with self._cv:
            return self._move_to(self._now + seconds)

    # --- cooperative time (the harness's driver) ---------------------------------------------

    def expect_joiner(self) -> None:
        """A thread is about to :meth:`join`: :meth:`settle` waits for it."""
        with self._cv:
            self._pending += 1

    def join(self) -> None:
        with self._cv:
            self._pending = max(0, self._pending - 1)
            self._joined.add(threading.get_ident())

    def leave(self) -> None:
        with self._cv:
            self._joined.discard(threading.get_ident())
            self._asleep.pop(threading.get_ident(), None)
            self._cv.notify_all()

    def settle(self, timeout: float = 30.0) -> bool:
        """Block until every joined thread sleeps (or has left); False after ``timeout`` real
        seconds (a thread that hangs or sleeps for real)."""
        with self._cv:
            return self._cv.wait_for(
                lambda: self._pending == 0 and self._joined <= set(self._asleep), timeout)

    def next_wake(self) -> float | None:
        """When the first sleeping joined thread wakes (None: none sleeps)."""
        with self._cv:
            return min(self._asleep.values()) if self._asleep else None

    def advance_to(self, when: float) -> float:
        """Move time to ``when`` (never backwards) and wake the joined threads due by then."""
        with self._cv:
            return self._move_to(max(self._now, when))

    def _move_to(self, when: float) -> float:
        self._now = when
        due = [ident for ident, wake in self._asleep.items() if wake <= when]
        for ident in due:
            del self._asleep[ident]
        if due:
            self._cv.notify_all()
        return self._now
