"""Simulated deployments: the real handler, crhelper, the CloudFormation/EventBridge harness and
the SageMaker emulator on one virtual clock; and the baselines computed on the same timelines.

Deployments are simulated end to end, as the test suite does (tests/test_lifecycle.py): the real
handler (``sagemaker_rollout_handler.index.build_resource``) behind crhelper, driven by the
CloudFormation/EventBridge harness (tests/cfn_harness: moto for the polling rule, the HTTPS
response server, the polling rule firing every 60 s), against the SageMaker emulator
(tests/sagemaker_emulator), everything on one virtual clock. Every figure here is in virtual
(simulated) seconds.

Per scenario (strategy x {success, alarm rollback}), one endpoint is created, then updated
``deployments`` times to a new EndpointConfig. For each update:

* detection latency = virtual arrival of the response PUT at the ResponseURL minus the moment the
  emulator's timeline reached its terminal state (``Timeline.end``: InService on the new config,
  or back on the old one after the rollback);
* DescribeEndpoint calls (the emulator's call log), Lambda invocations, billed Lambda seconds
  (each invocation's virtual duration rounded up to 1 ms, at least 1 ms, as Lambda bills);
* invocations near the Lambda timeout (ending with less than ``NEAR_TIMEOUT`` seconds of Lambda
  time left; the harness refuses one that runs into the timeout).

On the same timelines (the emulator's, recorded), two baselines are computed exactly:

* ``waiter``: a fixed 30 s poller, as the boto3 waiter ``endpoint_in_service``, the SageMaker
  Python SDK and Terraform do: DescribeEndpoint right after UpdateEndpoint and every 30 s until a
  terminal status; billed the whole time if it runs in a Lambda;
* ``crhelper``: crhelper's default polling: UpdateEndpoint in the first invocation, then one
  short invocation with one DescribeEndpoint per firing of the 1-minute rule.

Scenarios run in worker processes (``run_scenarios``), each with its own harness servers and
emulator; a scenario's result depends only on the seed, not on the worker that ran it.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import logging
import math
import multiprocessing
import random
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.config import Config
from cfn_harness import (
    CloudFormationStack,
    HarnessServers,
    HarnessViolation,
    Invocation,
    Response,
    drive,
    running_servers,
)
from sagemaker_emulator import SageMakerEmulator, Timeline, Timings, VirtualClock

Json = dict[str, Any]

ENDPOINT = "bench-endpoint"
ALARM = "bench-endpoint-invocation-5xx"
#: Instances of the endpoint's one variant (ml.m5.xlarge).
INSTANCES = 4

#: SageMaker's durations, seeded-random per operation (uniform in the range). These are the
#: emulator's documented defaults (tests/sagemaker_emulator/timeline.py, *unverified* plausible
#: magnitudes): create / provision a fleet or a batch 4-8 min, traffic shift 10-30 s, terminate
#: the old fleet or batch 1-2 min, roll back 1-3 min.
TIMINGS = Timings(
    create=(240.0, 480.0),
    provision=(240.0, 480.0),
    traffic_shift=(10.0, 30.0),
    terminate=(60.0, 120.0),
    rollback=(60.0, 180.0),
)

#: The baselines' polling periods (seconds).
WAITER_PERIOD = 30.0
CRHELPER_PERIOD = 60.0


@dataclass(frozen=True)
class Strategy:
    """One deployment strategy, as ``RolloutEndpoint`` renders it (API shapes), with the bake an
    alarm trips in for its rollback scenario."""

    name: str
    summary: str
    deployment: Json  # DeploymentConfig without AutoRollbackConfiguration
    alarm_phase: str  # sagemaker_emulator.ALARM_PHASES
    bake_seconds: int
    bakes: int  # how many phases of that kind (linear steps, rolling batches)

    def deployment_config(self) -> Json:
        return {**self.deployment,
                "AutoRollbackConfiguration": {"Alarms": [{"AlarmName": ALARM}]}}


def _blue_green(routing: Json, termination_wait: int) -> Json:
    # MaximumExecutionTimeoutInSeconds: what the construct sends by default, the largest that fits
    # (3600 s ServiceTimeout - 90 s handler margin - 300 s rollback allowance).
    return {"BlueGreenUpdatePolicy": {"TrafficRoutingConfiguration": routing,
                                      "TerminationWaitInSeconds": termination_wait,
                                      "MaximumExecutionTimeoutInSeconds": 3210}}


STRATEGIES: tuple[Strategy, ...] = (
    Strategy(
        "all-at-once", "blue/green ALL_AT_ONCE, final bake (termination wait) 5 min",
        _blue_green({"Type": "ALL_AT_ONCE", "WaitIntervalInSeconds": 0}, 300),
        "final-bake", 300, 1,
    ),
    Strategy(
        "canary", "blue/green CANARY 1 of 4 instances, bake 10 min, termination wait 5 min",
        _blue_green({"Type": "CANARY", "CanarySize": {"Type": "INSTANCE_COUNT", "Value": 1},
                     "WaitIntervalInSeconds": 600}, 300),
        "canary-bake", 600, 1,
    ),
    Strategy(
        "linear", "blue/green LINEAR 25% steps (4 steps) x 5 min bake, termination wait 5 min",
        _blue_green({"Type": "LINEAR",
                     "LinearStepSize": {"Type": "CAPACITY_PERCENT", "Value": 25},
                     "WaitIntervalInSeconds": 300}, 300),
        "linear-bake", 300, 4,
    ),
    Strategy(
        # Two batches: every batch provisions (4-8 min) and bakes, and the construct's time
        # budget (README, "Rolling") leaves room for two 5-minute-bake batches in one hour.
        "rolling", "rolling, batches of 2 of 4 instances (2 batches) x 5 min bake",
        {"RollingUpdatePolicy": {"MaximumBatchSize": {"Type": "INSTANCE_COUNT", "Value": 2},
                                 "WaitIntervalInSeconds": 300,
                                 "MaximumExecutionTimeoutInSeconds": 2610}},
        "rolling-bake", 300, 2,
    ),
)
OUTCOMES = ("success", "alarm")
#: How SageMaker's events and reads behave (emulator faults): as documented, events lost, the
#: PendingDeploymentSummary stale or absent.
CONDITIONS = ("delivered", "events-lost", "summary-stale", "summary-absent")


# --- measurements ------------------------------------------------------------------------------


def billed_seconds(invocations: Iterable[Invocation]) -> float:
    """Lambda's bill: each invocation's duration rounded up to the millisecond, at least 1 ms."""
    total_ms = 0
    for invocation in invocations:
        ms = math.ceil(round(invocation.duration * 1000, 6))
        total_ms += max(1, ms)
    return total_ms / 1000


#: An invocation that ends with less Lambda time left than this is "near the timeout".
NEAR_TIMEOUT = 30.0


def near_timeout(invocations: Sequence[Invocation]) -> int:
    """Invocations that ended with less than NEAR_TIMEOUT seconds of Lambda time left."""
    return sum(1 for invocation in invocations if invocation.remaining_ms < NEAR_TIMEOUT * 1000)


@dataclass(frozen=True)
class Baseline:
    """What a baseline poller would have done on one timeline."""

    latency: float
    describe_calls: int
    invocations: int | None  # None: one long-running process (no Lambda polling)
    billed_seconds: float


def waiter_baseline(accepted: float, end: float, period: float = WAITER_PERIOD) -> Baseline:
    """A fixed-period poller: DescribeEndpoint at ``accepted`` (right after UpdateEndpoint, as
    botocore's waiter does) and every ``period`` s until it sees the terminal state (at or after
    ``end``); billed all along when it runs in a Lambda."""
    polls = max(0, math.ceil((end - accepted) / period - 1e-9))
    detected = accepted + polls * period
    return Baseline(detected - end, polls + 1, None, math.ceil((detected - accepted) * 1000) / 1000)


def crhelper_baseline(sent: float, end: float, period: float = CRHELPER_PERIOD) -> Baseline:
    """crhelper's default: the request's invocation calls UpdateEndpoint and returns; its rule
    fires every ``period`` s from then; each firing is a short invocation with one
    DescribeEndpoint. Billed 1 ms per invocation, the same virtual-time rule as ours."""
    polls = max(1, math.ceil((end - sent) / period - 1e-9))
    detected = sent + polls * period
    return Baseline(detected - end, polls, polls + 1, (polls + 1) / 1000)


@dataclass(frozen=True)
class Deployment:
    """One request that waited for SageMaker (an update, or the initial create)."""

    scenario: str
    request: str  # Create | Update
    status: str  # the answer to CloudFormation
    outcome: str  # the emulator's: created | deployed | rolled-back | ...
    duration: float  # SageMaker's: accepted -> terminal
    latency: float
    describe_calls: int
    invocations: int
    billed_seconds: float
    near_timeout: int
    waiter: Baseline
    crhelper: Baseline


@dataclass(frozen=True)
class Immediate:
    """A request that needs no waiting: it must be answered in the first invocation."""

    kind: str
    status: str
    invocations: int
    polled: bool
    elapsed: float
    describe_calls: int


@dataclass
class ScenarioRun:
    strategy: str
    outcome: str
    seed: int
    condition: str = "delivered"
    deployments: list[Deployment] = field(default_factory=list)
    creates: list[Deployment] = field(default_factory=list)
    immediates: list[Immediate] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    real_seconds: float = 0.0

    @property
    def name(self) -> str:
        suffix = "" if self.condition == "delivered" else f" [{self.condition}]"
        return f"{self.strategy}/{self.outcome}{suffix}"


# --- simulation --------------------------------------------------------------------------------


def _props(config: str, strategy: Strategy, **extra: Any) -> Json:
    return {"EndpointName": ENDPOINT, "EndpointConfigName": config,
            "DeploymentConfig": strategy.deployment_config(), **extra}


class Simulator:
    """The harness servers, one emulator and one boto3 client, reused across scenarios."""

    def __init__(self, servers: HarnessServers, emulator: SageMakerEmulator) -> None:
        self.servers = servers
        self.emulator = emulator
        self.sagemaker: Any = boto3.client(
            "sagemaker", endpoint_url=emulator.url, region_name="us-east-1",
            aws_access_key_id="x", aws_secret_access_key="x",
            config=Config(retries={"mode": "standard", "max_attempts": 8}))

    def run(self, strategy: Strategy, outcome: str, deployments: int, seed: int,
            condition: str = "delivered") -> ScenarioRun:
        real_start = time.perf_counter()
        rng = random.Random(f"{seed}/{strategy.name}/{outcome}")
        emulator_seed = rng.getrandbits(32)
        result = ScenarioRun(strategy.name, outcome, emulator_seed, condition)
        clock = VirtualClock()
        self.emulator.reset(clock, timings=TIMINGS, seed=emulator_seed)
        apply_condition(self.emulator, condition)
        harness = self.servers.fresh(clock)
        configs = [f"{ENDPOINT}-config-{i}" for i in range(deployments + 1)]
        for name in configs:
            self.sagemaker.create_endpoint_config(
                EndpointConfigName=name,
                ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "model",
                                     "InitialInstanceCount": INSTANCES,
                                     "InstanceType": "ml.m5.xlarge"}])
        from rollout_support import provider_factory

        try:
            with harness.virtual_sleeps():
                harness.cloud.connect(self.emulator)
                factory = provider_factory(harness, self.sagemaker, clock)
                stack = harness.stack(factory(), factory=factory)
                self._deployments(stack, strategy, outcome, configs, rng, result)
                self._immediates(stack, strategy, result)
                harness.logs.clear()
            harness.finish()
        except HarnessViolation as violation:
            result.violations.append(str(violation))
        if self.emulator.invariant_violations():
            result.unexpected.append(f"emulator invariants: {self.emulator.invariant_violations()}")
        if self.emulator.internal_errors:
            result.unexpected.append(f"emulator errors: {self.emulator.internal_errors}")
        result.real_seconds = time.perf_counter() - real_start
        return result

    def _deployments(self, stack: CloudFormationStack, strategy: Strategy, outcome: str,
                     configs: list[str], rng: random.Random, result: ScenarioRun) -> None:
        response = self._measured(stack, lambda: stack.create(_props(configs[0], strategy)))
        result.creates.append(self._deployment(result, response[0], response[1], "created"))
        for config in configs[1:]:
            expected = "deployed"
            if outcome == "alarm":
                expected = "rolled-back"
                self.emulator.faults.trip_alarm(
                    ENDPOINT, strategy.alarm_phase,
                    after=rng.uniform(1.0, strategy.bake_seconds - 1.0),
                    index=rng.randrange(strategy.bakes) if strategy.bakes > 1 else None)
            update, calls = self._measured(
                stack, functools.partial(stack.update, _props(config, strategy)))
            result.deployments.append(self._deployment(result, update, calls, expected))
            if not update.succeeded:
                # CloudFormation rolls the stack back: the previous properties again, while
                # SageMaker already serves them.
                result.immediates.append(self._immediate(
                    stack, "rollback to the config already serving", stack.rollback))
            if stack.logs is not None:
                stack.logs.clear()  # the records are not needed; keep memory flat

    def _immediates(self, stack: CloudFormationStack, strategy: Strategy,
                    result: ScenarioRun) -> None:
        current = dict(stack.properties or {})
        result.immediates.append(self._immediate(
            stack, "update that changes nothing SageMaker serves (tags only)",
            lambda: stack.update({**current, "Tags": [{"Key": "benchmark", "Value": "tags"}]})))
        self.emulator.faults.delete_endpoint_out_of_band(ENDPOINT)
        result.immediates.append(self._immediate(
            stack, "delete of an endpoint that is gone", stack.delete))

    def _measured(self, stack: CloudFormationStack,
                  send: Callable[[], Response]) -> tuple[Response, int]:
        before = len(self.emulator.calls)
        response = send()
        calls = sum(1 for call in self.emulator.calls[before:]
                    if call.operation == "DescribeEndpoint")
        return response, calls

    def _immediate(self, stack: CloudFormationStack, kind: str,
                   send: Callable[[], Response]) -> Immediate:
        response, calls = self._measured(stack, send)
        return Immediate(kind, response.status, len(response.invocations), response.polled,
                         response.elapsed, calls)

    def _deployment(self, result: ScenarioRun, response: Response, describe_calls: int,
                    expected: str) -> Deployment:
        finished = self.emulator.finished_operations(ENDPOINT)
        timeline: Timeline | None = finished[-1] if finished else None
        if timeline is None or timeline.started < response.sent_at - 1e-9:
            raise RuntimeError(f"{result.name}: no finished SageMaker operation for {response}")
        if timeline.outcome != expected:
            result.unexpected.append(f"{response.request_type}: SageMaker {timeline.outcome}, "
                                     f"expected {expected} ({timeline.failure_reason})")
        want = "SUCCESS" if expected in ("created", "deployed") else "FAILED"
        if response.status != want:
            result.unexpected.append(f"{response}: expected {want}")
        return Deployment(
            scenario=result.name,
            request=response.request_type,
            status=response.status,
            outcome=timeline.outcome,
            duration=timeline.end - timeline.started,
            latency=response.arrived_at - timeline.end,
            describe_calls=describe_calls,
            invocations=len(response.invocations),
            billed_seconds=billed_seconds(response.invocations),
            near_timeout=near_timeout(response.invocations),
            waiter=waiter_baseline(timeline.started, timeline.end),
            crhelper=crhelper_baseline(response.sent_at, timeline.end),
        )


def apply_condition(emulator: SageMakerEmulator, condition: str) -> None:
    if condition == "events-lost":
        emulator.faults.events(lose=1.0)
    elif condition == "summary-stale":
        emulator.faults.stale_summary()
    elif condition == "summary-absent":
        emulator.faults.absent_summary()


Scenario = tuple[str, str, str]  # (strategy name, outcome, condition)

_worker: Simulator | None = None


def _start_worker() -> None:
    """Process-pool initializer: this process's harness servers and emulator, stopped at exit."""
    global _worker
    # crhelper configures the root logger on its first invocation (basicConfig to stderr when
    # the root has no handler): give it a silent one. The harness captures the records anyway.
    logging.getLogger().addHandler(logging.NullHandler())
    stack = contextlib.ExitStack()
    servers = stack.enter_context(running_servers())
    emulator = stack.enter_context(SageMakerEmulator(VirtualClock()))
    atexit.register(stack.close)
    _worker = Simulator(servers, emulator)


