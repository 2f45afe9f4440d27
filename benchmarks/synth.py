"""Wall-clock figures: synth scaling (ours vs plain L1), the handler's cold import from the bundled
asset, and the asset's size.

Synth, in process: ``App`` + ``Stack`` + N endpoints built and ``app.synth()``-ed, timed together
(wall clock, best of ``repeats``, after one warm-up synth of each kind so that jsii's start-up is
not counted). Both kinds get the same variant (4 x ml.m5.xlarge) and the same canary deployment
config; bundling is skipped for both (context ``aws:cdk:bundling-stacks: []``). Then ours once
more at the largest size with real local bundling (every synth bundles: the asset hash is computed
from the bundled output); its asset folder is kept for the import probe and the size figures.

Synth, whole process (what ``cdk synth`` makes a user wait for, less the CLI's own start): a fresh
``sys.executable benchmarks/synth_app.py ...`` per synth, which imports aws_cdk (starting jsii's
Node runtime), builds the same app and synthesizes it into a temporary outdir; timed from spawn
to exit.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from benchmarks.simulation import INSTANCES

Json = dict[str, Any]

# jsii prints a banner about the Node version on every start: not a result. Each variable is a
# comma-separated list of the Node major versions to keep quiet about.
for _banner in ("END_OF_LIFE", "DEPRECATED", "UNTESTED"):
    os.environ.setdefault(f"JSII_SILENCE_WARNING_{_banner}_NODE_VERSION",
                          ",".join(str(major) for major in range(14, 40)))

@dataclass(frozen=True)
class SynthCase:
    kind: str  # ours | plain-l1
    endpoints: int
    bundling: bool


def _build(case: SynthCase, outdir: str) -> Any:
    """Build the app of ``case`` and synthesize it; return the cloud assembly."""
    from benchmarks.synth_app import build

    return build(case.kind, case.endpoints, case.bundling, INSTANCES, outdir)


def _inspect(assembly: Any) -> Json:
    """Resources, Lambda functions and file assets of the synthesized stack."""
    return _inspect_dir(Path(assembly.directory))


def _inspect_dir(directory: Path) -> Json:
    template = json.loads((directory / "Bench.template.json").read_text())
    resources = template.get("Resources", {})
    functions = [r for r in resources.values() if r["Type"] == "AWS::Lambda::Function"]
    # The policies' documents as the template has them, without whitespace (intrinsics as
    # written; docs/security.md measures them as IAM counts them).
    policies = [json.dumps(r["Properties"]["PolicyDocument"], separators=(",", ":"))
                for r in resources.values()
                if r["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")]
    manifest = json.loads((directory / "Bench.assets.json").read_text())
    assets = [f for f in manifest.get("files", {}).values()
              if f["source"].get("packaging") == "zip"]
    asset_dirs = [directory / f["source"]["path"] for f in assets]
    return {"resources": len(resources), "lambda_functions": len(functions),
            "iam_policies": len(policies),
            "policy_characters": sum(len(re.sub(r"\s", "", text)) for text in policies),
            "file_assets": len(assets), "asset_dirs": [str(p) for p in asset_dirs]}


def time_synth(case: SynthCase, repeats: int) -> Json:
    """Wall-clock seconds of building the app and ``app.synth()``: every run and the best."""
    times: list[float] = []
    info: Json = {}
    for _ in range(repeats):
        with tempfile.TemporaryDirectory(prefix="bench-synth-") as outdir:
            start = time.perf_counter()
            assembly = _build(case, outdir)
            times.append(time.perf_counter() - start)
            info = _inspect(assembly)
    info.pop("asset_dirs")
    return {**asdict(case), "seconds": [round(t, 3) for t in times],
            "best": round(min(times), 3), **info}


#: The platform team's scale of issue 18: one stack per product, one endpoint per tenant.
PLATFORM_SCALE = 120


def synth_scaling(sizes: Sequence[int], repeats: int, bundled_size: int,
                  log: Callable[[str], None], *, warm_up: bool = True,
                  scale_sizes: Sequence[int] = ()) -> tuple[Json, Path]:
    """Ours vs plain L1 at each size and at each of ``scale_sizes`` (bundling skipped for both),
    then ours at ``bundled_size`` with real local bundling; returns the results and a copy of the
    bundled asset folder (the caller removes its parent). Every row also has the size of the
    provider's IAM policies in the template (``policy_characters``): it must not grow."""
    if warm_up:  # jsii's start and the first use of each construct class are not measured
        for kind in ("ours", "plain-l1"):
            with tempfile.TemporaryDirectory(prefix="bench-warmup-") as outdir:
                _build(SynthCase(kind, 1, False), outdir)
    rows: list[Json] = []
    for size in (*sizes, *scale_sizes):
        ours = time_synth(SynthCase("ours", size, False), repeats)
        plain = time_synth(SynthCase("plain-l1", size, False), repeats)
        rows.append({"endpoints": size, "ours": ours, "plain_l1": plain,
                     "ratio": round(ours["best"] / plain["best"], 3)})
        log(f"  {size:>3} endpoints: ours {ours['best']:.2f} s, plain L1 {plain['best']:.2f} s")
    # Real local bundling (every synth bundles again: the asset hash is computed from the output).
    keep = Path(tempfile.mkdtemp(prefix="bench-asset-"))
    bundled_times: list[float] = []
    info: Json = {}
    for attempt in range(repeats):
        with tempfile.TemporaryDirectory(prefix="bench-synth-") as outdir:
            start = time.perf_counter()
            assembly = _build(SynthCase("ours", bundled_size, True), outdir)
            bundled_times.append(time.perf_counter() - start)
            info = _inspect(assembly)
            if attempt == 0:
                (asset_dir,) = info["asset_dirs"]
                shutil.copytree(asset_dir, keep / "asset")
    info.pop("asset_dirs")
    bundled = {"endpoints": bundled_size, "seconds": [round(t, 3) for t in bundled_times],
               "first": round(bundled_times[0], 3), "best": round(min(bundled_times), 3),
               **info}
    same = [row for row in rows if row["endpoints"] == bundled_size]
    if same:
        bundled["bundling_adds"] = round(bundled["best"] - same[0]["ours"]["best"], 3)
    log(f"  {bundled_size:>3} endpoints with local bundling: first {bundled['first']:.2f} s, "
        f"best {bundled['best']:.2f} s")
    return {"repeats": repeats, "sizes": rows, "bundled": bundled}, keep / "asset"


