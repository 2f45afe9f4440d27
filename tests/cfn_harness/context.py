"""A Lambda context object whose remaining time runs on the virtual clock."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from .clock import Clock

#: The provider function's timeout (seconds) the harness assumes unless told otherwise: the
#: provider's own (sagemaker_rollout_handler.contract.FUNCTION_TIMEOUT_SECONDS).
DEFAULT_LAMBDA_TIMEOUT = 360.0


@dataclass
class LambdaContext:
    """What Lambda passes as ``context`` (the attributes crhelper and the handler read).

    ``get_remaining_time_in_millis`` counts down on ``clock`` from ``started_at + timeout``, so a
    handler that waits on the virtual clock sees its Lambda time run out as it would in AWS.
    """

    clock: Clock
    function_name: str
    invoked_function_arn: str
    started_at: float
    timeout: float = DEFAULT_LAMBDA_TIMEOUT
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    function_version: str = "$LATEST"
    memory_limit_in_mb: str = "256"
    log_group_name: str = ""
    log_stream_name: str = "2026/01/01/[$LATEST]00000000000000000000000000000000"

    def __post_init__(self) -> None:
        if not self.log_group_name:
            self.log_group_name = f"/aws/lambda/{self.function_name}"

    @property
    def deadline(self) -> float:
        """Virtual time at which Lambda would kill the invocation."""
        return self.started_at + self.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - self.clock.now()) * 1000))
