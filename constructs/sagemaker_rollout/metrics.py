"""CloudWatch metrics of a SageMaker endpoint, per variant and for the whole endpoint.

SageMaker publishes invocation metrics in the ``AWS/SageMaker`` namespace with the dimensions
``EndpointName`` and ``VariantName`` (there is no endpoint-only dimension), and instance metrics
(CPU, memory, disk) in ``/aws/sagemaker/Endpoints`` with the same dimensions. A metric "for the
whole endpoint" is therefore the variant's metric when there is one variant, and a metric-math
expression over the production variants otherwise.

The metrics are built from the endpoint's plain ``endpoint_name``, never from an attribute of the
custom resource: an alarm on them does not depend on the deployment, so it can be one of the
deployment's own rollback alarms without a dependency cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypedDict, Unpack

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch

#: Namespace of the invocation metrics (Invocations, Invocation5XXErrors, ModelLatency...).
INVOCATION_NAMESPACE = "AWS/SageMaker"
#: Namespace of the instance metrics (CPUUtilization, MemoryUtilization, DiskUtilization...).
INSTANCE_NAMESPACE = "/aws/sagemaker/Endpoints"

#: The period of every metric unless given: the period of aws-cdk's own metric helpers.
DEFAULT_PERIOD = Duration.minutes(5)

#: What a metric of the whole endpoint is: a plain metric (one variant) or metric math.
EndpointMetric = cloudwatch.Metric | cloudwatch.MathExpression

_SUMMED_STATISTICS = {"sum", "samplecount", "n"}


class MetricOptions(TypedDict, total=False):
    """Options of a metric, as aws-cdk's ``metric_*`` methods take them.

    ``period`` Default: - 5 minutes. ``statistic`` Default: - the metric's usual statistic
    (Sum for counts, Average for latencies and utilizations). ``label``, ``color``, ``unit``,
    ``account``, ``region`` Default: - CloudWatch's (the stack's account and region).
    """

    period: Duration
    statistic: str
    label: str
    color: str
    unit: cloudwatch.Unit
    account: str
    region: str


def variant_metric(
    *,
    namespace: str,
    metric_name: str,
    endpoint_name: str,
    variant_name: str,
    statistic: str,
    options: MetricOptions,
) -> cloudwatch.Metric:
    """The metric of one variant of an endpoint."""
    return cloudwatch.Metric(
        namespace=namespace,
        metric_name=metric_name,
        dimensions_map={"EndpointName": endpoint_name, "VariantName": variant_name},
        statistic=options.get("statistic", statistic),
        period=options.get("period", DEFAULT_PERIOD),
        label=options.get("label"),
        color=options.get("color"),
        unit=options.get("unit"),
        account=options.get("account"),
        region=options.get("region"),
    )


def whole_endpoint_metric(
    *,
    namespace: str,
    metric_name: str,
    endpoint_name: str,
    variant_names: Sequence[str],
    statistic: str,
    options: MetricOptions,
) -> EndpointMetric:
    """The metric of the whole endpoint, over its production variants.

    One variant: that variant's metric. Several: metric math, the sum of the variants' values for
    the statistics Sum and SampleCount (counts), else the maximum (the worst variant: an
    average or percentile of latency cannot be recombined from per-variant values).
    """
    metrics = [
        variant_metric(
            namespace=namespace,
            metric_name=metric_name,
            endpoint_name=endpoint_name,
            variant_name=name,
            statistic=statistic,
            options={**options, "label": name} if len(variant_names) > 1 else options,
        )
        for name in variant_names
    ]
    if len(metrics) == 1:
        return metrics[0]
    ids = [f"v{index}" for index in range(len(metrics))]
    chosen = options.get("statistic", statistic)
    summed = chosen.lower() in _SUMMED_STATISTICS
    expression = " + ".join(ids) if summed else f"MAX([{', '.join(ids)}])"
    return cloudwatch.MathExpression(
        expression=expression,
        using_metrics=dict(zip(ids, metrics, strict=True)),
        period=options.get("period", DEFAULT_PERIOD),
        label=options.get(
            "label",
            f"{metric_name} ({'sum' if summed else 'maximum'} over variants) of {endpoint_name}",
        ),
        color=options.get("color"),
    )


class EndpointMetrics:
    """The ``metric_*`` methods of an endpoint (mixed into ``RolloutEndpoint``).

    Each takes ``variant_name``: the metric of that variant (a production or shadow variant), or,
    when omitted, of the whole endpoint (see ``whole_endpoint_metric``).
    """

    #: The endpoint's name, known at synth time.
    endpoint_name: str

    def _metric_variant_names(self) -> Sequence[str]:
        """The production variants, for the whole-endpoint metrics."""
        raise NotImplementedError

    def _check_metric_variant(self, variant_name: str) -> None:
        """Raise ValueError when ``variant_name`` is not a variant of this endpoint."""
        raise NotImplementedError

    def metric(
        self,
        metric_name: str,
        *,
        variant_name: str | None = None,
        namespace: str = INVOCATION_NAMESPACE,
        default_statistic: str = "Average",
        **options: Unpack[MetricOptions],
    ) -> EndpointMetric:
        """Any metric of this endpoint.

        :param metric_name: the CloudWatch metric name, e.g. ``Invocations``.
        :param variant_name: the variant. Default: - the whole endpoint
        :param namespace: ``AWS/SageMaker`` (invocations) or ``/aws/sagemaker/Endpoints``
            (instances). Default: - ``AWS/SageMaker``
        :param default_statistic: the statistic unless ``statistic`` is given.
            Default: - Average
        """
        if variant_name is not None:
            self._check_metric_variant(variant_name)
            return variant_metric(
                namespace=namespace,
                metric_name=metric_name,
                endpoint_name=self.endpoint_name,
                variant_name=variant_name,
                statistic=default_statistic,
                options=options,
            )
        return whole_endpoint_metric(
            namespace=namespace,
            metric_name=metric_name,
            endpoint_name=self.endpoint_name,
            variant_names=self._metric_variant_names(),
            statistic=default_statistic,
            options=options,
        )

    def metric_invocations(
        self, *, variant_name: str | None = None, **options: Unpack[MetricOptions]
    ) -> EndpointMetric:
        """The number of requests sent to the model (``Invocations``). Default statistic: Sum.

        :param variant_name: the variant. Default: - the whole endpoint
        """
        return self.metric(
            "Invocations", variant_name=variant_name, default_statistic="Sum", **options
        )

    def metric_invocation_4xx_errors(
        self, *, variant_name: str | None = None, **options: Unpack[MetricOptions]
    ) -> EndpointMetric:
        """Requests the model answered with a 4XX code (``Invocation4XXErrors``). Default
        statistic: Sum.

        :param variant_name: the variant. Default: - the whole endpoint
        """
        return self.metric(
            "Invocation4XXErrors", variant_name=variant_name, default_statistic="Sum", **options
        )

    def metric_invocation_5xx_errors(
        self, *, variant_name: str | None = None, **options: Unpack[MetricOptions]
    ) -> EndpointMetric:
        """Requests the model answered with a 5XX code (``Invocation5XXErrors``): the usual
        rollback alarm. Default statistic: Sum.

        :param variant_name: the variant. Default: - the whole endpoint
        """
        return self.metric(
            "Invocation5XXErrors", variant_name=variant_name, default_statistic="Sum", **options
        )

    def metric_model_latency(
        self, *, variant_name: str | None = None, **options: Unpack[MetricOptions]
    ) -> EndpointMetric:
        """The time the model took to answer, in microseconds (``ModelLatency``). Default
        statistic: Average.

        :param variant_name: the variant. Default: - the whole endpoint (the slowest variant)
        """
        return self.metric("ModelLatency", variant_name=variant_name, **options)

    def metric_overhead_latency(
        self, *, variant_name: str | None = None, **options: Unpack[MetricOptions]
    ) -> EndpointMetric:
        """SageMaker's own overhead per request, in microseconds (``OverheadLatency``). Default
        statistic: Average.

        :param variant_name: the variant. Default: - the whole endpoint (the slowest variant)
        """
        return self.metric("OverheadLatency", variant_name=variant_name, **options)

    def metric_invocations_per_instance(
        self, *, variant_name: str | None = None, **options: Unpack[MetricOptions]
    ) -> EndpointMetric:
        """Invocations divided by the instance count (``InvocationsPerInstance``), what the
        autoscaling helper tracks. Default statistic: Sum.

        :param variant_name: the variant. Default: - the whole endpoint
        """
        return self.metric(
            "InvocationsPerInstance", variant_name=variant_name, default_statistic="Sum", **options
        )

    def metric_cpu_utilization(
        self, *, variant_name: str | None = None, **options: Unpack[MetricOptions]
    ) -> EndpointMetric:
        """CPU use of the instances, in percent of one core times the cores
        (``/aws/sagemaker/Endpoints`` ``CPUUtilization``). Default statistic: Average.

        :param variant_name: the variant. Default: - the whole endpoint (the busiest variant)
        """
        return self.metric(
            "CPUUtilization", variant_name=variant_name, namespace=INSTANCE_NAMESPACE, **options
        )

    def metric_memory_utilization(
        self, *, variant_name: str | None = None, **options: Unpack[MetricOptions]
    ) -> EndpointMetric:
        """Memory use of the instances, in percent (``/aws/sagemaker/Endpoints``
        ``MemoryUtilization``). Default statistic: Average.

        :param variant_name: the variant. Default: - the whole endpoint (the busiest variant)
        """
        return self.metric(
            "MemoryUtilization", variant_name=variant_name, namespace=INSTANCE_NAMESPACE, **options
        )
