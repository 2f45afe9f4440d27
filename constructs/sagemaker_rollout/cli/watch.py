"""`sagemaker-rollout watch ENDPOINT_NAME`: follow a deployment until it ends.

Polls DescribeEndpoint every `--interval` seconds; the clock and the sleep are injected
(`Runtime`), so tests run it on the emulator's virtual clock. Without a terminal it prints one
line per change; in a terminal rich redraws a panel in place, once a second between polls (the
bake countdown ticks). The exit code says how the deployment ended (`endpoint_state.outcome`).
"""

from __future__ import annotations

import functools
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import click
from rich.console import Console
from rich.live import Live

from ..rendered_timeline import RolloutTimeline, rollout_timeline
from ..time_budget import PROVISIONING_ALLOWANCE_SECONDS
from .assembly import Rollout, find_rollout
from .describe import ClientFactory, describe, sagemaker_client
from .endpoint_state import (
    BakeTracker,
    Observation,
    Outcome,
    alarm_names,
    observation_from,
    outcome,
)
from .errors import EXIT_OK
from .options import provisioning_allowance_option
from .watch_view import MAX_WIDTH, Frame, line, panel

#: VariantStatus values seen before any traffic moved: a watch that starts here sees every bake.
_BEFORE_TRAFFIC = frozenset({"Creating", "Updating"})


@dataclass
class Runtime:
    """What the command line takes from the world: time and the SageMaker client."""

    now: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    client_factory: ClientFactory = sagemaker_client
    #: Where output goes; None: rich's console on stdout.
    console: Console | None = None


@dataclass
class _Timelines:
    """The construct's timeline of the deployment config, computed once per config and fleet."""

    provisioning_allowance: int = PROVISIONING_ALLOWANCE_SECONDS
    cache: dict[str, RolloutTimeline | str] = field(default_factory=dict)

    def of(self, config: Mapping[str, Any] | None, observed: Observation) -> RolloutTimeline | str:
        """The timeline, or why there is none."""
        key = json.dumps([config, [v.initial_instance_count for v in observed.variants]],
                         sort_keys=True, default=str)
        if key not in self.cache:
            try:
                self.cache[key] = rollout_timeline(
                    config, observed.variants, check_timeout=False,
                    provisioning_allowance=self.provisioning_allowance,
                    # A running deployment may be a long one, waited for by a WaitCondition.
                    wait_mode=None)
            except ValueError as error:
                self.cache[key] = _first_sentence(str(error).splitlines()[-1].strip())
        return self.cache[key]


def _first_sentence(refusal: str) -> str:
    """A short note for the view: the rule the construct's time budget refused it by."""
    rule = re.match(r"\[([^\]]+)\]", refusal)
    return f"the construct refuses it: {rule.group(1)}" if rule else refusal[:90]


class Watch:
    """The state of one watch: the config being deployed, its timeline, the bakes seen."""

    def __init__(self, endpoint: str, started: float, *, planned: Rollout | None = None,
                 provisioning_allowance: int = PROVISIONING_ALLOWANCE_SECONDS) -> None:
        self.endpoint = endpoint
        self.started = started
        #: The endpoint's rollout in a synthesized assembly (`--assembly`), if given.
        self.planned = planned
        self.target: str | None = None
        self.deployment_config: Mapping[str, Any] | None = None
        self.tracker: BakeTracker | None = None
        self._timelines = _Timelines(provisioning_allowance)
        self._timeline: RolloutTimeline | str = "no deployment seen"

    @property
    def config_being_deployed(self) -> Mapping[str, Any] | None:
        """The assembly's DeploymentConfig when one was given and has it (not with
        RetainDeploymentConfig, which reuses LastDeploymentConfig), else LastDeploymentConfig."""
        if self.planned is not None and self.planned.properties.get("DeploymentConfig"):
            planned: Mapping[str, Any] = self.planned.properties["DeploymentConfig"]
            return planned
        return self.deployment_config

    def alarms(self) -> tuple[str, ...]:
        """SageMaker's names of the alarms, else the assembly's."""
        names = alarm_names(self.deployment_config)
        if not names and self.planned is not None:
            return self.planned.alarms
        return tuple(names)

    def observe(self, observed: Observation) -> Outcome | None:
        """Take in a new answer; the end of the watch, if it ended."""
        if observed.last_deployment_config is not None:
            # *Unverified*: whether SageMaker shows the running deployment's config here before
            # it ends (the emulator shows the previous one until then). docs/cli.md says so.
            self.deployment_config = observed.last_deployment_config
        if observed.target and observed.target != self.target:
            self.target = observed.target
            self._timeline = self._timelines.of(self.config_being_deployed, observed)
            schedule = () if isinstance(self._timeline, str) else self._timeline.bake_schedule()
            fresh = all(p.status in _BEFORE_TRAFFIC for p in observed.phases)
            self.tracker = BakeTracker(schedule, from_the_start=fresh)
        return outcome(observed, self.target, self.alarms())

    def frame(self, observed: Observation, now: float) -> Frame:
        timeline = self._timeline
        start = observed.pending_start if observed.pending_start is not None else self.started
        bake = self.tracker.current(observed.phases, now) if self.tracker else None
        known = not isinstance(timeline, str)
        return Frame(
            endpoint=self.endpoint,
            now=now,
            observed=observed,
            elapsed=max(0.0, now - start),
            bake=bake,
            worst_case=timeline.worst_case if not isinstance(timeline, str) else None,
            strategy=timeline.description if not isinstance(timeline, str) else "",
            note="" if known else str(timeline),
            alarms=self.alarms(),
        )


