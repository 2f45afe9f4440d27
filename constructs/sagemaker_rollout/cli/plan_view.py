"""`plan`'s text: per rollout, a summary grid and the phase table, within 100 columns."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich import box
from rich.console import Console, Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from ..time_budget import human
from .watch_view import MAX_WIDTH, duration

if TYPE_CHECKING:
    from ..rendered_timeline import RolloutTimeline
    from .plan import RolloutPlan


def _phases(timeline: RolloutTimeline) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("start", justify="right", no_wrap=True)
    table.add_column("phase")
    table.add_column("duration", justify="right", no_wrap=True)
    start = 0
    for phase in timeline.phases:
        length = duration(phase.seconds) if phase.budgeted else "no allowance"
        table.add_row(duration(start), phase.name, length)
        start += phase.seconds
    return table


def _budget_text(plan: RolloutPlan, timeline: RolloutTimeline) -> str:
    worst, budget = timeline.worst_case, plan.budget_seconds
    verdict = "within" if worst <= budget else "OVER"
    source = ("the custom resource's ServiceTimeout" if plan.budget_source == "ServiceTimeout"
              else plan.budget_source)
    text = f"{duration(worst)}, {verdict} the {duration(budget)} budget ({source})"
    if timeline.maximum_execution_timeout is not None:
        text += (f"; SageMaker stops it at MaximumExecutionTimeout "
                 f"{human(timeline.maximum_execution_timeout)}, then rolls back within "
                 f"{duration(timeline.budget.rollback_allowance)}")
    return text


def _overlap_text(timeline: RolloutTimeline) -> str:
    hours = timeline.overlap_instance_hours
    if not hours:
        return "no instance-hours (serverless: billed per use)"
    return f"{hours:.2f} instance-hours of the second fleet, in the worst case"


def render_plan(plan: RolloutPlan) -> RenderableType:
    rollout = plan.rollout
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("endpoint", rollout.endpoint_name or "(a name generated at deploy time)")
    timeline = plan.timeline
    grid.add_row("strategy", timeline.description if timeline else plan.note)
    grid.add_row("alarms", ", ".join(rollout.alarms) or "none (nothing rolls a bad model back)")
    parts: list[RenderableType] = [grid]
    if timeline is not None:
        parts.append(_phases(timeline))
        summary = Table.grid(padding=(0, 2))
        summary.add_column(style="bold", no_wrap=True)
        summary.add_column(overflow="fold")
        summary.add_row("worst case", _budget_text(plan, timeline))
        summary.add_row("both fleets", _overlap_text(timeline))
        parts.append(summary)
    title = Text(f"{rollout.path}  (stack {rollout.stack})", style="bold underline")
    return Group(title, Padding(Group(*parts), (0, 0, 0, 2)))


def print_plans(plans: list[RolloutPlan], console: Console | None = None) -> None:
    console = console or Console()
    # In a terminal at most its width; in a pipe or a log a fixed 100 (rich would assume 80).
    console.width = min(console.width, MAX_WIDTH) if console.is_terminal else MAX_WIDTH
    with console.capture() as captured:
        for i, plan in enumerate(plans):
            if i:
                console.print()
            console.print(render_plan(plan), highlight=False)
    # rich pads table cells to the column's width: no trailing blanks in a log or a file.
    console.file.write("\n".join(row.rstrip() for row in captured.get().splitlines()) + "\n")