def _run_in_worker(scenario: Scenario, deployments: int, seed: int) -> ScenarioRun:
    if _worker is None:
        _start_worker()
    assert _worker is not None
    strategy = next(s for s in STRATEGIES if s.name == scenario[0])
    if scenario[2] != "delivered":
        deployments = max(1, deployments // 3)  # fewer: these conditions only bound the worst
    return _worker.run(strategy, scenario[1], deployments, seed, scenario[2])


def scenarios(quick: bool = False) -> list[Scenario]:
    """Every strategy and outcome with events delivered, and under each other condition; a
    quick run (the smoke test) only the first strategy's success under the other conditions."""
    delivered = [(s.name, o, "delivered") for s in STRATEGIES for o in OUTCOMES]
    others = [(s.name, o, c) for c in CONDITIONS[1:] for s in STRATEGIES for o in OUTCOMES]
    if quick:
        others = [(STRATEGIES[0].name, OUTCOMES[0], c) for c in CONDITIONS[1:]]
    return delivered + others


def run_scenarios(deployments: int, seed: int, workers: int,
                  log: Callable[[str], None], quick: bool = False) -> list[ScenarioRun]:
    """Every scenario, on ``workers`` processes (1: in this process); results in scenario order."""
    todo = scenarios(quick)

    def report(run: ScenarioRun) -> None:
        log(f"  {run.name:<22} {len(run.deployments)} deployments in "
            f"{run.real_seconds:.1f} s real time"
            + (f"; {len(run.violations)} harness violation(s)" if run.violations else ""))

    if workers <= 1:
        runs = []
        for scenario in todo:
            runs.append(_run_in_worker(scenario, deployments, seed))
            report(runs[-1])
        return runs
    done: dict[Scenario, ScenarioRun] = {}
    # spawn: a fresh interpreter per worker (no inherited server threads or locks).
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context,
                             initializer=_start_worker) as pool:
        # Longest first (successful deployments wait longest), for an even load.
        ordered = sorted(todo, key=lambda s: (s[2] != "delivered", s[1] != "success"))
        futures = {pool.submit(_run_in_worker, s, deployments, seed): s for s in ordered}
        for future in as_completed(futures):
            done[futures[future]] = future.result()
            report(done[futures[future]])
    return [done[s] for s in todo]


