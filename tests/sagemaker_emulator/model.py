"""Endpoints, endpoint configs and tags, and the API operations on them.

All state lives in one :class:`Store` guarded by one lock. Every request first brings the store
up to ``clock.now()`` (``StoreState.refresh`` applies the outcome of each timeline whose end has
passed), then runs. Between requests nothing moves: state is a function of virtual time.

Modules: ``records`` (what is stored), ``store`` (state, dispatch, events, refresh),
``configs``, ``endpoints``, ``deployments`` (UpdateEndpoint and its faults), ``tags``.
"""

from __future__ import annotations

from collections.abc import Callable

from .configs import ConfigOperations
from .deployments import DeploymentOperations
from .records import Json
from .tags import TagOperations


class Store(DeploymentOperations, ConfigOperations, TagOperations):
    """Every operation the emulator serves, on one :class:`~.store.StoreState`."""

    def operation_table(self) -> dict[str, Callable[[Json], Json]]:
        return {
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
