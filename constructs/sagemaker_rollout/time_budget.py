"""The time budget: a deployment must finish, or be rolled back, before what waits for it gives
up: the custom resource (its ServiceTimeout, at most an hour) or, for longer rollouts, a
WaitCondition (its Timeout, at most 12 hours; wait_mode.py).

Facts (custom-resources-and-crhelper.md; fact sheet, "Time limits that shape the design"):
a CloudFormation custom resource must answer within its ServiceTimeout (1..3600 s, default
3600); SageMaker allows MaximumExecutionTimeoutInSeconds up to 28800 s and rolls the deployment
back when it is exceeded. So the deployment's own timeout, plus the rollback that follows it,
plus the handler's reaction time, must fit inside the ServiceTimeout.

The two rules (seconds throughout):

    worst case  = provisioning allowance(s) + all bake waits + termination wait
                  (rolling: batches x (provisioning allowance + bake time))
    [worst-case-fits-timeout]       worst case <= MaximumExecutionTimeout
    [timeout-fits-service-timeout]  MaximumExecutionTimeout + rollback allowance
                                    + HANDLER_RESPONSE_MARGIN_SECONDS <= ServiceTimeout

When the user gives no MaximumExecutionTimeout, the largest that satisfies the second rule is
sent (capped at SageMaker's 28800), and it must still be >= 600 and satisfy the first.

In the WaitCondition mode (wait_mode.py; waiting-at-scale.md, "Waiting longer than an hour") the
custom resource answers as soon as SageMaker accepted the call, and a WaitCondition waits for the
handler's signal; the second rule is held against the WaitCondition's limit instead:

    [timeout-fits-wait-condition]   MaximumExecutionTimeout + rollback allowance
                                    + HANDLER_RESPONSE_MARGIN_SECONDS <= 43200
    WaitCondition Timeout         = MaximumExecutionTimeout + rollback allowance
                                    + HANDLER_RESPONSE_MARGIN_SECONDS
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

from sagemaker_rollout_handler.contract import (
    MAX_SERVICE_TIMEOUT_SECONDS,
    RESPONSE_MARGIN_SECONDS,
)
from sagemaker_rollout_handler.contract import (
    MAX_WAIT_CONDITION_TIMEOUT_SECONDS as MAX_WAIT_CONDITION_LIMIT,
)

from .rules import Rule, refusal

#: The handler answers CloudFormation at the latest this long before the custom resource's
#: ServiceTimeout (the handler's contract, `sagemaker_rollout_handler.contract`: a poll plus the
#: PUT of the response must fit in what is left). A deployment still running then is reported
#: FAILED.
HANDLER_RESPONSE_MARGIN_SECONDS = RESPONSE_MARGIN_SECONDS

#: Time allowed for SageMaker to provision one fleet (blue/green: the whole green fleet, which is
#: provisioned at once) or one batch (rolling) and make it InService, before any bake starts.
#: *Unverified assumption*: real provisioning of common instance types takes about 4..8 minutes
#: (the emulator's `Timings.provision` is 240..480 s); large models or GPU instances can take
#: longer: pass `provisioning_allowance=` to the strategy to change it.
PROVISIONING_ALLOWANCE_SECONDS = 600

#: Time allowed for SageMaker to send all traffic back to the blue fleet (still running in a
#: blue/green deployment) and return the endpoint to InService after an alarm or a timeout.
#: A rolling rollback also re-provisions the old capacity: one provisioning allowance per
#: rollback batch is added to this (a missing RollbackMaximumBatchSize, or 100%, is one batch:
#: "SageMaker uses a blue/green rollback strategy", API reference, CapacitySize).
#: *Unverified assumption*, chosen above the emulator's `Timings.rollback` (60..180 s).
ROLLBACK_ALLOWANCE_SECONDS = 300

#: MaximumExecutionTimeoutInSeconds limits (botocore model; fact sheet, "UpdateEndpoint request").
MIN_MAXIMUM_EXECUTION_TIMEOUT_SECONDS = 600
MAX_MAXIMUM_EXECUTION_TIMEOUT_SECONDS = 28800

#: AWS::CloudFormation::WaitCondition Timeout: at most 43200 s (the handler's contract).
MAX_WAIT_CONDITION_TIMEOUT_SECONDS = MAX_WAIT_CONDITION_LIMIT

__all__ = [
    "HANDLER_RESPONSE_MARGIN_SECONDS",
    "MAX_MAXIMUM_EXECUTION_TIMEOUT_SECONDS",
    #: ServiceTimeout limits of AWS::CloudFormation::CustomResource (from the handler's contract).
    "MAX_SERVICE_TIMEOUT_SECONDS",
    "MAX_WAIT_CONDITION_TIMEOUT_SECONDS",
    "MIN_MAXIMUM_EXECUTION_TIMEOUT_SECONDS",
    "PROVISIONING_ALLOWANCE_SECONDS",
    "ROLLBACK_ALLOWANCE_SECONDS",
    "Knob",
    "Term",
    "TimeBudget",
    "human",
]


def human(seconds: int) -> str:
    """`3210 s (53 min 30 s)`."""
    if seconds < 60:
        return f"{seconds} s"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [f"{hours} h" if hours else "", f"{minutes} min" if minutes else "",
             f"{secs} s" if secs else ""]
    return f"{seconds} s ({' '.join(p for p in parts if p)})"


@dataclass(frozen=True)
class Term:
    """One addend of a sum: `times` x `seconds`, labelled."""

    label: str
    seconds: int
    times: int = 1

    @property
    def total(self) -> int:
        return self.seconds * self.times

    def __str__(self) -> str:
        if self.times == 1:
            return f"{self.seconds} s {self.label}"
        return f"{self.times} x {self.seconds} s {self.label}"


def _sum(terms: tuple[Term, ...]) -> str:
    shown = [t for t in terms if t.total] or list(terms[:1])
    return " + ".join(str(t) for t in shown) if shown else "0 s"


@dataclass(frozen=True)
class Knob:
    """A setting the user can lower to fit the time budget: its seconds count `worst` times in
    the worst case, `rollback` times in the rollback allowance and `waits` times in the waits.

    A step knob (`sizes` given) is a number of steps instead (batches, linear steps, rollback
    batches): `seconds` is then that number, each step costing `worst` / `rollback` / `waits`
    seconds, and `sizes(n)` is the size that makes at most `n` steps (None: none is allowed).
    """

    #: The setting as the user writes it (``bake_time``, ``rollback_batch_size``).
    field: str
    seconds: int
    worst: int
    rollback: int = 0
    waits: int = 0
    low: int = 0
    sizes: Callable[[int], str | None] | None = None

    def largest(self, budget: TimeBudget, given: int | None) -> int | None:
        """The largest value of this knob with which `budget` fits (None: no value does)."""
        rest_worst = budget.worst_case - self.worst * self.seconds
        rest_rollback = budget.rollback_allowance - self.rollback * self.seconds
        rest_waits = budget.waits - self.waits * self.seconds
        room = budget.limit - HANDLER_RESPONSE_MARGIN_SECONDS - rest_rollback
        # (slack, cost per unit): every constraint is slack >= cost * x.
        if given is None:
            limits = [(room - MIN_MAXIMUM_EXECUTION_TIMEOUT_SECONDS, self.rollback),
                      (room - rest_waits - 1, self.waits + self.rollback),
                      (room - rest_worst, self.worst + self.rollback)]
        else:
            limits = [(room - given, self.rollback), (given - 1 - rest_waits, self.waits),
                      (given - rest_worst, self.worst)]
        bounds = [slack // cost if cost else (None if slack >= 0 else -1)
                  for slack, cost in limits]
        finite = [b for b in bounds if b is not None]
        best = min(finite) if finite else None
        if best is None or best < self.low:
            return None
        return best

    def fix(self, budget: TimeBudget, given: int | None) -> str | None:
        """`field=<the largest value that fits>`, or None when lowering it cannot help."""
        best = self.largest(budget, given)
        if best is None or best >= self.seconds:
            return None
        if self.sizes is None:
            return f"{self.field}=Duration.seconds({best}) or less"
        size = self.sizes(best)
        return None if size is None else f"{self.field}={size}"


@dataclass(frozen=True)
class TimeBudget:
    """The worst-case timeline of one deployment and what the waiter of the deployment (the custom
    resource, or a WaitCondition) can afford."""

    #: Terms of the worst-case duration (provisioning, bakes, termination wait).
    worst_case_terms: tuple[Term, ...]
    #: Terms of the rollback allowance.
    rollback_terms: tuple[Term, ...]
    #: Total waiting time (bakes + termination wait): MaximumExecutionTimeout must exceed it.
    waits: int
    #: The custom resource's ServiceTimeout.
    service_timeout: int
    #: What the user can lower to make it fit (the fixes the refusals propose).
    knobs: tuple[Knob, ...] = ()
    #: A WaitCondition waits for the deployment (up to MAX_WAIT_CONDITION_TIMEOUT_SECONDS), not
    #: the custom resource.
    wait_condition: bool = False

    @property
    def worst_case(self) -> int:
        return sum(t.total for t in self.worst_case_terms)

    @property
    def rollback_allowance(self) -> int:
        return sum(t.total for t in self.rollback_terms)

    @property
    def limit(self) -> int:
        """How long the waiter can wait: the ServiceTimeout, or the WaitCondition's limit."""
        return MAX_WAIT_CONDITION_TIMEOUT_SECONDS if self.wait_condition else self.service_timeout

    @property
    def limit_label(self) -> str:
        return "WaitCondition Timeout limit" if self.wait_condition else "ServiceTimeout"

    @property
    def _waiter(self) -> str:
        return "a WaitCondition" if self.wait_condition else "the custom resource"

    @property
    def _waiter_rule(self) -> Rule:
        if self.wait_condition:
            return Rule.TIMEOUT_FITS_WAIT_CONDITION
        return Rule.TIMEOUT_FITS_SERVICE_TIMEOUT

    @property
    def timeout_ceiling(self) -> int:
        """The largest MaximumExecutionTimeout the waiter can afford."""
        return min(MAX_MAXIMUM_EXECUTION_TIMEOUT_SECONDS, self._left())

    @property
    def custom_resource_ceiling(self) -> int:
        """The largest MaximumExecutionTimeout the custom resource alone can afford."""
        return replace(self, wait_condition=False).timeout_ceiling

    def _left(self) -> int:
        return self.limit - HANDLER_RESPONSE_MARGIN_SECONDS - self.rollback_allowance

    def exceeds_custom_resource(self, given: int | None) -> bool:
        """Whether the deployment is longer than the custom resource can wait out (with its
        rollback): the given MaximumExecutionTimeout, or the least one the worst case needs."""
        needed = given if given is not None else max(self.worst_case, self.waits + 1)
        return needed > self.custom_resource_ceiling

    def handed_off(self) -> TimeBudget:
        """This budget, waited for by a WaitCondition."""
        return replace(self, wait_condition=True)

    def wait_condition_timeout(self, timeout: int) -> int:
        """The WaitCondition's Timeout for this MaximumExecutionTimeout: the deployment, its
        rollback and the handler's signal."""
        return timeout + self.rollback_allowance + HANDLER_RESPONSE_MARGIN_SECONDS

    def worst_case_arithmetic(self) -> str:
        return f"worst case = {_sum(self.worst_case_terms)} = {human(self.worst_case)}"

    def ceiling_arithmetic(self) -> str:
        left = self._left()
        capped = (f", capped at SageMaker's {MAX_MAXIMUM_EXECUTION_TIMEOUT_SECONDS} s"
                  if left > MAX_MAXIMUM_EXECUTION_TIMEOUT_SECONDS else "")
        return (
            f"{self.limit_label} {self.limit} s - handler margin "
            f"{HANDLER_RESPONSE_MARGIN_SECONDS} s - rollback allowance "
            f"({_sum(self.rollback_terms)}) = {left} s{capped}"
        )

    def fits(self, given: int | None) -> bool:
        """Whether this budget passes both rules with `given` (None: the largest that fits)."""
        return not self.resolve_timeout(given, with_fixes=False)[1]

    def fixes(self, given: int | None) -> str:
        """What makes this budget fit, each alone, computed: the largest value of each setting
        (or the step size) that fits, and the timeout to send."""
        found = [fix for fix in (knob.fix(self, given) for knob in self.knobs) if fix]
        if given is not None and self.fits(None):
            found.insert(0, f"leave maximum_execution_timeout out (the largest that fits, "
                            f"{self.timeout_ceiling} s)")
        if not self.wait_condition:
            found.extend(self._longer_waits(given))
        if not found:
            return ("no single setting fits: shorten several of the bakes, the termination wait "
                    "and the provisioning allowance, or use fewer and larger steps.")
        return "any one of " + "; ".join(found) + "."

    def _longer_waits(self, given: int | None) -> list[str]:
        """The fixes of the custom-resource mode that wait longer: the full ServiceTimeout, or a
        WaitCondition (wait_mode left out, or forced)."""
        found = []
        if self.service_timeout < MAX_SERVICE_TIMEOUT_SECONDS and replace(
                self, service_timeout=MAX_SERVICE_TIMEOUT_SECONDS).fits(given):
            found.append(f"service_timeout=Duration.seconds({MAX_SERVICE_TIMEOUT_SECONDS})")
        if self.handed_off().fits(given):
            found.append("wait_mode left out or WaitMode.WAIT_CONDITION (a WaitCondition waits "
                         "up to 12 h)")
        return found

    def resolve_timeout(
        self, given: int | None, *, with_fixes: bool = True
    ) -> tuple[int, list[str]]:
        """The MaximumExecutionTimeoutInSeconds to send, and the refusals (empty when it fits),
        each with the fixes that make it fit (`fixes`).

        `given` is the user's (already range-checked 600..28800) or None for "the largest that
        fits".
        """
        errors: list[str] = []
        def fix() -> str:
            return self.fixes(given) if with_fixes else ""

        ceiling = self.timeout_ceiling
        if given is None:
            timeout = ceiling
            if timeout < MIN_MAXIMUM_EXECUTION_TIMEOUT_SECONDS:
                errors.append(
                    refusal(
                        self._waiter_rule,
                        f"no MaximumExecutionTimeout fits {self._waiter}: "
                        f"{self.ceiling_arithmetic()}, below SageMaker's minimum of "
                        f"{MIN_MAXIMUM_EXECUTION_TIMEOUT_SECONDS} s. Fix: {fix()}",
                    )
                )
                return MIN_MAXIMUM_EXECUTION_TIMEOUT_SECONDS, errors
            source = f"the largest that fits: {self.ceiling_arithmetic()}"
        else:
            timeout = given
            source = "given"
            if given > ceiling:
                errors.append(
                    refusal(
                        self._waiter_rule,
                        f"maximum_execution_timeout = {human(given)} cannot be waited out (or "
                        f"rolled back) by {self._waiter}: "
                        f"{given} s + rollback allowance ({_sum(self.rollback_terms)}) + handler "
                        f"margin {HANDLER_RESPONSE_MARGIN_SECONDS} s = "
                        f"{self.wait_condition_timeout(given)} s > {self.limit_label} "
                        f"{self.limit} s; the limit is {ceiling} s. Fix: {fix()}",
                    )
                )
        # Fact sheet: MaximumExecutionTimeoutInSeconds "should be larger than the total waiting
        # time specified in TerminationWaitInSeconds and WaitIntervalInSeconds" (botocore model).
        if timeout <= self.waits:
            errors.append(
                refusal(
                    Rule.TIMEOUT_EXCEEDS_WAITS,
                    f"MaximumExecutionTimeout {timeout} s ({source}) is not larger than the total "
                    f"waiting time {self.waits} s (bake waits + termination wait), which SageMaker "
                    f"requires. Fix: {fix()}",
                )
            )
        elif self.worst_case > timeout:
            errors.append(
                refusal(
                    Rule.WORST_CASE_FITS_TIMEOUT,
                    f"the deployment cannot finish inside MaximumExecutionTimeout {timeout} s "
                    f"({source}): {self.worst_case_arithmetic()} > {timeout} s. Fix: {fix()}",
                )
            )
        return timeout, errors