# --- synth as a user runs it: a fresh process per synth ---------------------------------------

#: The app script the fresh processes run (as ``cdk synth`` runs ``python3 app.py``).
APP_SCRIPT = Path(__file__).resolve().parent / "synth_app.py"


def _process_synth(case: SynthCase) -> tuple[float, Json]:
    """Wall-clock seconds of a fresh ``sys.executable APP_SCRIPT ...`` process that imports
    aws_cdk (starting jsii's Node runtime), builds the app of ``case`` and synthesizes it into a
    temporary outdir, from spawn to exit; and what it synthesized."""
    with tempfile.TemporaryDirectory(prefix="bench-process-") as outdir:
        command = [sys.executable, str(APP_SCRIPT), case.kind, str(case.endpoints),
                   "1" if case.bundling else "0", str(INSTANCES), outdir]
        start = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
        info = _inspect_dir(Path(outdir))
    info.pop("asset_dirs")
    return elapsed, info


def whole_process_synth(sizes: Sequence[int], repeats: int, other_repeats: int,
                        bundled_size: int, bundled_repeats: int,
                        log: Callable[[str], None]) -> Json:
    """Ours vs plain L1, each synth in a fresh process (bundling skipped for both), best of
    ``repeats`` at the largest size and of ``other_repeats`` at the others, the two kinds
    alternating; then ours at ``bundled_size`` with real local bundling."""
    rows: list[Json] = []
    for size in sizes:
        runs = repeats if size == sizes[-1] else other_repeats
        seconds: dict[str, list[float]] = {"ours": [], "plain-l1": []}
        infos: dict[str, Json] = {}
        for _ in range(runs):
            for kind in seconds:
                elapsed, infos[kind] = _process_synth(SynthCase(kind, size, False))
                seconds[kind].append(elapsed)
        ours, plain = ({**infos[kind], "seconds": [round(t, 3) for t in seconds[kind]],
                        "best": round(min(seconds[kind]), 3)} for kind in ("ours", "plain-l1"))
        # Run i of ours and run i of plain L1 ran back to back, under the same load: their ratio
        # is paired, and the median of the pairs does not hang on one lucky run of either kind
        # (the ratio of the two bests does).
        paired = [o / p for o, p in zip(seconds["ours"], seconds["plain-l1"], strict=True)]
        rows.append({"endpoints": size, "runs": runs, "ours": ours, "plain_l1": plain,
                     "ratio": round(ours["best"] / plain["best"], 3),
                     "paired_ratios": [round(r, 3) for r in paired],
                     "median_paired_ratio": round(statistics.median(paired), 3),
                     "difference": round(ours["best"] - plain["best"], 3)})
        log(f"  {size:>3} endpoints, fresh process: ours {ours['best']:.2f} s, "
            f"plain L1 {plain['best']:.2f} s")
    bundled_times: list[float] = []
    info: Json = {}
    for _ in range(bundled_repeats):
        elapsed, info = _process_synth(SynthCase("ours", bundled_size, True))
        bundled_times.append(elapsed)
    bundled = {"endpoints": bundled_size, "seconds": [round(t, 3) for t in bundled_times],
               "best": round(min(bundled_times), 3), **info}
    same = [row for row in rows if row["endpoints"] == bundled_size]
    if same:
        bundled["ratio_to_plain_l1"] = round(bundled["best"] / same[0]["plain_l1"]["best"], 3)
    log(f"  {bundled_size:>3} endpoints with local bundling, fresh process: "
        f"best {bundled['best']:.2f} s")
    return {"repeats": repeats, "other_repeats": other_repeats, "sizes": rows,
            "bundled": bundled}


