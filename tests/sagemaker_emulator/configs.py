"""CreateEndpointConfig, DescribeEndpointConfig, DeleteEndpointConfig, ListEndpointConfigs."""

from __future__ import annotations

import copy

from .errors import config_exists
from .records import EndpointConfig, Json
from .store import StoreState
from .validation import check_endpoint_config


class ConfigOperations(StoreState):
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
