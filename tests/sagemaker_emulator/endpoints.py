"""CreateEndpoint, DescribeEndpoint, DeleteEndpoint, ListEndpoints, and the fleet a config
deploys (RetainAllVariantProperties)."""

from __future__ import annotations

import copy
from typing import Any

from .errors import endpoint_exists, endpoint_in_progress
from .records import IN_PROGRESS, Endpoint, EndpointConfig, Json
from .store import StoreState
from .timeline import GreenVariant, Timeline, draw, single_phase


class EndpointOperations(StoreState):
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

    def delete_endpoint(self, params: Json) -> Json:
        endpoint = self._endpoint(params["EndpointName"])
        now = self.clock.now()
        if self.status_of(endpoint, now) in IN_PROGRESS:
            raise endpoint_in_progress(endpoint.arn)
        # A Failed endpoint is deleted like any other: "DeleteEndpoint is the only operation that
        # can be performed on a failed endpoint" (API reference, DescribeEndpoint's
        # EndpointStatus). Deleting, then gone after ``timings.delete`` (*unverified* duration).
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
