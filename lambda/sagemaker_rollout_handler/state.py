"""The state a request's wait carries from one invocation to the next: one typed, versioned object.

It travels in the request's EventBridge Scheduler schedule (its Target.Input, ``WAKE_KEY``),
next to the CloudFormation request it belongs to, slimmed (``carried_request``): the state holds
only what the request does not (issue 17.1: no second copy of the tags). Version 1 was the poll
state of crhelper's polling rule (``LEGACY_STATE_KEY``); ``from_legacy`` reads it, so a wait
that began before this library was deployed still finishes (``waiting.on_legacy_poll``).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

from .contract import LEGACY_STATE_KEY, STATE_VERSION, WAIT_HANDLE_PROPERTY, WAKE_KEY
from .decisions import Observation, Progress

#: Characters of the last deployment phase kept (messages only; the state stays small).
PHASE_LIMIT = 300


class StateError(ValueError):
    """A carried state this handler cannot read."""


@dataclass(frozen=True)
class WaitState:
    """Where a waiting request stands."""

    #: The endpoint's name (the physical id of Update/Delete, the new name of a Create/rename).
    target_id: str
    #: The request brings the endpoint into being (Create, or an Update that renamed it).
    creates: bool
    #: Epoch seconds after which the request answers FAILED (ServiceTimeout less the margin).
    deadline: float
    progress: Progress = field(default_factory=Progress)
    #: When the request's first invocation began.
    started: float = 0.0
    #: When DescribeEndpoint was last read: an event about an earlier change brings nothing new.
    looked_at: float = 0.0
    #: What that read showed (``fingerprint``): a change seen on a scheduled look that no event
    #: announced means events are being lost.
    last_seen: str = ""
    #: SageMaker events that woke this request.
    events_seen: int = 0
    #: Events are not arriving: the wait watches like a 30 s poller, in process.
    degraded: bool = False
    #: An invocation watches in process until then; its successor starts looking then.
    watch_until: float = 0.0
    #: The endpoint a failed rename of this resource may have left, which this request (the
    #: stack's rollback) removes (``leftovers``); "" when none. Absent from a state of before.
    stray: str = ""
    #: The WaitCondition mode (handoff.py): "" (the custom resource waits), "forward" (a
    #: deployment the handle waits for) or "rollback" (a stack rollback moving away from one).
    handoff: str = ""
    #: The handle to signal when the wait ends ("forward" only). A bearer credential: the wake's
    #: payload carries it as it carries the ResponseURL; never logged.
    handle: str = ""
    #: CloudFormation has been answered (SUCCESS once SageMaker accepted the call): the wait
    #: ends with the handle's signal ("forward") or quietly ("rollback").
    answered: bool = False
    #: The retained EndpointConfig to delete once the endpoint no longer uses it ("rollback").
    retire: str = ""
    #: When a scheduled look saw a change that no event had announced yet (None: none since the
    #: last event). The event may still be on its way; no event by the next scheduled look
    #: means events are being lost.
    unannounced_at: float | None = None
    version: int = STATE_VERSION

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        phase = self.progress.last_phase
        data["progress"]["last_phase"] = phase[:PHASE_LIMIT] if phase else None
        return data

    @staticmethod
    def from_json(data: dict[str, Any]) -> WaitState:
        version = data.get("version")
        if version != STATE_VERSION:
            raise StateError(f"wait state version {version!r}; this handler reads "
                             f"{STATE_VERSION} (and crhelper's polling state, version 1)")
        known = {f.name for f in fields(Progress)}
        progress = Progress(**{k: v for k, v in data.get("progress", {}).items() if k in known})
        names = {f.name for f in fields(WaitState)} - {"progress"}
        return WaitState(progress=progress, **{k: v for k, v in data.items() if k in names})

    @staticmethod
    def from_legacy(data: dict[str, Any], now: float) -> WaitState:
        """Version 1: crhelper's poll state (target_id, creates, deadline, progress{issued,
        created, last_phase, owned}, old_tags, rule_created). Events were never seen by it."""
        old = data.get("progress", {})
        progress = Progress(issued=bool(old.get("issued")), created=bool(old.get("created")),
                            last_phase=old.get("last_phase"), owned=bool(old.get("owned")),
                            seen_in_flight=bool(old.get("issued")), claimed=True)
        return WaitState(target_id=str(data["target_id"]), creates=bool(data["creates"]),
                         deadline=float(data["deadline"]), progress=progress,
                         started=float(data.get("rule_created") or now), looked_at=now)

    def seen(self, observed: Observation | None, now: float, *, looked: bool = True) -> WaitState:
        """The state after a look; a look that never reached DescribeEndpoint (``looked``
        False) saw nothing, and changes nothing of what the last read showed."""
        if not looked:
            return self
        return replace(self, looked_at=now, last_seen=fingerprint(observed))


def fingerprint(observed: Observation | None) -> str:
    """What a read showed, in few characters: status, configs, phases."""
    if observed is None:
        return "gone"
    phases = ",".join(f"{p.variant_name}={p.status}@{p.start_time:.0f}" for p in observed.phases)
    return (f"{observed.status}|{observed.config_name}|{observed.pending_config_name or ''}|"
            f"{phases}")[:400]


def carried_request(event: dict[str, Any], *, keep_tags: bool = False) -> dict[str, Any]:
    """The CloudFormation request as a wake carries it: no OldResourceProperties (tags are synced
    in the first invocation), no crhelper or wake bookkeeping. The Tags stay only with
    ``keep_tags``: a Failed endpoint being replaced (``recreation``) is created in a later wake."""
    drop = {"OldResourceProperties", WAKE_KEY, LEGACY_STATE_KEY, "CrHelperData", "CrHelperPoll",
            "CrHelperRule", "CrHelperPermission"}
    request = {key: value for key, value in event.items() if key not in drop}
    properties = dict(request.get("ResourceProperties", {}))
    if not keep_tags:
        properties.pop("Tags", None)  # used by CreateEndpoint in the first invocation only
    properties.pop(WAIT_HANDLE_PROPERTY, None)  # carried once, in the state (handoff.py)
    request["ResourceProperties"] = properties
    return request


def wake_payload(state: WaitState, request: dict[str, Any]) -> str:
    """The schedule's Target.Input: the state and the request it belongs to."""
    return json.dumps({WAKE_KEY: {"state": state.to_json(), "request": request}},
                      separators=(",", ":"))


def read_payload(payload: str | dict[str, Any]) -> tuple[WaitState, dict[str, Any]]:
    data = json.loads(payload) if isinstance(payload, str) else payload
    wake = data[WAKE_KEY]
    return WaitState.from_json(wake["state"]), dict(wake["request"])
