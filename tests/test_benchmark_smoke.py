"""The benchmark command runs, end to end, and its results have the documented shape.

``python -m benchmarks.rollout_benchmark --quick`` in a fresh interpreter (as scripts/benchmark
runs it): one deployment per scenario, the synth of 1 and 2 endpoints, one import probe. Only the
structure is checked, and that no invocation came near the Lambda timeout: the performance
targets are measured by the benchmark command itself (docs/benchmark.md), never by timed tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
STRATEGIES = ("all-at-once", "canary", "linear", "rolling")
DELIVERED = [f"{s}/{o}" for s in STRATEGIES for o in ("success", "alarm")]
#: A quick run tries each other condition once (the full run: every strategy and outcome).
CONDITIONS = ("events-lost", "summary-stale", "summary-absent")
SCENARIOS = [*DELIVERED, *(f"all-at-once/success [{c}]" for c in CONDITIONS)]
NO_WAIT = (
    "update that changes nothing SageMaker serves (tags only)",
    "rollback to the config already serving",
    "delete of an endpoint that is gone",
)


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    output = tmp_path_factory.mktemp("benchmark") / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.rollout_benchmark", "--quick", "--output",
         str(output)],
        cwd=REPOSITORY, capture_output=True, text=True, timeout=900, check=False,
    )
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    return json.loads(output.read_text()), done.stdout


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_aggregate(row: dict[str, Any], deployments: int) -> None:
    assert row["deployments"] == deployments
    ours = row["ours"]
    for key in ("p50", "p95", "max", "mean"):
        assert _is_number(ours["latency"][key]), (row["scenario"], key)
        assert _is_number(row["waiter_30s"]["latency"][key])
        assert _is_number(row["crhelper_60s"]["latency"][key])
    assert ours["latency"]["p50"] <= ours["latency"]["p95"] <= ours["latency"]["max"]
    assert ours["describe_calls"] >= 1
    assert ours["invocations"] >= 1
    assert ours["billed_seconds"] > 0
    assert ours["near_timeout"] == 0
    assert row["waiter_30s"]["describe_calls"] >= 1
    assert row["crhelper_60s"]["invocations"] >= 2
    for baseline in ("ratio_vs_waiter_30s", "ratio_vs_crhelper_60s"):
        assert set(row[baseline]) == {"latency_p50", "latency_p95", "latency_max",
                                      "describe_calls", "billed_seconds"}


def test_every_scenario_is_simulated_with_both_baselines(
    quick_run: tuple[dict[str, Any], str],
) -> None:
    results, _ = quick_run
    simulation = results["simulation"]
    assert results["config"]["quick"] is True
    deployments = results["config"]["deployments"]
    assert [row["scenario"] for row in simulation["scenarios"]] == SCENARIOS
    for row in simulation["scenarios"]:
        _check_aggregate(row, deployments)
        outcome = "SUCCESS/deployed" if "/success" in row["scenario"] else "FAILED/rolled-back"
        assert row["statuses"] == [outcome]
    assert [row["scenario"] for row in simulation["strategies"]] == list(STRATEGIES)
    for row in simulation["strategies"]:
        _check_aggregate(row, 2 * deployments)
    _check_aggregate(simulation["create"], len(DELIVERED))
    assert set(simulation["conditions"]) == {"delivered", *CONDITIONS}
    assert simulation["unexpected"] == {}
    assert simulation["harness_violations"] == {}


def test_no_invocation_comes_near_the_lambda_timeout(
    quick_run: tuple[dict[str, Any], str],
) -> None:
    results, _ = quick_run
    assert results["simulation"]["invocations_near_timeout"] == 0
    assert results["fleet"]["near_timeout"] == 0


def test_rollouts_at_once_are_reported_with_their_api_calls_and_lambda_seconds(
    quick_run: tuple[dict[str, Any], str],
) -> None:
    results, _ = quick_run
    fleet = results["fleet"]
    assert fleet["succeeded"] == fleet["endpoints"] >= 1
    assert fleet["api_calls"]["UpdateEndpoint"] == fleet["endpoints"]
    assert fleet["lambda_seconds"] > 0 and fleet["invocations"] >= fleet["endpoints"]


def test_requests_that_need_no_waiting_are_reported(
    quick_run: tuple[dict[str, Any], str],
) -> None:
    results, _ = quick_run
    no_wait = results["simulation"]["no_wait_requests"]
    assert set(no_wait) == set(NO_WAIT)
    for entry in no_wait.values():
        assert entry["requests"] >= 1
        assert 0 <= entry["answered_in_first_invocation"] <= entry["requests"]
        assert entry["statuses"] == ["SUCCESS"]


def test_synth_import_and_asset_figures_are_reported(
    quick_run: tuple[dict[str, Any], str],
) -> None:
    results, stdout = quick_run
    synth = results["synth"]
    assert [row["endpoints"] for row in synth["sizes"]] == [1, 2]
    for row in synth["sizes"]:
        for kind in ("ours", "plain_l1"):
            assert row[kind]["best"] > 0
            assert row[kind]["resources"] >= 2 * row["endpoints"]
        assert row["ratio"] > 0
    bundled = synth["bundled"]
    assert bundled["endpoints"] == 2
    assert isinstance(bundled["lambda_functions"], int)
    assert isinstance(bundled["file_assets"], int)
    handler = results["handler"]
    assert handler["import"]["best_ms"] > 0
    assert handler["import"]["own_best_ms"] > 0
    assert handler["asset"]["files"] > 0
    assert handler["asset"]["top_level"] == ["crhelper", "sagemaker_rollout_handler"]
    targets = results["targets"]
    assert targets and all(set(t) == {"target", "met", "figure"} for t in targets)
    for heading in ("Ours", "Baselines", "Requests that need no waiting", "Synth", "Targets"):
        assert heading in stdout
