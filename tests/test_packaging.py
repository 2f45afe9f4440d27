"""The wheel works on its own: installed outside the repository, it bundles the Lambda code.

Builds the wheel, installs it (``--no-index --no-deps``) into a fresh venv in a temporary folder,
and synthesizes a tiny app that lives outside the repository with that venv's Python.

Speed and offline: the wheel's dependencies (aws-cdk-lib is ~50 MB with jsii) are not downloaded
again; a ``.pth`` file in the fresh venv adds the site-packages of the environment running the
tests *after* the venv's own site-packages. Only plain paths are added that way (the ``.pth``
files of that folder, such as the editable install's finder, are not run), and the app checks
that ``sagemaker_rollout`` and ``sagemaker_rollout_handler`` are imported from the fresh venv.
That the wheel declares its dependencies and its licence is checked on its metadata. Building
the wheel needs the build backend (setuptools) from the package index, as any ``python -m build``
does.

The aws-cdk-lib lower bound is the release the pinned CDK CLI starts apps with and the one
constraints.txt pins for CI, so the oldest release the wheel accepts is the one tested.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from email.parser import HeaderParser
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

REPOSITORY = Path(__file__).resolve().parent.parent

TINY_APP = """
import json
from importlib import metadata
from pathlib import Path

import sagemaker_rollout
from aws_cdk import App, Stack
from sagemaker_rollout import ProductionVariant, RolloutEndpoint
from sagemaker_rollout.bundling import package_dir

app = App()  # CDK_OUTDIR decides where the cloud assembly goes
stack = Stack(app, "PackagingCheck")
RolloutEndpoint(
    stack,
    "Endpoint",
    variants=[ProductionVariant.instances(model_name="model", instance_type="ml.m5.large")],
)
assembly = app.synth()
template = assembly.get_stack_by_name("PackagingCheck").template
(function,) = [r for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"]
asset_hash = function["Properties"]["Code"]["S3Key"].removesuffix(".zip")
print(json.dumps({
    "construct_package": str(Path(sagemaker_rollout.__file__).parent),
    "handler_package": str(package_dir("sagemaker_rollout_handler")),
    "requires": metadata.requires("cdk-sagemaker-rollout"),
    "asset": str(Path(assembly.directory) / f"asset.{asset_hash}"),
}))
"""


def run(
    command: list[str], cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env, check=False)
    assert result.returncode == 0, f"{command} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built from a copy of the sources (the work tree stays clean)."""
    source = tmp_path_factory.mktemp("source")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in ("pyproject.toml", "README.md", "LICENSE", "MANIFEST.in"):
        if (REPOSITORY / name).exists():
            shutil.copy2(REPOSITORY / name, source / name)
    for name in ("constructs", "lambda"):
        shutil.copytree(REPOSITORY / name, source / name, ignore=ignore)
    dist = tmp_path_factory.mktemp("dist")
    run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(source)])
    (built,) = dist.glob("*.whl")
    return built


def test_wheel_holds_both_packages_and_no_constructs_package(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "sagemaker_rollout/endpoint.py" in names
    assert "sagemaker_rollout/py.typed" in names
    assert "sagemaker_rollout_handler/index.py" in names
    # A top-level "constructs" package would shadow the constructs library.
    assert not any(name.startswith("constructs/") for name in names)


def test_wheel_declares_the_apache_licence_and_ships_its_text(wheel: Path) -> None:
    archive = zipfile.ZipFile(wheel)
    (metadata_name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
    metadata = HeaderParser().parsestr(archive.read(metadata_name).decode())
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata.get_all("License-File") == ["LICENSE"]
    licence = archive.read(metadata_name.replace("METADATA", "licenses/LICENSE")).decode()
    assert licence == (REPOSITORY / "LICENSE").read_text()
    assert "Apache License" in licence and "Version 2.0, January 2004" in licence


def _lower_bound(requirement: Requirement) -> str:
    (bound,) = [spec.version for spec in requirement.specifier if spec.operator == ">="]
    return bound


def test_aws_cdk_lib_lower_bound_is_the_pinned_clis_and_the_tested_release() -> None:
    project = tomllib.loads((REPOSITORY / "pyproject.toml").read_text())["project"]
    requirements = {Requirement(r).name: Requirement(r) for r in project["dependencies"]}
    lower_bound = _lower_bound(requirements["aws-cdk-lib"])
    # What `cdk init` of the pinned CLI (package.json, installed by scripts/setup) depends on.
    init_versions = REPOSITORY / "node_modules/aws-cdk/lib/init-templates/.init-version.json"
    assert json.loads(init_versions.read_text())["aws-cdk-lib"] == f"^{lower_bound}"
    pins = dict(
        line.split("==", 1)
        for line in (REPOSITORY / "constraints.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    assert pins["aws-cdk-lib"] == lower_bound, "CI must test the lowest aws-cdk-lib allowed"
    assert Version(pins["constructs"]) in requirements["constructs"].specifier


def test_installed_wheel_synthesizes_an_app_with_the_bundled_handler(
    wheel: Path, tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    python = venv / "bin" / "python"
    site_packages = Path(
        run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
        .stdout.strip()
    )
    dependencies = Path(sysconfig.get_paths()["purelib"])
    assert not (dependencies / "sagemaker_rollout").exists()
    (site_packages / "zz_test_dependencies.pth").write_text(f"{dependencies}\n")
    run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-index",
         "--no-deps", "--no-cache-dir", str(wheel)]
    )

    app_dir = tmp_path / "app"
    app_dir.mkdir()
    (app_dir / "app.py").write_text(TINY_APP)
    environment = {
        key: value for key, value in os.environ.items() if key not in {"PYTHONPATH", "PYTHONHOME"}
    }
    environment.update(CDK_OUTDIR=str(tmp_path / "cdk.out"), PYTHONNOUSERSITE="1")
    result = run([str(python), "app.py"], cwd=app_dir, env=environment)
    report = json.loads(result.stdout.strip().splitlines()[-1])

    for package in ("construct_package", "handler_package"):
        assert Path(report[package]).is_relative_to(site_packages), report
    assert any(requirement.startswith("crhelper==2.0.12") for requirement in report["requires"])
    assert any(requirement.startswith("aws-cdk-lib") for requirement in report["requires"])
    asset = Path(report["asset"])
    assert asset.is_relative_to(tmp_path / "cdk.out")
    assert (asset / "sagemaker_rollout_handler" / "index.py").is_file()
    assert (asset / "crhelper" / "resource_helper.py").is_file()
