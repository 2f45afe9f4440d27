"""The clock the harness needs: structurally ``sagemaker_emulator.VirtualClock``.

Kept local (a Protocol) so the harness does not depend on the emulator: the test session
shares ONE ``VirtualClock`` between the emulator, the handler and the harness.
"""

from __future__ import annotations

from typing import Protocol


class Clock(Protocol):
    """What the handler and the emulator read: epoch seconds, and a way to let time pass."""

    def now(self) -> float: ...

    def sleep(self, seconds: float) -> None: ...


class VirtualClockLike(Clock, Protocol):
    """What the driver needs on top: jumping to the polling rule's next firing."""

    def advance(self, seconds: float) -> float: ...
