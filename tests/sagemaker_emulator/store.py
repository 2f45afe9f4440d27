"""The store of the emulator's state: one lock, every request first brought up to
``clock.now()`` (:meth:`StoreState.refresh` applies the outcome of each timeline whose end
has passed); events, lookups, and the test-only state changes."""

from __future__ import annotations

import contextlib
import copy
import random
import threading
from collections.abc import Callable, Iterator

from .clock import Clock
from .errors import ApiError, DroppedConnection, Messages, config_not_found, endpoint_not_found
from .events import DEPLOYMENT_CHANGE, STATE_CHANGE, EventLog, endpoint_detail
from .faults import FaultPlan
from .records import Behaviour, Call, Endpoint, EndpointConfig, InvariantViolation, Json
from .timeline import Phase, Timeline, Timings, single_phase
from .validation import check_shape


class StoreState:
    """The state of every resource, guarded by one lock, and what every operation shares:
    dispatch, events, bringing state up to now (:meth:`refresh`), lookups, tags and pages;
    the operations themselves are in the modules named for them (assembled in model.py)."""

    def __init__(
        self,
        clock: Clock,
        *,
        region: str,
        account_id: str,
        timings: Timings,
        seed: int,
        messages: Messages,
        behaviour: Behaviour,
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.region = region
        self.account_id = account_id
        self.timings = timings
        self.rng = random.Random(seed)
        self.messages = messages
        self.behaviour = behaviour
        self.plan = FaultPlan()
        self.events = EventLog(region, account_id, seed)
        self.configs: dict[str, EndpointConfig] = {}  # keyed by lower-cased name
        self.endpoints: dict[str, Endpoint] = {}  # keyed by lower-cased name
        self.tags: dict[str, dict[str, str]] = {}  # ARN -> tags, for every existing resource
        self.calls: list[Call] = []
        self.violations: list[InvariantViolation] = []
        #: Every operation that has ended, in the order they ended: (lower-cased endpoint name,
        #: its timeline; ``timeline.end`` is when the endpoint reached its terminal status).
        self.finished: list[tuple[str, Timeline]] = []
        self._seen_violations: set[tuple[str, str, str]] = set()
        self._operations: dict[str, Callable[[Json], Json]] = self.operation_table()

    def operation_table(self) -> dict[str, Callable[[Json], Json]]:
        """The API operations by name (the assembled Store names them)."""
        return {}

    # --- plumbing --------------------------------------------------------------------------

    def endpoint_arn(self, name: str) -> str:
        # Fact sheet, IAM: SageMaker lower-cases names in ARNs.
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:endpoint/{name.lower()}"

    def config_arn(self, name: str) -> str:
        return f"arn:aws:sagemaker:{self.region}:{self.account_id}:endpoint-config/{name.lower()}"

    def handle(self, operation: str, params: Json) -> Json:
        """Run one API call at the current virtual time; raise ApiError on failure."""
        with self.lock:
            now = self.refresh()
            named = self.endpoints.get(str(params.get("EndpointName", "")).lower())
            status = self.status_of(named, now) if named is not None else None
            try:
                self._outage(operation, now)
                injected = self.plan.take_error(operation)
                if injected is not None and not injected.applied:
                    raise ApiError(injected.code, injected.message, status=injected.http_status,
                                   rule=injected.rule)
                handler = self._operations.get(operation)
                if handler is None:
                    raise ApiError("UnknownOperationException",
                                   f"The emulator does not implement {operation}.",
                                   rule="unknown-operation")
                check_shape(operation, params)
                result = handler(params)
                if injected is not None:  # applied: the work is done, the answer is lost
                    raise ApiError(injected.code, injected.message, status=injected.http_status,
                                   rule=injected.rule)
            except ApiError as err:
                self.calls.append(Call(now, operation, copy.deepcopy(params), err.code, err.rule,
                                       status))
                raise
            finally:
                self.check_invariants(now)
            self.calls.append(Call(now, operation, copy.deepcopy(params), endpoint_status=status))
            self.plan.opened_by(operation, now)
            return result

    def _outage(self, operation: str, now: float) -> None:
        outage = self.plan.outage_at(operation, now)
        if outage is None:
            return
        if outage.kind == "drop":
            raise DroppedConnection(operation)
        if outage.kind == "unavailable":
            raise ApiError("ServiceUnavailable", "Service is unavailable.", status=503,
                           rule="outage")
        raise ApiError("ThrottlingException", "Rate exceeded", rule="outage")

    # --- events (events.py) ------------------------------------------------------------------

    def publish_state(self, endpoint: Endpoint, status: str, at: float,
                      detail_type: str = STATE_CHANGE, pending: Json | None = None) -> None:
        detail = endpoint_detail(
            name=endpoint.name, arn=endpoint.arn, config=endpoint.config_name, status=status,
            created=endpoint.creation_time, modified=at, variants=copy.deepcopy(endpoint.variants),
            tags=self.tags.get(endpoint.arn, {}), pending=pending)
        self.events.publish(at, detail_type, detail, endpoint.arn)

    def _publish_phases(self, endpoint: Endpoint, timeline: Timeline, upto: float) -> None:
        """Events for the phases of ``timeline`` that began after what was published, until
        ``upto``: a Deployment State Change per phase of an update, a State Change when the
        endpoint's status changes between phases (*unverified*, see events.py)."""
        previous: str | None = None
        for phase in timeline.phases:
            begun = timeline.published_until < phase.start <= upto
            if begun and previous is not None and phase.endpoint_status != previous:
                self.publish_state(endpoint, phase.endpoint_status, phase.start)
            if begun and timeline.operation == "update" and phase.variant_status is not None:
                self.publish_state(endpoint, phase.endpoint_status, phase.start, DEPLOYMENT_CHANGE,
                                   self._pending(timeline, phase))
            previous = phase.endpoint_status
        timeline.published_until = max(timeline.published_until, upto)

    def collect_events(self) -> None:
        """Publish every event due by now (the harness calls this before it delivers)."""
        with self.lock:
            now = self.refresh()
            for endpoint in self.endpoints.values():
                if endpoint.timeline is not None:
                    self._publish_phases(endpoint, endpoint.timeline, now)

    def next_change_after(self, t: float) -> float | None:
        """The next moment after ``t`` at which some endpoint's state changes (an event is due)."""
        with self.lock:
            moments = [m for e in self.endpoints.values() if e.timeline is not None
                       if (m := e.timeline.changes_after(t)) is not None]
            return min(moments) if moments else None

    @contextlib.contextmanager
    def locked_now(self) -> Iterator[float]:
        """Hold the lock, bring state up to now, and check invariants after the change."""
        with self.lock:
            now = self.refresh()
            yield now
            self.check_invariants(now)

    def refresh(self) -> float:
        """Apply every outcome due by now; return now."""
        now = self.clock.now()
        for endpoint in list(self.endpoints.values()):
            timeline = endpoint.timeline
            if timeline is not None and now >= timeline.end:
                self._finish(endpoint, timeline)
        self.check_invariants(now)
        return now

    def check_invariants(self, now: float) -> None:
        """Record endpoints that reference a config that no longer exists (prior-art failure 3;
        terraform-provider-aws #40048). Endpoints being deleted are not live and are skipped."""
        for endpoint in self.endpoints.values():
            if endpoint.status == "Deleting":
                continue
            refs = [("current", endpoint.config_name)]
            if endpoint.timeline is not None and endpoint.timeline.target_config is not None:
                refs.append(("pending", endpoint.timeline.target_config))
            for role, config in refs:
                key = (endpoint.name.lower(), config.lower(), role)
                if config.lower() not in self.configs and key not in self._seen_violations:
                    self._seen_violations.add(key)
                    self.violations.append(InvariantViolation(now, endpoint.name, config, role))

    def status_of(self, endpoint: Endpoint, now: float) -> str:
        if endpoint.timeline is not None:
            phase = endpoint.timeline.phase_at(now)
            if phase is not None:
                return phase.endpoint_status
        return endpoint.status

    def _endpoint(self, name: str) -> Endpoint:
        endpoint = self.endpoints.get(name.lower())
        if endpoint is None:
            raise endpoint_not_found(self.endpoint_arn(name))
        return endpoint

    def _config(self, name: str) -> EndpointConfig:
        config = self.configs.get(name.lower())
        lag = self.plan.reads.config_read_lag
        if config is None or self.clock.now() - config.creation_time < lag:
            # The lag: a config created a moment ago may read as missing (issue 17.2; the
            # CreateEndpoint API reference recommends retrying).
            raise config_not_found(self.config_arn(name))
        return config

    def _finish(self, endpoint: Endpoint, timeline: Timeline) -> None:
        """Apply ``timeline.outcome`` as of ``timeline.end``."""
        self.finished.append((endpoint.name.lower(), timeline))
        self._publish_phases(endpoint, timeline, timeline.end)
        endpoint.timeline = None
        endpoint.last_modified = timeline.end
        outcome = timeline.outcome
        if outcome == "created":
            endpoint.status = "InService"
            endpoint.variants = [g.summary() for g in timeline.green]
        elif outcome == "create-failed":
            endpoint.status = "Failed"
            endpoint.failure_reason = timeline.failure_reason
        elif outcome == "deployed":
            # Fact sheet: at the end EndpointConfigName = new; LastDeploymentConfig holds the
            # deployment config last used; FailureReason disappears with a new update.
            endpoint.status = "InService"
            endpoint.config_name = timeline.target_config or endpoint.config_name
            endpoint.variants = [g.summary() for g in timeline.green]
            endpoint.last_deployment_config = timeline.deployment_config
            endpoint.failure_reason = None
        elif outcome in ("rolled-back", "update-failed"):
            if endpoint.config_name.lower() not in self.configs:
                # Fact sheet: deleting an in-use EndpointConfig is not blocked; "later updates and
                # rollbacks then fail" (terraform-provider-aws #40048). The end state of such a
                # rollback is an *unverified* assumption: UpdateRollbackFailed.
                detail = self.messages.rollback_target_missing.format(
                    arn=self.config_arn(endpoint.config_name))
                endpoint.status = "UpdateRollbackFailed"
                endpoint.failure_reason = self.messages.rollback_failed.format(detail=detail)
            else:
                # Fact sheet: back to InService on the OLD EndpointConfigName, with FailureReason
                # (possibly empty: terraform-provider-aws #48997).
                endpoint.status = "InService"
                endpoint.failure_reason = timeline.failure_reason
        elif outcome == "rollback-failed":
            endpoint.status = "UpdateRollbackFailed"
            endpoint.failure_reason = timeline.failure_reason
        elif outcome == "deleted":
            self.remove_endpoint(endpoint.name)
        elif outcome == "restored":
            endpoint.status = timeline.restore_status or "InService"
        else:  # pragma: no cover
            raise AssertionError(f"unknown outcome {outcome}")
        if outcome != "deleted":
            self.publish_state(endpoint, endpoint.status, timeline.end)

    def _new_tags(self, arn: str, tags: list[Json]) -> dict[str, str]:
        merged = dict(self.tags.get(arn, {}))
        for tag in tags:
            # General AWS tagging rule (*unverified* for SageMaker's wording).
            if tag["Key"].lower().startswith("aws:"):
                raise self.messages.rule("tag-reserved", key=tag["Key"])
            merged[tag["Key"]] = tag["Value"]
        # Fact sheet: Tags 0..50 (per request in the model; per resource: *unverified*).
        if len(merged) > 50:
            raise self.messages.rule("tag-limit", arn=arn, count=len(merged))
        return merged

    def _page(self, items: list[Json], params: Json, key: str) -> Json:
        token = params.get("NextToken")
        try:
            start = int(token) if token else 0
        except ValueError:
            raise self.messages.rule("pagination", token=token) from None
        size = params.get("MaxResults", self.behaviour.page_size)
        out: Json = {key: items[start:start + size]}
        if start + size < len(items):
            out["NextToken"] = str(start + size)
        return out

    def _pending(self, timeline: Timeline, phase: Phase | None) -> Json:
        """Fact sheet: during the update the new config is in PendingDeploymentSummary, with
        per-variant VariantStatus entries (Creating/Updating/Deleting/ActivatingTraffic/Baking),
        each with a StartTime."""
        variants = []
        for green in timeline.green:
            item: Json = {"VariantName": green.name, "DesiredWeight": green.weight}
            if green.instance_count is not None:
                item["DesiredInstanceCount"] = green.instance_count
            if green.instance_type is not None:
                item["InstanceType"] = green.instance_type
            if green.serverless is not None:
                item["DesiredServerlessConfig"] = dict(green.serverless)
            if phase is not None and phase.variant_status is not None:
                item["VariantStatus"] = [{"Status": phase.variant_status,
                                          "StatusMessage": phase.message,
                                          "StartTime": phase.start}]
            variants.append(item)
        return {"EndpointConfigName": timeline.target_config, "StartTime": timeline.started,
                "ProductionVariants": variants}

    # --- test-only state changes (used by faults.Faults and the emulator) --------------------

    def remove_endpoint(self, name: str) -> None:
        endpoint = self._endpoint(name)
        del self.endpoints[name.lower()]
        self.tags.pop(endpoint.arn, None)

    def remove_config(self, name: str) -> None:
        config = self._config(name)
        del self.configs[name.lower()]
        self.tags.pop(config.arn, None)

    def start_system_update(self, name: str, seconds: float) -> None:
        endpoint = self._endpoint(name)
        if endpoint.timeline is not None:
            raise ValueError(f"{name} is busy ({endpoint.timeline.operation}); cannot maintain it")
        now = self.clock.now()
        endpoint.timeline = Timeline(
            "system-update", now,
            single_phase("system-updating", now, seconds, "SystemUpdating", "Maintenance"),
            "restored", restore_status=endpoint.status)
        endpoint.status = "SystemUpdating"

    def force_status(self, name: str, status: str, failure_reason: str | None) -> None:
        endpoint = self._endpoint(name)
        timeline = endpoint.timeline
        if timeline is not None and timeline.operation == "create" and not endpoint.variants:
            endpoint.variants = [g.summary() for g in timeline.green]
        endpoint.timeline = None
        endpoint.status = status
        endpoint.failure_reason = failure_reason
        endpoint.last_modified = self.clock.now()

    def set_variant_capacity(self, name: str, variant: str, *,
                             desired_instance_count: int | None = None,
                             desired_weight: float | None = None) -> None:
        """What autoscaling or UpdateEndpointWeightsAndCapacities would do to a serving variant."""
        endpoint = self._endpoint(name)
        for summary in endpoint.variants:
            if summary["VariantName"] == variant:
                if desired_instance_count is not None:
                    summary["DesiredInstanceCount"] = desired_instance_count
                    summary["CurrentInstanceCount"] = desired_instance_count
                if desired_weight is not None:
                    summary["DesiredWeight"] = desired_weight
                    summary["CurrentWeight"] = desired_weight
                return
        raise KeyError(f"{name} has no variant {variant}")
