"""`sagemaker-rollout plan [CDK_OUT]`: a rehearsal of every rollout of a synthesized app.

For each rollout custom resource: the strategy in words, the phases of its worst case, the worst
case against the budget (the custom resource's ServiceTimeout, or a WaitCondition's Timeout when
one waits for the rollout), the rollback alarms and the instance-hours of the second fleet. The
timeline and the budget are the construct's own (`rendered_timeline.rollout_timeline`, which asks
the `DeploymentStrategy` for its `time_budget`); nothing is computed twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from ..rendered_timeline import RolloutTimeline, rollout_timeline
from ..time_budget import HANDLER_RESPONSE_MARGIN_SECONDS
from ..wait_mode import WaitMode
from .assembly import Rollout, load_templates, rollouts_of
from .errors import CliError
from .options import provisioning_allowance_option
from .plan_view import print_plans


@dataclass(frozen=True)
class RolloutPlan:
    """What `plan` says about one rollout (`as_json` is the `--json` object)."""

    rollout: Rollout
    #: None with `note` when the construct cannot plan it (no config, counts unknown).
    timeline: RolloutTimeline | None
    budget_seconds: int
    budget_source: str
    note: str = ""

    def as_json(self) -> dict[str, Any]:
        timeline = self.timeline
        return {
            "stack": self.rollout.stack,
            "path": self.rollout.path,
            "logical_id": self.rollout.logical_id,
            "endpoint_name": self.rollout.endpoint_name,
            "strategy": timeline.description if timeline else self.note,
            "kind": timeline.kind if timeline else None,
            "phases": [{"name": p.name, "seconds": p.seconds, "budgeted": p.budgeted}
                       for p in timeline.phases] if timeline else [],
            "worst_case_seconds": timeline.worst_case if timeline else None,
            "budget_seconds": self.budget_seconds,
            "budget_source": self.budget_source,
            "maximum_execution_timeout_seconds":
                timeline.maximum_execution_timeout if timeline else None,
            "rollback_allowance_seconds":
                timeline.budget.rollback_allowance if timeline else None,
            "handler_margin_seconds": HANDLER_RESPONSE_MARGIN_SECONDS,
            "alarms": list(self.rollout.alarms),
            "overlap_instance_hours":
                round(timeline.overlap_instance_hours, 3) if timeline else None,
            "note": self.note,
        }


def plan_rollout(rollout: Rollout, *, provisioning_allowance: int) -> RolloutPlan:
    if rollout.wait_condition is not None:
        budget, source = rollout.wait_condition
    else:
        budget, source = rollout.service_timeout, "ServiceTimeout"
    properties = rollout.properties
    if str(properties.get("RetainDeploymentConfig")).lower() == "true":
        return RolloutPlan(rollout, None, budget, source,
                           note="the endpoint's last deployment config (RetainDeploymentConfig): "
                                "not in the template, not planned")
    try:
        timeline = rollout_timeline(properties.get("DeploymentConfig"), rollout.variants,
                                    service_timeout=min(rollout.service_timeout, 3600),
                                    provisioning_allowance=provisioning_allowance,
                                    wait_mode=WaitMode.CUSTOM_RESOURCE
                                    if rollout.wait_condition is None
                                    else WaitMode.WAIT_CONDITION)
    except ValueError as error:
        return RolloutPlan(rollout, None, budget, source,
                           note=f"not planned: {str(error).splitlines()[-1].strip()}")
    return RolloutPlan(rollout, timeline, budget, source)


def plan_assembly(directory: Path, *, provisioning_allowance: int) -> list[RolloutPlan]:
    templates = load_templates(directory)
    rollouts = [rollout for stack in templates for rollout in rollouts_of(stack)]
    if not rollouts:
        raise CliError(f"no SageMaker rollouts (Custom::SageMakerEndpointRollout) in the "
                       f"{len(templates)} stack(s) of {directory}")
    return [plan_rollout(r, provisioning_allowance=provisioning_allowance) for r in rollouts]


@click.command()
@click.argument("cdk_out", default="cdk.out",
                type=click.Path(path_type=Path, file_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list instead of text.")
@provisioning_allowance_option
def plan(cdk_out: Path, as_json: bool, provisioning_allowance: int) -> None:
    """Show what every rollout in the cloud assembly CDK_OUT will do, and how long it can take.

    Reads a synthesized app (`cdk synth`); needs no AWS account.
    """
    plans = plan_assembly(cdk_out, provisioning_allowance=provisioning_allowance)
    if as_json:
        click.echo(json.dumps([p.as_json() for p in plans], indent=2))
        return
    print_plans(plans)