# --- statistics --------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100): the smallest value with at least p% at or below."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def distribution(values: Sequence[float]) -> Json:
    if not values:
        return {"p50": None, "p95": None, "max": None, "mean": None}
    return {"p50": round(percentile(values, 50), 3), "p95": round(percentile(values, 95), 3),
            "max": round(max(values), 3), "mean": round(sum(values) / len(values), 3)}


def mean(values: Iterable[float]) -> float | None:
    items = list(values)
    return round(sum(items) / len(items), 3) if items else None


def ratio(ours: float | None, theirs: float | None) -> float | None:
    if ours is None or theirs is None or theirs == 0:
        return None
    return round(ours / theirs, 3)


def aggregate(label: str, deployments: Sequence[Deployment]) -> Json:
    """Per-deployment figures of ours and of both baselines, and the ours/baseline ratios."""
    ours: Json = {
        "latency": distribution([d.latency for d in deployments]),
        "describe_calls": mean(d.describe_calls for d in deployments),
        "invocations": mean(d.invocations for d in deployments),
        "billed_seconds": mean(d.billed_seconds for d in deployments),
        "near_timeout": sum(d.near_timeout for d in deployments),
    }
    waiter: Json = {
        "latency": distribution([d.waiter.latency for d in deployments]),
        "describe_calls": mean(d.waiter.describe_calls for d in deployments),
        "billed_seconds": mean(d.waiter.billed_seconds for d in deployments),
    }
    crhelper: Json = {
        "latency": distribution([d.crhelper.latency for d in deployments]),
        "describe_calls": mean(d.crhelper.describe_calls for d in deployments),
        "invocations": mean(d.crhelper.invocations or 0 for d in deployments),
        "billed_seconds": mean(d.crhelper.billed_seconds for d in deployments),
    }

    def ratios(base: Json) -> Json:
        return {
            "latency_p50": ratio(ours["latency"]["p50"], base["latency"]["p50"]),
            "latency_p95": ratio(ours["latency"]["p95"], base["latency"]["p95"]),
            "latency_max": ratio(ours["latency"]["max"], base["latency"]["max"]),
            "describe_calls": ratio(ours["describe_calls"], base["describe_calls"]),
            "billed_seconds": ratio(ours["billed_seconds"], base["billed_seconds"]),
        }

    return {
        "scenario": label,
        "deployments": len(deployments),
        "sagemaker_duration": distribution([d.duration for d in deployments]),
        "statuses": sorted({f"{d.status}/{d.outcome}" for d in deployments}),
        "ours": ours,
        "waiter_30s": waiter,
        "crhelper_60s": crhelper,
        "ratio_vs_waiter_30s": ratios(waiter),
        "ratio_vs_crhelper_60s": ratios(crhelper),
    }


