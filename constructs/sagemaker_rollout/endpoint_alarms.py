"""The rollback alarms of a `RolloutEndpoint` (mixed into it): the alarms that roll a deployment
back, each rendered once, wired so that the deployment waits for them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import Annotations, CustomResource
from aws_cdk import aws_cloudwatch as cloudwatch

from constructs import Construct

from .auto_rollback import check_can_add_alarm, render_auto_rollback
from .provider import RolloutProvider
from .rules import WarningId
from .tokens import is_unresolved

__all__ = ["EndpointRollbackAlarms"]


class EndpointRollbackAlarms:
    """``add_rollback_alarm`` and ``rollback_alarms`` of an endpoint (mixed into
    ``RolloutEndpoint``)."""

    #: The ARNs of the alarms (an alarm added twice is rendered once: `_known_alarm`).
    _alarm_arns: list[str]
    _rollback_alarms: list[cloudwatch.IAlarm]
    #: How many of the alarms came from the rollback_alarms prop (for messages).
    _given_alarms: int
    _reuse_last_deployment_config: bool
    _provider: RolloutProvider
    custom_resource: CustomResource

    def _override(self, path: str, value: Any) -> None:
        """Override a property rendered at construction."""
        raise NotImplementedError

    def _init_rollback_alarms(self, rollback_alarms: Sequence[cloudwatch.IAlarm]) -> None:
        """The alarms of the ``rollback_alarms`` prop, each once."""
        self._alarm_arns = []
        self._rollback_alarms = []
        for alarm in rollback_alarms:
            if not self._known_alarm(alarm):
                self._rollback_alarms.append(alarm)
        self._given_alarms = len(self._rollback_alarms)

    def add_rollback_alarm(self, alarm: cloudwatch.IAlarm) -> None:
        """Roll a deployment back when this alarm fires.

        The alarm may watch this endpoint's own metrics (use ``endpoint_name``): the deployment
        depends on the alarm, never the other way round. The provider may describe the alarm.

        :param alarm: the alarm (at most 10 per endpoint).
        """
        if self._known_alarm(alarm):
            return
        check_can_add_alarm(self._given_alarms, len(self._rollback_alarms) - self._given_alarms,
                            self._reuse_last_deployment_config)
        self._rollback_alarms.append(alarm)
        self._wire_alarm(alarm)
        # The properties were rendered at construction (plain values, not Lazy ones: a Lazy is
        # a callback from jsii's Node process at synth, per endpoint); CloudFormation gets the
        # alarms as an override of the same property.
        self._override(
            "DeploymentConfig.AutoRollbackConfiguration",
            render_auto_rollback(self._rollback_alarms),
        )
        # bind() judged the deployment with the alarms known at construction; it has them now.
        assert isinstance(self, Construct)  # (mixed into RolloutEndpoint)
        Annotations.of(self).acknowledge_warning(
            WarningId.BAKING_WITHOUT_ALARMS.full_id, "rollback alarms added with add_rollback_alarm"
        )

    def _known_alarm(self, alarm: cloudwatch.IAlarm) -> bool:
        """Whether the endpoint has this alarm already (the same alarm, or one of the same ARN:
        added twice, it is rendered once); if not, its ARN is remembered."""
        if any(alarm is known for known in self._rollback_alarms):
            return True
        arn = alarm.alarm_arn
        if arn in self._alarm_arns:
            return True
        self._alarm_arns.append(arn)
        return False

    def _wire_alarm(self, alarm: cloudwatch.IAlarm) -> None:
        # The deployment waits for the alarm; the alarm never depends on the deployment (it
        # uses the plain endpoint_name), so there is no cycle. An alarm of the app has a token
        # name (Alarm.alarm_name is its Ref, or an import of it in another stack): the
        # AutoRollbackConfiguration's AlarmName already orders the two, and a DependsOn on top of
        # it is redundant (cfn-lint W3005). A literal name (an imported alarm, or an IAlarm of
        # one's own) references nothing: the dependency keeps the ordering then.
        if not is_unresolved(alarm.alarm_name):
            self.custom_resource.node.add_dependency(alarm)
        self._provider.grant_describe_alarms()

    @property
    def rollback_alarms(self) -> list[cloudwatch.IAlarm]:
        """The alarms that roll a deployment back."""
        return list(self._rollback_alarms)
