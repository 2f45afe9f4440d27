"""The benchmark's 2-hour section runs (benchmarks/long_rollout.py), in a fresh interpreter as a
user runs it: one deployment, signalled SUCCESS within 20 s of SageMaker's end, with fewer
DescribeEndpoint calls than the 30 s poller on the same timeline (its exit status)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_one_two_hour_rollout_is_signalled_in_time_with_fewer_looks_than_a_30_s_poller() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.long_rollout", "--deployments", "1", "--seed", "7"],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    assert "2-hour linear rollouts in the WaitCondition mode (1 deployments, all signalled " \
        "SUCCESS)" in done.stdout
