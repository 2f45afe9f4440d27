"""UpdateEndpoint: the deployment's timeline, and the faults armed for it folded in (alarms,
a failed green fleet, MaximumExecutionTimeoutInSeconds), earliest first."""

from __future__ import annotations

from collections.abc import Callable

from .endpoints import EndpointOperations
from .errors import config_not_found, endpoint_failed, endpoint_in_progress
from .faults import AlarmTrip, ProvisioningFailure
from .records import IN_PROGRESS, Endpoint, Json
from .timeline import Timeline, rollback_phases, update_phases
from .validation import check_deployment, effective_deployment_config


class DeploymentOperations(EndpointOperations):
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
