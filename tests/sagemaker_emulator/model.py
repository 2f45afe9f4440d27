"""Endpoints, endpoint configs and tags, and the API operations on them.

All state lives in one :class:`Store` guarded by one lock. Every request first brings the store
up to ``clock.now()`` (:meth:`Store.refresh` applies the outcome of each timeline whose end has
passed), then runs. Between requests nothing moves: state is a function of virtual time.
"""

from __future__ import annotations

import contextlib
import copy
import random
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from .clock import Clock
from .errors import (
    ApiError,
    DroppedConnection,
    Messages,
    config_exists,
    config_not_found,
    endpoint_exists,
    endpoint_failed,
    endpoint_in_progress,
    endpoint_not_found,
)
from .events import DEPLOYMENT_CHANGE, STATE_CHANGE, EventLog, endpoint_detail
from .faults import AlarmTrip, FaultPlan, ProvisioningFailure
from .timeline import (
    GreenVariant,
    Phase,
    Timeline,
    Timings,
    draw,
    rollback_phases,
    single_phase,
    update_phases,
)
from .validation import (
    check_deployment,
    check_endpoint_config,
    check_shape,
    effective_deployment_config,
)

Json = dict[str, Any]

# Fact sheet, "Error behaviour": Update/Delete refused while Creating/Updating. SystemUpdating:
# botocore EndpointStatus docs ("cannot be updated or deleted or re-scaled until it has
# completed"). RollingBack and Deleting: *unverified* assumption (Terraform PR #49020 and the ACK
# controller treat RollingBack as in progress), same message.
IN_PROGRESS = frozenset({"Creating", "Updating", "SystemUpdating", "RollingBack", "Deleting"})


@dataclass
class EndpointConfig:
    name: str
    arn: str
    creation_time: float
    spec: Json  # the CreateEndpointConfig request without Tags


@dataclass
class Endpoint:
    name: str
    arn: str
    creation_time: float
    last_modified: float
    status: str
    config_name: str
    variants: list[Json] = field(default_factory=list)  # ProductionVariantSummary list
    failure_reason: str | None = None
    last_deployment_config: Json | None = None
    timeline: Timeline | None = None
    #: DescribeEndpoint's answer from before the last UpdateEndpoint, served until ``lag_until``
    #: (the lagging-read fault).
    before_update: Json | None = None
    lag_until: float = 0.0


@dataclass(frozen=True)
class Call:
    """One request as the emulator saw it."""

    time: float
    operation: str
    params: Json
    error_code: str | None = None
    error_rule: str | None = None


@dataclass(frozen=True)
class InvariantViolation:
    """An endpoint referenced an endpoint config that no longer existed (first seen at ``time``).

    ``role``: ``current`` (EndpointConfigName) or ``pending`` (the config being deployed)."""

    time: float
    endpoint: str
    config: str
    role: str


@dataclass
class Behaviour:
    """Knobs for behaviours the fact sheet marks *unverified*."""

    #: UpdateEndpoint with the config already serving: reject (ValidationException, rule
    #: ``same-config``) or run a normal deployment.
    same_config_update: Literal["reject", "deploy"] = "reject"
    #: If set, auto-rollback alarms outside this set are rejected (rule ``unknown-alarm``).
    known_alarms: frozenset[str] | None = None
    #: Default MaxResults of the List operations (*unverified*: 10).
    page_size: int = 10


