"""Options that `plan` and `watch` share."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from ..time_budget import PROVISIONING_ALLOWANCE_SECONDS

#: `--provisioning-allowance SECONDS`: the construct's provisioning allowance is not rendered into
#: the template, nor known to SageMaker, so the worst case takes it from here.
provisioning_allowance_option: Callable[[Callable[..., Any]], Callable[..., Any]] = click.option(
    "--provisioning-allowance", type=click.IntRange(0, 3600),
    default=PROVISIONING_ALLOWANCE_SECONDS, show_default=True,
    help="Seconds to provision one fleet or batch, as your strategies assume (the template "
         "does not record it).")