def summarise(runs: Sequence[ScenarioRun]) -> Json:
    scenarios = [aggregate(run.name, run.deployments) for run in runs]

    def per_strategy(condition: str) -> list[Json]:
        return [aggregate(strategy.name, [d for run in runs if run.strategy == strategy.name
                                          and run.condition == condition
                                          for d in run.deployments])
                for strategy in STRATEGIES]

    strategies = per_strategy("delivered")
    conditions = {condition: per_strategy(condition) for condition in CONDITIONS}
    creates = aggregate("create", [d for run in runs if run.condition == "delivered"
                                   for d in run.creates])
    immediates: dict[str, Json] = {}
    for run in runs:
        for item in run.immediates:
            entry = immediates.setdefault(item.kind, {
                "requests": 0, "answered_in_first_invocation": 0, "max_invocations": 0,
                "max_elapsed": 0.0, "max_describe_calls": 0, "statuses": []})
            entry["requests"] += 1
            entry["answered_in_first_invocation"] += int(item.invocations == 1
                                                         and not item.polled)
            entry["max_invocations"] = max(entry["max_invocations"], item.invocations)
            entry["max_elapsed"] = round(max(entry["max_elapsed"], item.elapsed), 3)
            entry["max_describe_calls"] = max(entry["max_describe_calls"], item.describe_calls)
            if item.status not in entry["statuses"]:
                entry["statuses"].append(item.status)
    return {
        "scenarios": scenarios,
        "strategies": strategies,
        "conditions": conditions,
        "create": creates,
        "no_wait_requests": immediates,
        "unexpected": {run.name: run.unexpected for run in runs if run.unexpected},
        "harness_violations": {run.name: run.violations for run in runs if run.violations},
        "invocations_near_timeout": sum(d.near_timeout for run in runs
                                        for d in [*run.deployments, *run.creates])
        + sum(1 for run in runs for v in run.violations if "Lambda timeout" in v),
        "real_seconds": round(sum(run.real_seconds for run in runs), 1),
    }