class Store:
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
        self._operations: dict[str, Callable[[Json], Json]] = {
            "CreateEndpointConfig": self.create_endpoint_config,
            "DescribeEndpointConfig": self.describe_endpoint_config,
            "DeleteEndpointConfig": self.delete_endpoint_config,
            "ListEndpointConfigs": self.list_endpoint_configs,
            "CreateEndpoint": self.create_endpoint,
            "DescribeEndpoint": self.describe_endpoint,
            "UpdateEndpoint": self.update_endpoint,
            "DeleteEndpoint": self.delete_endpoint,
            "ListEndpoints": self.list_endpoints,
            "AddTags": self.add_tags,
            "DeleteTags": self.delete_tags,
            "ListTags": self.list_tags,
        }

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
                self.calls.append(Call(now, operation, copy.deepcopy(params), err.code, err.rule))
                raise
            finally:
                self.check_invariants(now)
            self.calls.append(Call(now, operation, copy.deepcopy(params)))
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

    # --- endpoint configs ------------------------------------------------------------------

    def create_endpoint_config(self, params: Json) -> Json:
        name = params["EndpointConfigName"]
        arn = self.config_arn(name)
        if name.lower() in self.configs:
            raise config_exists(arn)
        check_endpoint_config(params, self.messages)
        tags = self._new_tags(arn, params.get("Tags", []))
        spec = {k: copy.deepcopy(v) for k, v in params.items() if k != "Tags"}
        self.configs[name.lower()] = EndpointConfig(name, arn, self.clock.now(), spec)
        self.tags[arn] = tags
        return {"EndpointConfigArn": arn}

    def describe_endpoint_config(self, params: Json) -> Json:
        config = self._config(params["EndpointConfigName"])
        return {**copy.deepcopy(config.spec), "EndpointConfigArn": config.arn,
                "CreationTime": config.creation_time}

    def delete_endpoint_config(self, params: Json) -> Json:
        # Fact sheet: deleting an in-use EndpointConfig is NOT blocked (terraform #40048).
        self.remove_config(self._config(params["EndpointConfigName"]).name)
        return {}

    def list_endpoint_configs(self, params: Json) -> Json:
        configs = list(self.configs.values())
        if "NameContains" in params:
            configs = [c for c in configs if params["NameContains"].lower() in c.name.lower()]
        if "CreationTimeBefore" in params:
            configs = [c for c in configs if c.creation_time < params["CreationTimeBefore"]]
        if "CreationTimeAfter" in params:
            configs = [c for c in configs if c.creation_time > params["CreationTimeAfter"]]
        by_name = params.get("SortBy") == "Name"
        configs.sort(key=lambda c: (c.name if by_name else c.creation_time, c.name),
                     reverse=params.get("SortOrder", "Descending") == "Descending")
        items = [{"EndpointConfigName": c.name, "EndpointConfigArn": c.arn,
                  "CreationTime": c.creation_time} for c in configs]
        return self._page(items, params, "EndpointConfigs")

    # --- endpoints ---------------------------------------------------------------------------

    def _green(self, config: EndpointConfig, retain_from: list[Json] | None,
               exclude: frozenset[str]) -> list[GreenVariant]:
        """The fleet ``config`` deploys. With ``retain_from`` (RetainAllVariantProperties) the
        current DesiredInstanceCount / DesiredWeight are kept unless excluded (fact sheet,
        UpdateEndpoint table)."""
        previous = {v["VariantName"]: v for v in retain_from or []}
        fleet = []
        for variant in config.spec["ProductionVariants"]:
            serverless = variant.get("ServerlessConfig")
            count: int | None = None if serverless else variant.get("InitialInstanceCount", 1)
            weight = float(variant.get("InitialVariantWeight", 1.0))
            old = previous.get(variant["VariantName"])
            if old is not None:
                if count is not None and "DesiredInstanceCount" not in exclude:
                    count = old.get("DesiredInstanceCount", count)
                if "DesiredWeight" not in exclude:
                    weight = float(old.get("DesiredWeight", weight))
            fleet.append(GreenVariant(variant["VariantName"], count, variant.get("InstanceType"),
                                      weight, copy.deepcopy(serverless)))
        return fleet

    def create_endpoint(self, params: Json) -> Json:
        name = params["EndpointName"]
        arn = self.endpoint_arn(name)
        # Fact sheet: names are case-insensitive, and an endpoint still Deleting counts.
        if name.lower() in self.endpoints:
            raise endpoint_exists(arn)
        config = self._config(params["EndpointConfigName"])
        tags = self._new_tags(arn, params.get("Tags", []))
        now = self.clock.now()
        seconds = draw(self.rng, self.timings.create)
        timeline = Timeline("create", now, single_phase("creating", now, seconds, "Creating",
                                                         "Creating the endpoint"), "created",
                            green=self._green(config, None, frozenset()))
        fault = self.plan.take_provisioning(name.lower(), "create")
        if fault is not None:
            # Fact sheet, "Endpoint status": CreateEndpoint: Creating -> Failed with FailureReason.
            timeline.outcome = "create-failed"
            timeline.failure_reason = fault.reason if fault.reason is not None else (
                self.messages.provisioning_failed.format(variant=timeline.green[0].name))
            fault.status = f"fired at {timeline.end}"
        self.endpoints[name.lower()] = Endpoint(
            name, arn, now, now, "Creating", config.name, timeline=timeline,
            # Fact sheet: "a create is never a guarded deployment": DeploymentConfig on create is
            # only stored for later RetainDeploymentConfig updates.
            last_deployment_config=copy.deepcopy(params.get("DeploymentConfig")),
        )
        self.tags[arn] = tags
        self.publish_state(self.endpoints[name.lower()], "Creating", now)
        return {"EndpointArn": arn}

    def describe_endpoint(self, params: Json) -> Json:
        endpoint = self._endpoint(params["EndpointName"])
        now = self.clock.now()
        if endpoint.before_update is not None and now < endpoint.lag_until:
            # The lagging-read fault: the view from before the UpdateEndpoint (*unverified*).
            return copy.deepcopy(endpoint.before_update)
        out: Json = {
            "EndpointName": endpoint.name,
            "EndpointArn": endpoint.arn,
            "EndpointConfigName": endpoint.config_name,
            "EndpointStatus": self.status_of(endpoint, now),
            "CreationTime": endpoint.creation_time,
            "LastModifiedTime": endpoint.last_modified,
        }
        if endpoint.variants:
            out["ProductionVariants"] = copy.deepcopy(endpoint.variants)
        if endpoint.failure_reason is not None:
            out["FailureReason"] = endpoint.failure_reason
        if endpoint.last_deployment_config is not None:
            out["LastDeploymentConfig"] = copy.deepcopy(endpoint.last_deployment_config)
        timeline = endpoint.timeline
        summary = self.plan.reads.summary
        if timeline is not None and timeline.operation == "update" and summary != "absent":
            # The stale-summary fault: frozen at the deployment's first phase.
            phase = timeline.phases[0] if summary == "stale" else timeline.phase_at(now)
            out["PendingDeploymentSummary"] = self._pending(timeline, phase)
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

    def update_endpoint(self, params: Json) -> Json:
        endpoint = self._endpoint(params["EndpointName"])
        now = self.clock.now()
        status = self.status_of(endpoint, now)
        if status in IN_PROGRESS:
            raise endpoint_in_progress(endpoint.arn)
        if status == "Failed":
            raise endpoint_failed(endpoint.arn)
        config = self._config(params["EndpointConfigName"])
        if endpoint.config_name.lower() not in self.configs:
            # The config in use was deleted: the next UpdateEndpoint fails with HTTP 400
            # "Could not find endpoint configuration" naming it (terraform-provider-aws #40048,
            # #48997, PR #49020).
            raise config_not_found(self.config_arn(endpoint.config_name))
        if config.name.lower() == endpoint.config_name.lower() and (
            self.behaviour.same_config_update == "reject"
        ):
            # *Unverified*: the answer to UpdateEndpoint with the config already serving.
            raise self.messages.rule("same-config", endpoint=endpoint.name, config=config.name)

        retain = params.get("RetainDeploymentConfig", False)
        if retain and "DeploymentConfig" in params:
            # *Unverified* assumption: both at once is ambiguous; rejected.
            raise self.messages.rule("retain-and-config")
        # Fact sheet: RetainDeploymentConfig reuses LastDeploymentConfig.
        requested = endpoint.last_deployment_config if retain else params.get("DeploymentConfig")
        deployment = effective_deployment_config(requested)
        exclude = frozenset(p["VariantPropertyType"]
                            for p in params.get("ExcludeRetainedVariantProperties", []))
        retain_from = endpoint.variants if params.get("RetainAllVariantProperties") else None
        green = self._green(config, retain_from, exclude)
        check_deployment(
            deployment,
            guarded=requested is not None,
            old_variant_names=[v["VariantName"] for v in endpoint.variants],
            new_config_name=config.name,
            green=green,
            messages=self.messages,
            known_alarms=self.behaviour.known_alarms,
        )
        timeline = Timeline("update", now, update_phases(now, deployment, green, self.timings,
                                                         self.rng), "deployed",
                            target_config=config.name, deployment_config=deployment, green=green)
        self._schedule_faults(endpoint, timeline)
        if self.plan.reads.update_read_lag > 0:
            endpoint.before_update = self.describe_endpoint({"EndpointName": endpoint.name})
            endpoint.lag_until = now + self.plan.reads.update_read_lag
        endpoint.timeline = timeline
        self.publish_state(endpoint, "Updating", now)
        endpoint.status = "Updating"  # Fact sheet / API reference: status becomes Updating
        endpoint.failure_reason = None  # ACK PR #7: FailureReason disappears with a new update
        endpoint.last_modified = now
        return {"EndpointArn": endpoint.arn}

    def _schedule_faults(self, endpoint: Endpoint, timeline: Timeline) -> None:
        """Fold the faults armed for this deployment into its timeline: the earliest wins."""
        name = endpoint.name.lower()
        cuts: list[tuple[float, Callable[[], None], AlarmTrip | ProvisioningFailure | None]] = []
        for trip in self.plan.take_alarms(name):
            moment = self._alarm_moment(timeline, trip, timeline.started)
            if isinstance(moment, str):
                trip.status = moment
                continue
            at, alarm = moment
            cuts.append((at, self._alarm_cut(endpoint, timeline, trip, at, alarm), trip))
        failure = self.plan.take_provisioning(name, "update")
        if failure is not None:
            first = timeline.find("provisioning", None, timeline.started)
            at = first.end if first is not None else timeline.started
            variant = timeline.green[0].name
            reason = failure.reason if failure.reason is not None else (
                self.messages.provisioning_failed.format(variant=variant))

            def fail_provisioning(at: float = at, reason: str = reason) -> None:
                timeline.cut(at, [], "update-failed", reason)

            cuts.append((at, fail_provisioning, failure))
        policy = (timeline.deployment_config or {}).get("BlueGreenUpdatePolicy") or (
            (timeline.deployment_config or {}).get("RollingUpdatePolicy", {}))
        timeout = policy.get("MaximumExecutionTimeoutInSeconds")
        if timeout is not None and timeline.end - timeline.started > timeout:
            # Fact sheet: MaximumExecutionTimeoutInSeconds bounds the deployment; when exceeded
            # it is rolled back (*unverified*: measured to the end of the old fleet's
            # termination, and the FailureReason wording).
            at = timeline.started + timeout
            reason = self.messages.timeout_rollback.format(timeout=timeout,
                                                           config=timeline.target_config)

            def time_out(at: float = at, reason: str = reason) -> None:
                tail = rollback_phases(timeline, at, self.timings, self.rng)
                timeline.cut(at, tail, "rolled-back", reason)

            cuts.append((at, time_out, None))
        cuts.sort(key=lambda cut: cut[0])
        for i, (at, apply, fault) in enumerate(cuts):
            if i == 0:
                apply()
            if fault is not None:
                fault.status = f"fired at {at}" if i == 0 else "missed: an earlier fault ended it"

    def _alarm_moment(self, timeline: Timeline, trip: AlarmTrip,
                      now: float) -> tuple[float, str] | str:
        """When ``trip`` fires in ``timeline``, and which alarm; or why it does not."""
        phase = timeline.find(trip.phase, trip.index, now)
        if phase is None:
            return f"missed: no {trip.phase} phase (index {trip.index}) ahead in the deployment"
        config = timeline.deployment_config or {}
        alarms = [a["AlarmName"] for a in config.get("AutoRollbackConfiguration", {})
                  .get("Alarms", [])]
        if not alarms:
            # Fact sheet: alarms "are a prerequisite for baking periods": without alarms
            # auto-rollback does not work.
            return "ignored: the deployment has no AutoRollbackConfiguration alarms"
        alarm = trip.alarm_name or alarms[0]
        if alarm not in alarms:
            return f"ignored: {alarm} is not an auto-rollback alarm of this deployment"
        at = max(phase.start + trip.after, now)
        if at >= phase.end:
            return f"missed: {trip.after}s is beyond the {trip.phase} phase"
        return at, alarm

    def _alarm_cut(self, endpoint: Endpoint, timeline: Timeline, trip: AlarmTrip, at: float,
                   alarm: str) -> Callable[[], None]:
        def apply() -> None:
            # Fact sheet: an alarm sends all traffic back to blue; RollingBack, then InService on
            # the OLD config with FailureReason; a failed rollback ends in UpdateRollbackFailed.
            tail = rollback_phases(timeline, at, self.timings, self.rng)
            if trip.reason is not None:
                reason = trip.reason
            else:
                reason = self.messages.alarm_rollback.format(
                    alarms=alarm, endpoint=endpoint.name, config=timeline.target_config)
                if trip.rollback_fails:
                    reason = self.messages.rollback_failed.format(detail=reason)
            outcome = "rollback-failed" if trip.rollback_fails else "rolled-back"
            timeline.cut(at, tail, outcome, reason)

        return apply

    def trip_current_deployment(self, trip: AlarmTrip) -> bool:
        """Fire ``trip`` in the running deployment if it can; False: keep it for the next one."""
        endpoint = self.endpoints.get(trip.endpoint)
        if endpoint is None or endpoint.timeline is None:
            return False
        timeline = endpoint.timeline
        if timeline.operation != "update" or timeline.cut_at is not None:
            return False
        now = self.clock.now()
        moment = self._alarm_moment(timeline, trip, now)
        if isinstance(moment, str):
            if moment.startswith("ignored"):
                trip.status = moment
                return True
            return False
        at, alarm = moment
        self._alarm_cut(endpoint, timeline, trip, at, alarm)()
        trip.status = f"fired at {at}"
        return True

    def delete_endpoint(self, params: Json) -> Json:
        endpoint = self._endpoint(params["EndpointName"])
        now = self.clock.now()
        if self.status_of(endpoint, now) in IN_PROGRESS:
            raise endpoint_in_progress(endpoint.arn)
        seconds = draw(self.rng, self.timings.delete)
        endpoint.timeline = Timeline("delete", now, single_phase(
            "deleting", now, seconds, "Deleting", "Deleting the endpoint"), "deleted")
        endpoint.status = "Deleting"
        endpoint.last_modified = now
        self.publish_state(endpoint, "Deleting", now)
        return {}

    def list_endpoints(self, params: Json) -> Json:
        now = self.clock.now()
        rows = [(e, self.status_of(e, now)) for e in self.endpoints.values()]
        if "NameContains" in params:
            rows = [r for r in rows if params["NameContains"].lower() in r[0].name.lower()]
        if "StatusEquals" in params:
            rows = [r for r in rows if r[1] == params["StatusEquals"]]
        for key, attr, op in (("CreationTimeBefore", "creation_time", "<"),
                              ("CreationTimeAfter", "creation_time", ">"),
                              ("LastModifiedTimeBefore", "last_modified", "<"),
                              ("LastModifiedTimeAfter", "last_modified", ">")):
            if key in params:
                limit = params[key]
                rows = [r for r in rows if (getattr(r[0], attr) < limit) == (op == "<")
                        and getattr(r[0], attr) != limit]
        sort_by = params.get("SortBy", "CreationTime")

        def sort_key(row: tuple[Endpoint, str]) -> tuple[Any, str]:
            endpoint, status = row
            if sort_by == "Name":
                return endpoint.name, endpoint.name
            if sort_by == "Status":
                return status, endpoint.name
            return endpoint.creation_time, endpoint.name

        rows.sort(key=sort_key, reverse=params.get("SortOrder", "Descending") == "Descending")
        items = [{"EndpointName": e.name, "EndpointArn": e.arn, "CreationTime": e.creation_time,
                  "LastModifiedTime": e.last_modified, "EndpointStatus": s} for e, s in rows]
        return self._page(items, params, "Endpoints")

    # --- tags --------------------------------------------------------------------------------

    def _tagged(self, arn: str) -> dict[str, str]:
        tags = self.tags.get(arn)
        if tags is None:
            # *Unverified* wording for tagging a resource that does not exist.
            raise self.messages.rule("resource-not-found", arn=arn)
        return tags

    def add_tags(self, params: Json) -> Json:
        arn = params["ResourceArn"]
        self._tagged(arn)
        self.tags[arn] = self._new_tags(arn, params["Tags"])
        return {"Tags": copy.deepcopy(params["Tags"])}

    def delete_tags(self, params: Json) -> Json:
        tags = self._tagged(params["ResourceArn"])
        for key in params["TagKeys"]:
            tags.pop(key, None)
        return {}

    def list_tags(self, params: Json) -> Json:
        tags = self._tagged(params["ResourceArn"])
        items = [{"Key": k, "Value": v} for k, v in tags.items()]
        return self._page(items, {**params, "MaxResults": params.get("MaxResults", 50)}, "Tags")

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
