"""sagemaker-rollout: safe, waited-for SageMaker endpoint rollouts for the AWS CDK.

``RolloutEndpoint`` creates a fresh ``AWS::SageMaker::EndpointConfig`` on every change and a
custom resource that deploys it with SageMaker UpdateEndpoint (blue/green or rolling, with
auto-rollback alarms) and waits for the outcome: in the custom resource itself (up to an hour), or
through a WaitCondition (up to 12 hours, ``WaitMode``).
"""

from .autoscaling import InstanceCountScaling
from .capacity import CapacitySize
from .deployment import DeploymentStrategy, TrafficRouting, VariantFacts
from .endpoint import RESOURCE_TYPE, SERVICE_TIMEOUT, RolloutEndpoint
from .endpoint_config import AsyncInference, DataCapture
from .metrics import EndpointMetric, MetricOptions
from .provider import RolloutProvider
from .variants import IModelLike, ProductionVariant, VariantProperty
from .wait_mode import WaitMode

__all__ = [
    "RESOURCE_TYPE",
    "SERVICE_TIMEOUT",
    "AsyncInference",
    "CapacitySize",
    "DataCapture",
    "DeploymentStrategy",
    "EndpointMetric",
    "IModelLike",
    "InstanceCountScaling",
    "MetricOptions",
    "ProductionVariant",
    "RolloutEndpoint",
    "RolloutProvider",
    "TrafficRouting",
    "VariantFacts",
    "VariantProperty",
    "WaitMode",
]