# --- many rollouts at once ------------------------------------------------------------------


def fleet(count: int, seed: int) -> Json:
    """One stack update of ``count`` endpoints at once (all at once, each its own invocations),
    with 150 rules of other workloads on the default bus: every answer, the total API calls and
    Lambda seconds (virtual)."""
    from rollout_support import provider_factory

    real_start = time.perf_counter()
    with running_servers() as servers, SageMakerEmulator(VirtualClock()) as emulator:
        clock = VirtualClock()
        emulator.reset(clock, timings=Timings(create=60.0, provision=(240.0, 480.0),
                                              traffic_shift=(10.0, 30.0),
                                              terminate=(60.0, 120.0)), seed=seed)
        sagemaker: Any = boto3.client(
            "sagemaker", endpoint_url=emulator.url, region_name="us-east-1",
            aws_access_key_id="x", aws_secret_access_key="x",
            config=Config(retries={"mode": "standard", "max_attempts": 8}))
        harness = servers.fresh(clock)
        harness.aws.add_filler_rules(150)
        harness.cloud.connect(emulator)
        factory = provider_factory(harness, sagemaker, clock)
        for name in ("fleet-config-a", "fleet-config-b"):
            sagemaker.create_endpoint_config(
                EndpointConfigName=name,
                ProductionVariants=[{"VariantName": "AllTraffic", "ModelName": "model",
                                     "InitialInstanceCount": INSTANCES,
                                     "InstanceType": "ml.m5.xlarge"}])
        stacks: list[CloudFormationStack] = []
        arn = None
        for index in range(count):
            name = f"fleet-{index:03d}"
            sagemaker.create_endpoint(EndpointName=name, EndpointConfigName="fleet-config-a")
            stack = harness.stack(factory(), factory=factory, logical_id=f"Endpoint{index:03d}",
                                  stack_arn=arn)
            arn = stack.stack_id
            stack.physical_id = name
            stack.properties = {"EndpointName": name, "EndpointConfigName": "fleet-config-a"}
            stacks.append(stack)
        clock.advance(61)
        calls_before = len(emulator.calls)
        deployment = STRATEGIES[0].deployment_config()
        with harness.virtual_sleeps():
            answers = drive([s.prepare("Update", {**(s.properties or {}),
                                                  "EndpointConfigName": "fleet-config-b",
                                                  "DeploymentConfig": deployment},
                                       old_properties=s.properties) for s in stacks])
            harness.logs.clear()
        operations: dict[str, int] = {}
        for call in emulator.calls[calls_before:]:
            operations[call.operation] = operations.get(call.operation, 0) + 1
        for api in harness.cloud.api_calls:
            operations[api.operation] = operations.get(api.operation, 0) + 1
        invocations = harness.cloud.invocations
        ends = {n: emulator.finished_operations(n)[-1].end
                for n in (str(a.physical_resource_id) for a in answers)}
        latencies = [a.arrived_at - ends[str(a.physical_resource_id)] for a in answers]
        return {
            "endpoints": count, "rules_already_on_the_bus": 150,
            "succeeded": sum(1 for a in answers if a.succeeded),
            "latency": distribution(latencies),
            "api_calls": dict(sorted(operations.items())),
            "api_calls_total": sum(operations.values()),
            "invocations": len(invocations),
            "lambda_seconds": billed_seconds(invocations),
            "max_invocation_seconds": round(max(i.duration for i in invocations), 3),
            "near_timeout": near_timeout(invocations),
            "rules_on_the_bus_after": harness.aws.rule_count(),
            "policy_bytes_after": harness.aws.policy_size(harness.function_name),
            "real_seconds": round(time.perf_counter() - real_start, 1),
        }
