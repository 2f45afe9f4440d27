"""The CDK app the synth benchmark builds: one stack ``Bench`` of N endpoints, ours or plain L1.

Imports only ``aws_cdk`` and ``sagemaker_rollout`` (nothing of the benchmark), so that it can
also run as a CDK app script in a fresh interpreter, as ``cdk synth`` runs ``python3 app.py``::

    python benchmarks/synth_app.py KIND ENDPOINTS BUNDLING INSTANCES OUTDIR

KIND is ``ours`` or ``plain-l1``, BUNDLING ``1`` (real local bundling) or ``0`` (skipped: context
``aws:cdk:bundling-stacks: []``). Both kinds get the same variant and the same canary deployment
config.
"""

from __future__ import annotations

import sys
from typing import Any


def build(kind: str, endpoints: int, bundling: bool, instances: int, outdir: str) -> Any:
    """Build the app and synthesize it into ``outdir``; return the cloud assembly."""
    from aws_cdk import App, Duration, Stack
    from aws_cdk import aws_sagemaker as sagemaker

    context: dict[str, Any] = {} if bundling else {"aws:cdk:bundling-stacks": []}
    app = App(outdir=outdir, context=context)
    stack = Stack(app, "Bench")
    if kind == "ours":
        from sagemaker_rollout import (
            CapacitySize,
            DeploymentStrategy,
            ProductionVariant,
            RolloutEndpoint,
            TrafficRouting,
        )

        for i in range(endpoints):
            RolloutEndpoint(
                stack, f"Endpoint{i}",
                variants=[ProductionVariant.instances(
                    model_name=f"model-{i}", instance_type="ml.m5.xlarge",
                    initial_instance_count=instances)],
                deployment=DeploymentStrategy.blue_green(
                    traffic_routing=TrafficRouting.canary(
                        size=CapacitySize.count(1), bake_time=Duration.minutes(10)),
                    termination_wait=Duration.minutes(5)),
            )
    elif kind == "plain-l1":
        for i in range(endpoints):
            config = sagemaker.CfnEndpointConfig(
                stack, f"Config{i}",
                production_variants=[sagemaker.CfnEndpointConfig.ProductionVariantProperty(
                    variant_name="AllTraffic", model_name=f"model-{i}",
                    initial_instance_count=instances, instance_type="ml.m5.xlarge",
                    initial_variant_weight=1)],
            )
            sagemaker.CfnEndpoint(
                stack, f"Endpoint{i}",
                endpoint_config_name=config.attr_endpoint_config_name,
                deployment_config=sagemaker.CfnEndpoint.DeploymentConfigProperty(
                    blue_green_update_policy=sagemaker.CfnEndpoint.BlueGreenUpdatePolicyProperty(
                        traffic_routing_configuration=(
                            sagemaker.CfnEndpoint.TrafficRoutingConfigProperty(
                                type="CANARY",
                                canary_size=sagemaker.CfnEndpoint.CapacitySizeProperty(
                                    type="INSTANCE_COUNT", value=1),
                                wait_interval_in_seconds=600)),
                        termination_wait_in_seconds=300,
                        maximum_execution_timeout_in_seconds=3210)),
            )
    else:
        raise ValueError(f"unknown kind {kind!r}")
    return app.synth()


if __name__ == "__main__":
    _kind, _endpoints, _bundling, _instances, _outdir = sys.argv[1:]
    build(_kind, int(_endpoints), _bundling == "1", int(_instances), _outdir)