# --- the handler's cold start and asset ------------------------------------------------------

#: Run in a fresh interpreter from the asset folder: the whole import (boto3 and botocore
#: included: the handler needs them, and in Lambda their import is part of every cold start),
#: then, in another fresh interpreter, the handler's own share: boto3 (and the botocore modules
#: the handler uses) imported first, untimed.
_IMPORT_PROBE = """
import json, sys, time
if sys.argv[1] == "own":
    import boto3, botocore.config, botocore.exceptions, botocore.session  # untimed
start = time.perf_counter()
import sagemaker_rollout_handler.index as index
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "file": index.__file__}))
"""
_IMPORTTIME = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)")


def _probe(asset: Path, mode: str, *flags: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(asset)
    # The asset ships no bytecode (bundling skips __pycache__) and Lambda's /var/task is
    # read-only: its modules are compiled at every cold start. Keep it so here.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run([sys.executable, *flags, "-c", _IMPORT_PROBE, mode], cwd=asset, env=env,
                          capture_output=True, text=True, check=True)


def _timed(asset: Path, mode: str, repeats: int) -> list[float]:
    times: list[float] = []
    for _ in range(repeats):
        answer = json.loads(_probe(asset, mode).stdout)
        if not str(answer["file"]).startswith(str(asset)):
            raise RuntimeError(f"imported {answer['file']}, not the asset's copy")
        times.append(float(answer["seconds"]))
    return times


def cold_import(asset: Path, repeats: int) -> Json:
    """``import sagemaker_rollout_handler.index`` from the bundled asset in fresh interpreters:
    the whole import and the handler's own share (see ``_IMPORT_PROBE``), best of ``repeats``;
    and, from one ``-X importtime`` run, the import's self time per top-level package."""
    total = _timed(asset, "all", repeats)
    own = _timed(asset, "own", repeats)
    traced = _probe(asset, "all", "-X", "importtime")
    # importtime prints each module after the modules it imported: the handler's tree is the
    # run of lines that ends with its own top-level (unindented) line.
    tree: list[tuple[str, float]] = []
    for line in traced.stderr.splitlines():
        match = _IMPORTTIME.match(line)
        if match is None:
            continue
        name, self_ms = match.group(4), int(match.group(1)) / 1000
        tree.append((name, self_ms))
        if match.group(3) == "":
            if name == "sagemaker_rollout_handler.index":
                break
            tree = []
    by_package: dict[str, float] = {}
    for name, self_ms in tree:
        package = name.split(".")[0]
        by_package[package] = by_package.get(package, 0.0) + self_ms
    top = sorted(by_package.items(), key=lambda item: -item[1])
    shown = dict(top[:5])
    shown["other"] = sum(ms for _, ms in top[5:])
    return {"repeats": repeats,
            "total_seconds": [round(t, 4) for t in total],
            "best_ms": round(min(total) * 1000, 1),
            "own_seconds": [round(t, 4) for t in own],
            "own_best_ms": round(min(own) * 1000, 1),
            "self_ms_by_package": {name: round(ms, 1) for name, ms in shown.items()}}


def asset_size(asset: Path) -> Json:
    """Files and bytes of the bundled asset folder, and its size as a deflated zip (the CDK CLI
    zips the folder when it publishes the asset)."""
    files = [p for p in sorted(asset.rglob("*")) if p.is_file()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in files:
            archive.write(path, path.relative_to(asset).as_posix())
    packages = sorted({p.relative_to(asset).parts[0] for p in files})
    return {"files": len(files), "bytes": sum(p.stat().st_size for p in files),
            "zipped_bytes": len(buffer.getvalue()), "top_level": packages}
