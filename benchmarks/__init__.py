"""Benchmarks of sagemaker-rollout (the README's Benchmark section).

Importing the package puts the test-support packages of ``tests/`` (the SageMaker emulator and the
CloudFormation harness) and the sources on ``sys.path``, as pytest's ``pythonpath`` setting does
for the test suite, so that ``python -m benchmarks.rollout_benchmark`` runs from the repository.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

for _folder in ("tests", "lambda", "constructs"):
    _path = str(ROOT / _folder)
    if _path not in sys.path:
        sys.path.append(_path)
