"""The `sagemaker-rollout` console script: a click group of `plan` and `watch`.

Every failure the commands foresee is a `CliError`: one line on stderr and its exit code. Ctrl-C
exits 130 without a word. Anything else is still one line (exit 2), never a traceback.
"""

from __future__ import annotations

from typing import Any

import click

from .errors import EXIT_ERROR, EXIT_INTERRUPTED, CliError
from .plan import plan
from .watch import Runtime, watch


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CliError as error:
            click.echo(f"sagemaker-rollout: {error.message}", err=True)
            ctx.exit(error.code)
        except KeyboardInterrupt:
            ctx.exit(EXIT_INTERRUPTED)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except Exception as error:  # a bug or an unforeseen failure: still one line
            click.echo(f"sagemaker-rollout: unexpected {type(error).__name__}: {error}",
                       err=True)
            ctx.exit(EXIT_ERROR)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="cdk-sagemaker-rollout")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """See a SageMaker endpoint rollout before (plan) and while (watch) it happens."""
    if ctx.obj is None:
        ctx.obj = Runtime()


cli.add_command(plan)
cli.add_command(watch)


def main() -> None:
    """The console script's entry point."""
    cli()
