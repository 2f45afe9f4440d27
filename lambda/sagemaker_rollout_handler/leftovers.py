"""A failed rename leaves nothing behind (issue 13; issue 17.4).

A rename's Update creates the endpoint under its new name. When that fails (the CreateEndpoint
ends ``Failed``, or outlasts the deadline), the FAILED answer keeps the old physical id, so
CloudFormation never learns of the new endpoint and never deletes it. Two sweeps remove it, each
only when the endpoint's request tag says this resource's CreateEndpoint made it:

- **before answering**: the failed request deletes the endpoint it created (its own request id
  in the tag), when SageMaker allows it (``Failed``, ``InService``, ...);
- **the stack's rollback**, which always follows a failed Update: its OldResourceProperties name
  the endpoint (``stray``). When that name is neither the physical id nor the rollback's own, and
  the tag says this resource created it, the rollback deletes it, waiting (its own wait, by the
  minute) while it is still ``Creating``. The rollback never fails because of it: at its
  deadline it answers SUCCESS and says what is left.

``step`` is the pure decision; ``sweep`` its one look and call.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from .decisions import IN_PROGRESS, Call, Finish, Observation, Step, Wait
from .sagemaker import Endpoints, SageMakerError

logger = logging.getLogger(__name__)

#: How often the rollback looks at a leftover that is still busy (no event of it reaches the
#: rollback's wait: its request tag names the failed request).
RECHECK_SECONDS = 60.0


def step(name: str, observed: Observation | None, made_here: bool) -> Step:
    """What to do with the endpoint ``name`` a failed request may have left: nothing when it is
    gone, going, or not this resource's making; wait while SageMaker is busy with it; else
    delete it."""
    if observed is None or observed.status == "Deleting" or not made_here:
        return Finish()
    if observed.status in IN_PROGRESS:
        return Wait(f'the endpoint "{name}" a failed rename created is {observed.status}; the '
                    "stack's rollback deletes it once that ends")
    return Call("delete")


@dataclass(frozen=True)
class Swept:
    """What a sweep did: words for the answer, and whether it must look again."""

    note: str = ""
    again: bool = False
    #: The endpoint's status when it must be looked at again.
    status: str = ""


def sweep(name: str, endpoints: Endpoints, made_here: Callable[[Observation], bool]) -> Swept:
    """Look at ``name`` once and act as ``step`` says."""
    observed = endpoints.describe(name, denied_means_absent=True)
    decided = step(name, observed, observed is not None and made_here(observed))
    if isinstance(decided, Wait):
        status = observed.status if observed is not None else ""
        return Swept(f"{decided.why[0].upper()}{decided.why[1:]}.", again=True, status=status)
    if not isinstance(decided, Call):
        return Swept()
    try:
        endpoints.delete(name)
    except SageMakerError as error:
        return Swept(f'The endpoint "{name}" a failed rename created could not be deleted '
                     f'(SageMaker said: {error.code}: "{error.message}"): delete it by hand.')
    status = observed.status if observed is not None else ""
    logger.info({"message": "deleted the endpoint a failed rename created", "endpoint": name,
                 "status": status})
    return Swept(f'The endpoint "{name}" this resource created for the rename ({status}) was '
                 "deleted: nothing is left of it.")


def left_behind(name: str, swept: Swept) -> str:
    """The rollback's words when its deadline comes before the leftover can be deleted."""
    return (f'The endpoint "{name}" a failed rename created is still {swept.status}, and was '
            "not deleted in time: delete it (DeleteEndpoint) once it is not; it is not the "
            "stack's endpoint.")
