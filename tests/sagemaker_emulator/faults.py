"""Fault injection: what can go wrong in SageMaker, on demand, at a chosen virtual moment.

Use through ``emulator.faults``. Every method is thread-safe and takes effect at the current
virtual time. Each injected fault is recorded in ``emulator.faults.history`` with what became of
it (``pending``, ``fired at <t>``, ``ignored: ...``, ``missed: ...``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from .errors import resource_limit
from .events import EventFaults
from .timeline import ALARM_PHASES

if TYPE_CHECKING:
    from .model import Store


@dataclass
class AlarmTrip:
    endpoint: str  # lower-cased
    phase: str
    index: int | None
    after: float
    alarm_name: str | None
    reason: str | None
    rollback_fails: bool
    status: str = "pending"


@dataclass
class ProvisioningFailure:
    endpoint: str | None  # lower-cased; None = any endpoint
    on: Literal["create", "update"]
    reason: str | None
    status: str = "pending"


@dataclass
class InjectedError:
    operation: str
    code: str
    message: str
    http_status: int
    remaining: int
    rule: str
    status: str = "pending"
    #: The call takes effect, and only its answer is the error (a response lost in transit).
    applied: bool = False


@dataclass
class Outage:
    """A window of virtual time in which calls fail: ``throttle`` (ThrottlingException, HTTP 400),
    ``unavailable`` (HTTP 503), or ``drop`` (the connection is closed with no answer: botocore's
    ConnectionClosedError)."""

    operation: str | None  # None: every operation
    start: float
    end: float
    kind: Literal["throttle", "unavailable", "drop"]
    status: str = "pending"
    hits: int = 0
    #: The window opens when this operation next succeeds (then lasts end - start seconds).
    after_operation: str | None = None


@dataclass
class ReadFaults:
    """What DescribeEndpoint / DescribeEndpointConfig may get wrong (*unverified* for SageMaker;
    the fact sheet, "DescribeEndpoint details that are not guaranteed")."""

    #: PendingDeploymentSummary: ``live``; ``stale`` (frozen at the deployment's first phase); or
    #: ``absent`` (never returned, as for endpoints that fall back from guardrails).
    summary: Literal["live", "stale", "absent"] = "live"
    #: For this many seconds after an UpdateEndpoint, DescribeEndpoint answers the view from before
    #: it (InService on the old config): eventual consistency of AWS control-plane reads.
    update_read_lag: float = 0.0
    #: An endpoint config is "not found" for this many seconds after its creation (CreateEndpoint
    #: API reference: "retry logic is recommended"; issue 17.2).
    config_read_lag: float = 0.0


Fault = AlarmTrip | ProvisioningFailure | InjectedError | Outage


class FaultPlan:
    """Pending faults (state only; the store consumes them)."""

    def __init__(self) -> None:
        self.alarms: list[AlarmTrip] = []
        self.provisioning: list[ProvisioningFailure] = []
        self.errors: list[InjectedError] = []
        self.outages: list[Outage] = []
        self.reads = ReadFaults()
        self.history: list[Fault] = []

    def opened_by(self, operation: str, now: float) -> None:
        """A call of ``operation`` succeeded at ``now``: open the windows waiting for it."""
        for outage in self.outages:
            if outage.after_operation == operation:
                length = outage.end - outage.start
                outage.start, outage.end, outage.after_operation = now, now + length, None
                outage.status = f"open from {now}"

    def outage_at(self, operation: str, now: float) -> Outage | None:
        for outage in self.outages:
            if outage.after_operation is not None:
                continue
            if outage.start <= now < outage.end and outage.operation in (None, operation):
                outage.hits += 1
                outage.status = f"{outage.hits} call(s) failed"
                return outage
        return None

    def take_alarms(self, endpoint: str) -> list[AlarmTrip]:
        taken = [a for a in self.alarms if a.endpoint == endpoint]
        self.alarms = [a for a in self.alarms if a.endpoint != endpoint]
        return taken

    def take_provisioning(self, endpoint: str, on: str) -> ProvisioningFailure | None:
        for fault in self.provisioning:
            if fault.on == on and fault.endpoint in (None, endpoint):
                self.provisioning.remove(fault)
                return fault
        return None

    def take_error(self, operation: str) -> InjectedError | None:
        for fault in self.errors:
            if fault.operation == operation and fault.remaining > 0:
                fault.remaining -= 1
                fault.status = "fired" if fault.remaining == 0 else f"{fault.remaining} left"
                if fault.remaining == 0:
                    self.errors.remove(fault)
                return fault
        return None


class Faults:
    """The fault-injection API (``emulator.faults``)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    @property
    def history(self) -> list[Fault]:
        """Every fault injected so far, with its current status."""
        with self._store.lock:
            return list(self._store.plan.history)

    def trip_alarm(
        self,
        endpoint_name: str,
        phase: str,
        *,
        after: float = 0.0,
        index: int | None = None,
        alarm_name: str | None = None,
        reason: str | None = None,
        rollback_fails: bool = False,
    ) -> AlarmTrip:
        """A CloudWatch alarm goes into ALARM ``after`` seconds into ``phase`` of the current
        deployment of ``endpoint_name`` if that phase is still ahead or running, else of its NEXT
        deployment (the fault is then consumed by that deployment, fired or not).

        ``phase``: provisioning | canary-bake | linear-bake | final-bake | rolling-bake;
        ``index`` picks the linear step / rolling batch (0-based; default: the first one not yet
        over). ``alarm_name`` defaults to the deployment's first AutoRollbackConfiguration alarm;
        an alarm that is not among them rolls nothing back, and with no alarms configured no
        alarm can (fact sheet: alarms "are a prerequisite for baking periods"); the trip is then
        recorded as ``ignored``. An alarm whose moment falls beyond its phase is ``missed``.

        Effect (fact sheet, "Endpoint status" and "What happens" table): ``RollingBack`` for
        ``timings.rollback`` (per RollbackMaximumBatchSize batch for rolling), then ``InService``
        on the OLD config with FailureReason ``reason`` (None: ``Messages.alarm_rollback``,
        *unverified* wording; ``""``: an empty FailureReason, as terraform-provider-aws #48997
        reports). ``rollback_fails=True``: ``UpdateRollbackFailed`` instead.
        """
        if phase not in ALARM_PHASES:
            raise ValueError(f"phase must be one of {ALARM_PHASES}, not {phase!r}")
        if after < 0:
            raise ValueError("after must be >= 0")
        trip = AlarmTrip(endpoint_name.lower(), phase, index, after, alarm_name, reason,
                         rollback_fails)
        with self._store.locked_now():
            self._store.plan.history.append(trip)
            if not self._store.trip_current_deployment(trip):
                self._store.plan.alarms.append(trip)
        return trip

    def fail_provisioning(
        self,
        endpoint_name: str | None = None,
        *,
        reason: str | None = None,
        on: Literal["create", "update"] = "update",
    ) -> ProvisioningFailure:
        """The next ``on`` (create or update) of ``endpoint_name`` (None: of any endpoint) fails
        to provision its instances.

        update: at the end of the (first) provisioning phase the endpoint goes back to
        ``InService`` on the old config with FailureReason (fact sheet: "If an update fails, the
        endpoint goes back to InService state with a FailureReason", ACK sagemaker-controller
        PR #7); no traffic had moved, so there is no RollingBack phase (*unverified*).
        create: ``Creating`` for ``timings.create``, then ``Failed`` with FailureReason.
        ``reason`` None: ``Messages.provisioning_failed``.
        """
        fault = ProvisioningFailure(endpoint_name.lower() if endpoint_name else None, on, reason)
        with self._store.lock:
            self._store.plan.provisioning.append(fault)
            self._store.plan.history.append(fault)
        return fault

    def error(
        self, operation: str, code: str, message: str, *, http_status: int = 400, times: int = 1,
        rule: str = "injected", applied: bool = False,
    ) -> InjectedError:
        """The next ``times`` calls of ``operation`` fail with ``code`` / ``message`` (checked
        before anything else, so the call changes nothing). ``applied=True``: the call runs and
        takes effect first, and only its answer is the error (the server did the work, the
        response was lost); a call that fails on its own keeps its own error."""
        fault = InjectedError(operation, code, message, http_status, times, rule,
                              applied=applied)
        with self._store.lock:
            self._store.plan.errors.append(fault)
            self._store.plan.history.append(fault)
        return fault

    def resource_limit(
        self, operation: str, *, instance_type: str = "ml.m5.xlarge", times: int = 1
    ) -> InjectedError:
        """``ResourceLimitExceeded`` (HTTP 400, not retried by botocore) with the fact sheet's
        message."""
        err = resource_limit(instance_type)
        return self.error(operation, err.code, err.message, times=times, rule=err.rule)

    def throttle(self, operation: str, *, times: int = 1) -> InjectedError:
        """``ThrottlingException`` (HTTP 400), retried by botocore's standard/adaptive modes
        (fact sheet)."""
        return self.error(operation, "ThrottlingException", "Rate exceeded", times=times,
                          rule="throttle")

    def server_error(
        self, operation: str, *, times: int = 1, http_status: Literal[500, 503] = 500,
        applied: bool = False,
    ) -> InjectedError:
        """A transient server fault: HTTP 500 ``InternalFailure`` or 503 ``ServiceUnavailable``
        (retried by botocore). ``applied=True``: the call took effect before the fault (see
        :meth:`error`), so botocore's retry meets the consequences of the first attempt."""
        if http_status == 503:
            return self.error(operation, "ServiceUnavailable", "Service is unavailable.",
                              http_status=503, times=times, rule="server-error", applied=applied)
        return self.error(operation, "InternalFailure", "An internal error occurred.",
                          http_status=500, times=times, rule="server-error", applied=applied)

    def outage(
        self, seconds: float, *, kind: Literal["throttle", "unavailable", "drop"] = "throttle",
        operation: str | None = None, after: float = 0.0, after_operation: str | None = None,
    ) -> Outage:
        """From ``after`` seconds from now (or from the next success of ``after_operation``),
        for ``seconds``, every call (of ``operation``, or of all) fails with ``kind`` (see
        :class:`Outage`). Issue 17.5: 150 s of throttling or 120 s of HTTP 503 outlast
        botocore's 8 attempts; issue 17.3: a connection dropped right after CreateEndpoint."""
        with self._store.lock:
            now = self._store.clock.now()
            outage = Outage(operation, now + after, now + after + seconds, kind,
                            after_operation=after_operation)
            self._store.plan.outages.append(outage)
            self._store.plan.history.append(outage)
        return outage

    def stale_summary(self) -> None:
        """PendingDeploymentSummary stops moving: it keeps showing the deployment's first phase."""
        with self._store.lock:
            self._store.plan.reads.summary = "stale"

    def absent_summary(self) -> None:
        """DescribeEndpoint never returns PendingDeploymentSummary."""
        with self._store.lock:
            self._store.plan.reads.summary = "absent"

    def lag_reads_after_update(self, seconds: float) -> None:
        """DescribeEndpoint lags UpdateEndpoint by ``seconds`` (the old InService view)."""
        with self._store.lock:
            self._store.plan.reads.update_read_lag = seconds

    def lag_config_reads(self, seconds: float) -> None:
        """A config created less than ``seconds`` ago reads as missing (issue 17.2)."""
        with self._store.lock:
            self._store.plan.reads.config_read_lag = seconds

    def events(self, **settings: object) -> EventFaults:
        """How SageMaker's events reach the bus: ``delay``, ``jitter``, ``duplicates``,
        ``duplicate_gap``, ``lose`` (a probability, or a predicate on the event); see
        :mod:`.events`."""
        with self._store.lock:
            return self._store.events.configure(**settings)

    def set_system_updating(self, endpoint_name: str, seconds: float) -> None:
        """Maintenance: ``SystemUpdating`` for ``seconds``, then back to the previous status.
        Update and Delete are refused meanwhile (fact sheet, SystemUpdating)."""
        with self._store.locked_now():
            self._store.start_system_update(endpoint_name, seconds)

    def set_status(
        self, endpoint_name: str, status: str, *, failure_reason: str | None = None
    ) -> None:
        """Put an endpoint directly in ``status`` (e.g. Failed, UpdateRollbackFailed,
        OutOfService, InService), cancelling whatever operation was running."""
        with self._store.locked_now():
            self._store.force_status(endpoint_name, status, failure_reason)

    def delete_endpoint_out_of_band(self, endpoint_name: str) -> None:
        """The endpoint disappears at once (someone deleted it in the console long ago)."""
        with self._store.locked_now():
            self._store.remove_endpoint(endpoint_name)

    def delete_config_out_of_band(self, config_name: str) -> None:
        """The endpoint config disappears at once (DeleteEndpointConfig is never blocked)."""
        with self._store.locked_now():
            self._store.remove_config(config_name)
