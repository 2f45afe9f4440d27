"""What one invocation's work (`rollout.run`) comes to: done, failed, or pending (look again)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .decisions import Observation, Progress

__all__ = ["Done", "Failed", "Outcome", "Pending"]


@dataclass(frozen=True)
class Done:
    attributes: dict[str, str]
    #: What the success's reason says besides success (a Failed endpoint recreated).
    note: str = ""


@dataclass(frozen=True)
class Failed:
    reason: str
    #: What had been done when it failed (a Create that made an endpoint must say so).
    progress: Progress = field(default_factory=Progress)


@dataclass(frozen=True)
class Pending:
    progress: Progress
    why: str
    #: The last read (None: the endpoint does not exist, or no read succeeded).
    observed: Observation | None = None
    #: Look again no later than this (epoch seconds), whatever the events say.
    recheck_at: float | None = None
    #: Whether DescribeEndpoint answered in this invocation (False: the call failed for a while,
    #: or the config was not found yet): ``observed`` then says nothing of the endpoint.
    looked: bool = True


Outcome = Done | Failed | Pending
