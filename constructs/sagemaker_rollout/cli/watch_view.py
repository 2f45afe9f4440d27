"""How `watch` shows a deployment: one plain line per change (no terminal), or a panel that
rich redraws in place (a terminal), never wider than `MAX_WIDTH` columns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from rich.console import RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from .endpoint_state import Bake, Observation

#: The live view stays within this many columns, whatever the terminal's width.
MAX_WIDTH = 100
_BAR_WIDTH = 40


@dataclass(frozen=True)
class Frame:
    """Everything one redraw shows."""

    endpoint: str
    now: float
    observed: Observation
    #: Seconds since the deployment started (PendingDeploymentSummary.StartTime), or since the
    #: watch began.
    elapsed: float
    bake: Bake | None = None
    #: The worst case of the deployment (the construct's time budget), or None with `note`.
    worst_case: int | None = None
    strategy: str = ""
    note: str = ""
    alarms: tuple[str, ...] = ()


def duration(seconds: float) -> str:
    """`14 min 2 s`, `1 h 5 min`, `40 s`."""
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min {secs} s" if secs else f"{minutes} min"
    return f"{secs} s"


def timestamp(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def bake_text(bake: Bake) -> str:
    if bake.remaining is not None:
        return (f"bake {duration(bake.elapsed)} of {duration(bake.lengths[0])}, "
                f"{duration(bake.remaining)} left")
    lengths = " or ".join(duration(length) for length in bake.lengths)
    return f"bake {duration(bake.elapsed)} so far (of {lengths})"


def _phases_text(frame: Frame) -> list[tuple[str, str]]:
    rows = []
    for phase in frame.observed.phases:
        text = f"{phase.status}: {phase.message}" if phase.message else phase.status
        if phase.status == "Baking" and frame.bake is not None:
            text += f" ({bake_text(frame.bake)})"
        rows.append((phase.variant, text))
    return rows


def _progress_text(frame: Frame) -> str:
    if frame.worst_case is None:
        return f"{duration(frame.elapsed)} elapsed; worst case unknown ({frame.note})"
    share = min(1.0, frame.elapsed / frame.worst_case) if frame.worst_case else 1.0
    return (f"{duration(frame.elapsed)} elapsed of a {duration(frame.worst_case)} worst case "
            f"({share:.0%})")


def line(frame: Frame) -> str:
    """One line for a log: time, status, config, each variant's phase, progress."""
    observed = frame.observed
    parts = [timestamp(frame.now), observed.status]
    if observed.target:
        parts.append(f"deploying {observed.target}")
    else:
        parts.append(f"on {observed.config_name}")
    parts += [f"{variant}: {text}" for variant, text in _phases_text(frame)]
    if observed.target:
        parts.append(_progress_text(frame))
    return " | ".join(parts)


def panel(frame: Frame) -> RenderableType:
    """The live view: a two-column grid and a progress bar towards the worst case."""
    observed = frame.observed
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("endpoint", frame.endpoint)
    grid.add_row("status", observed.status)
    grid.add_row("serving", observed.config_name)
    if observed.target:
        grid.add_row("deploying", observed.target)
    if frame.strategy:
        grid.add_row("strategy", frame.strategy)
    for variant, text in _phases_text(frame):
        grid.add_row(variant, text)
    grid.add_row("alarms", ", ".join(frame.alarms) or "none")
    if observed.target:
        grid.add_row("elapsed", _progress_text(frame))
        if frame.worst_case:
            grid.add_row("progress", ProgressBar(total=frame.worst_case,
                                                 completed=min(frame.elapsed, frame.worst_case),
                                                 width=_BAR_WIDTH))
    grid.add_row("", Text(f"as of {timestamp(frame.now)}", style="dim"))
    return grid
