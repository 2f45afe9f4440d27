"""The real provider function wired to the harness and the emulator (tests and benchmarks)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cfn_harness import Harness, preserved_logging


def provider_factory(harness: Harness, sagemaker_client: Any, clock: Any,
                     stack_id: str | None = None) -> Callable[[], Any]:
    """Builds one container of the real provider function (lambda/sagemaker_rollout_handler):
    its SageMaker client on the emulator, its Scheduler / EventBridge / Lambda clients on moto
    (with the harness's hooks and quotas), its clock the test's; ``stack_id`` as the
    construct's environment gives it."""
    from sagemaker_rollout_handler.index import build_resource
    from sagemaker_rollout_handler.wakes import WakeTarget

    target = WakeTarget(harness.schedule_group, harness.scheduler_role, harness.function_arn)

    def build() -> Any:
        with preserved_logging():
            return build_resource(sagemaker_client=sagemaker_client,
                                  scheduler_client=harness.scheduler_client,
                                  events_client=harness.events_client,
                                  lambda_client=harness.lambda_client, wake_target=target,
                                  clock=clock, stack_id=stack_id)

    return build


def props(config: str, name: str = "ep", **extra: Any) -> dict[str, Any]:
    """The custom resource's properties for endpoint ``name`` on ``config``."""
    return {"EndpointName": name, "EndpointConfigName": config, **extra}


def make_configs(sagemaker: Any, *names: str, count: int = 4) -> None:
    """What CloudFormation's AWS::SageMaker::EndpointConfig resources would have created."""
    for name in names:
        sagemaker.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "model",
                                 "InitialInstanceCount": count, "InstanceType": "ml.m5.xlarge"}])
