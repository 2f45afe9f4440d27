"""Exit codes of the command line, and the one-line error that ends it."""

from __future__ import annotations

from typing import Final

#: The deployment ended well (or there was nothing to wait for); `plan` printed its plan.
EXIT_OK: Final = 0
#: SageMaker rolled the deployment back, or the endpoint failed.
EXIT_DEPLOYMENT_FAILED: Final = 1
#: The command could not do its job: no such endpoint, no credentials, no assembly...
EXIT_ERROR: Final = 2
#: Interrupted (Ctrl-C): 128 + SIGINT, as shells report it.
EXIT_INTERRUPTED: Final = 130


class CliError(Exception):
    """A failure to report as one line on stderr, and exit with `code`."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