class Display(Protocol):
    def show(self, frame: Frame) -> None: ...

    def close(self) -> None: ...


class LineDisplay:
    """No terminal: one line per change (not per poll, not per countdown tick)."""

    def __init__(self, console: Console) -> None:
        self._console = console
        self._last: tuple[Any, ...] | None = None

    def show(self, frame: Frame) -> None:
        key = frame.observed.change_key()
        if key != self._last:
            self._last = key
            self._console.print(line(frame), markup=False, highlight=False, soft_wrap=True)

    def close(self) -> None:
        pass


class LiveDisplay:
    """A terminal: the panel, redrawn in place, at most `MAX_WIDTH` columns wide."""

    def __init__(self, console: Console) -> None:
        console.width = min(console.width, MAX_WIDTH)
        self._live = Live(console=console, auto_refresh=False, transient=False)
        self._live.start()

    def show(self, frame: Frame) -> None:
        self._live.update(panel(frame), refresh=True)

    def close(self) -> None:
        self._live.stop()


def follow(watch: Watch, client: Any, runtime: Runtime, interval: float,
           display: Display, *, tick: float | None) -> Outcome:
    """Poll until the deployment ends. `tick`: redraw this often between polls (None: never)."""
    endpoint = watch.endpoint
    while True:
        observed = observation_from(describe(client, endpoint))
        ended = watch.observe(observed)
        display.show(watch.frame(observed, runtime.now()))
        if ended is not None:
            return ended
        redraw = functools.partial(_redraw, display, watch, observed, runtime)
        _wait(interval, runtime, tick, redraw)


def _redraw(display: Display, watch: Watch, observed: Observation, runtime: Runtime) -> None:
    display.show(watch.frame(observed, runtime.now()))


def _wait(interval: float, runtime: Runtime, tick: float | None,
          redraw: Callable[[], None]) -> None:
    if tick is None:
        runtime.sleep(interval)
        return
    deadline = runtime.now() + interval
    while (left := deadline - runtime.now()) > 0:
        runtime.sleep(min(tick, left))
        redraw()


@click.command()
@click.argument("endpoint_name")
@click.option("--interval", type=click.FloatRange(min=1.0), default=10.0, show_default=True,
              help="Seconds between DescribeEndpoint calls.")
@click.option("--region", default=None,
              help="The endpoint's region. Default: boto3's (AWS_REGION, the profile).")
@click.option("--assembly", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="A synthesized cloud assembly (cdk.out) with the endpoint's rollout: its "
                   "DeploymentConfig is the one being deployed. Default: DescribeEndpoint's "
                   "LastDeploymentConfig.")
@provisioning_allowance_option
@click.pass_obj
def watch(runtime: Runtime, endpoint_name: str, interval: float, region: str | None,
          assembly: Path | None, provisioning_allowance: int) -> None:
    """Follow the deployment of ENDPOINT_NAME until it ends.

    Exit 0: InService on the config being deployed (or nothing pending); 1: rolled back or
    failed; 2: an error (no such endpoint, no credentials); 130: interrupted.
    """
    planned = None if assembly is None else find_rollout(assembly, endpoint_name)
    console = runtime.console or Console()
    client = runtime.client_factory(region)
    state = Watch(endpoint_name, runtime.now(), planned=planned,
                  provisioning_allowance=provisioning_allowance)
    display: Display = LiveDisplay(console) if console.is_terminal else LineDisplay(console)
    try:
        ended = follow(state, client, runtime, interval, display,
                       tick=1.0 if console.is_terminal else None)
    finally:
        display.close()
    click.echo(f"{endpoint_name}: {ended.message}", err=ended.code != EXIT_OK)
    click.get_current_context().exit(ended.code)
