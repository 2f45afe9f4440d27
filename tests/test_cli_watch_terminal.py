"""`sagemaker-rollout watch` in a real terminal (tmux): the live view redraws in place and stays
within 100 columns of a 160-column terminal.

The installed console script runs in a tmux pane as its own process, so it keeps real time. The
emulator's clock is held still until the script has drawn its first panel (its start-up takes a
few seconds on a loaded machine), then runs in real time: a deployment of about 15 s, the one test
of this suite that waits real seconds (everything else runs on the virtual clock). The script's
clock is ahead of the emulator's by its start-up time, so its elapsed times read that much more.
tmux is a Debian package that scripts/setup does not install (CI installs nothing from the
network at test time): without it this test is skipped, with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from cli_support import canary_config
from sagemaker_emulator import SageMakerEmulator, Timings

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None,
    reason="tmux is not installed: the live view in a real terminal is not checked "
    "(apt-get install tmux to run it)",
)

SCRIPT = Path(sys.executable).with_name("sagemaker-rollout")
PANE_WIDTH = 160
DEPLOYMENT = canary_config(bake=4, final_bake=3, timeout=600, alarm="errors-high")


class HeldClock:
    """The emulator's clock: still until `release()` (but for `advance`), then real time."""

    def __init__(self) -> None:
        self._start = time.time()
        self._offset = 0.0
        self._released: float | None = None

    def now(self) -> float:
        running = 0.0 if self._released is None else time.time() - self._released
        return self._start + self._offset + running

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def advance(self, seconds: float) -> None:
        self._offset += seconds

    def release(self) -> None:
        if self._released is None:
            self._released = time.time()


@pytest.fixture
def clock() -> HeldClock:
    return HeldClock()


@pytest.fixture
def endpoint_updating(clock: HeldClock) -> Iterator[str]:
    """Endpoint `ep` being updated from `c1` to `c2` (clock held); yields the emulator's URL."""
    timings = Timings(create=1, provision=5, traffic_shift=1, terminate=1, rollback=1)
    with SageMakerEmulator(clock, timings=timings) as emulator:
        sm = boto3.client("sagemaker", endpoint_url=emulator.url, region_name="us-east-1",
                          aws_access_key_id="x", aws_secret_access_key="x")
        variants = [{"VariantName": "AllTraffic", "ModelName": "model",
                     "InitialInstanceCount": 2, "InstanceType": "ml.m5.xlarge"}]
        for name in ("c1", "c2"):
            sm.create_endpoint_config(EndpointConfigName=name, ProductionVariants=variants)
        sm.create_endpoint(EndpointName="ep", EndpointConfigName="c1",
                           DeploymentConfig=DEPLOYMENT)
        clock.advance(1)
        assert emulator.endpoint_status("ep") == "InService"
        sm.update_endpoint(EndpointName="ep", EndpointConfigName="c2",
                           DeploymentConfig=DEPLOYMENT)
        yield emulator.url
        assert emulator.internal_errors == []


def _tmux(socket: str, *args: str) -> str:
    return subprocess.run(["tmux", "-L", socket, *args], check=True, capture_output=True,
                          text=True, timeout=10).stdout


def test_live_view_redraws_in_place_within_100_columns(endpoint_updating: str,
                                                        clock: HeldClock) -> None:
    socket = f"sagemaker-rollout-test-{uuid.uuid4().hex[:8]}"
    env = {"AWS_ENDPOINT_URL_SAGEMAKER": endpoint_updating, "AWS_ACCESS_KEY_ID": "x",
           "AWS_SECRET_ACCESS_KEY": "x", "AWS_CONFIG_FILE": "/nonexistent",
           "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
           "PATH": os.environ.get("PATH", "")}
    command = (" ".join(f"{k}={v}" for k, v in env.items())
               + f" {SCRIPT} watch ep --region us-east-1 --interval 1; echo EXIT=$?; sleep 60")
    _tmux(socket, "new-session", "-d", "-s", "watch", "-x", str(PANE_WIDTH), "-y", "40",
          f"env -i TERM=xterm-256color {command}")
    screens: list[str] = []
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            screen = _tmux(socket, "capture-pane", "-p", "-t", "watch")
            if not screens or screen != screens[-1]:
                screens.append(screen)
            if "deploying" in screen:
                clock.release()  # the script is watching: let the deployment run
            if "EXIT=" in screen:
                break
            time.sleep(0.2)
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], capture_output=True, timeout=10)

    final = screens[-1]
    assert "EXIT=0" in final, final
    assert "ep: deployed: InService on c2" in final
    live = [s for s in screens if "deploying" in s]
    # Redrawn: many different screens, each with the panel once (not appended below).
    assert len(live) >= 5, screens
    for screen in screens:
        assert sum(1 for row in screen.splitlines() if row.startswith("status")) <= 1, screen
        widest = max((len(row.rstrip()) for row in screen.splitlines()), default=0)
        assert widest <= 100, screen
    # The countdown ticks and the phases follow each other in the same place.
    assert any("Baking the canary" in s and "left" in s for s in live)
    assert any("Final baking period" in s for s in live)
    assert any("█" in s or "━" in s for s in live), "no progress bar drawn"
