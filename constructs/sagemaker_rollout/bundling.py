"""The provider's Lambda code: the handler package plus crhelper, bundled locally at synth time.

No Docker and no network: the local bundler copies two installed, pure-Python packages into the
asset folder. Both are located with ``importlib.util.find_spec`` (never imported), so this works
from the repository (editable install) and from an installed wheel alike.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path
from typing import cast

import jsii
from aws_cdk import AssetHashType, BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

#: The Lambda handler package (``lambda/sagemaker_rollout_handler`` in the repository).
HANDLER_PACKAGE = "sagemaker_rollout_handler"
#: The Lambda entry point inside the bundled asset.
HANDLER_ENTRY_POINT = f"{HANDLER_PACKAGE}.index.handler"
#: The custom-resource helper the handler imports; copied from the local installation.
CRHELPER_PACKAGE = "crhelper"

_IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc")


def package_dir(name: str) -> Path:
    """The folder of the installed package ``name``, found without importing it.

    :raises RuntimeError: when the package is not installed.
    """
    spec = importlib.util.find_spec(name)
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise RuntimeError(
            f"Cannot bundle the SageMaker rollout provider: the Python package {name!r} is not "
            "installed in this environment (it is a dependency of cdk-sagemaker-rollout; "
            "reinstall it, e.g. `pip install cdk-sagemaker-rollout`, which brings "
            "crhelper==2.0.12)."
        )
    return Path(locations[0])


@jsii.implements(ILocalBundling)
class LocalPackageBundling:
    """Bundles the handler locally: copies the handler and crhelper packages into the asset.

    ``__pycache__`` folders and ``*.pyc`` files are skipped, so the asset (and its hash, computed
    from the output) depends only on the packages' source files.
    """

    def __init__(self, packages: tuple[str, ...] = (HANDLER_PACKAGE, CRHELPER_PACKAGE)) -> None:
        """:param packages: the top-level packages to copy, each as a folder of the asset."""
        self._packages = packages

    def try_bundle(self, output_dir: str, options: BundlingOptions) -> bool:
        """Copy each package into ``output_dir/<package>/``; always returns True (no Docker)."""
        for name in self._packages:
            shutil.copytree(
                package_dir(name), Path(output_dir) / name, ignore=_IGNORED, dirs_exist_ok=True
            )
        return True


def provider_code() -> lambda_.Code:
    """The Lambda code of the rollout provider: ``sagemaker_rollout_handler/`` and ``crhelper/``.

    The asset hash is computed from the bundled output, so it is the same on every machine with
    the same handler and crhelper sources. The Docker image is only a declaration that
    ``BundlingOptions`` requires; it is never pulled because local bundling always succeeds.

    :raises RuntimeError: when the handler or crhelper package is not installed.
    """
    # Fail here, at construction time, rather than inside the jsii bundling callback.
    package_dir(CRHELPER_PACKAGE)
    return lambda_.Code.from_asset(
        str(package_dir(HANDLER_PACKAGE)),
        asset_hash_type=AssetHashType.OUTPUT,
        bundling=BundlingOptions(
            image=DockerImage.from_registry("public.ecr.aws/sam/build-python3.12"),
            # jsii calls try_bundle(output_dir, options) with the options as one struct, while the
            # generated Python protocol spells them as keyword arguments: hence the cast.
            local=cast(ILocalBundling, LocalPackageBundling()),
        ),
    )
