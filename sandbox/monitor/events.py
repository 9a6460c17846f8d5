"""Engine events: which ones destroy or change something, and which ones the engine causes by itself.

Pure: a decoded event from GET /events in, facts out. The history of recent
events per container is what tells a process ending on its own from someone
killing it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Actions the monitor asks the daemon for (the events API filters by action).
# `create`, `start` and `oom` are not destructive: they tell later events apart.
WATCHED_ACTIONS = ("create", "start", "kill", "die", "stop", "destroy", "pause", "update", "rename", "oom",
                   "delete", "untag", "prune", "remove")

DESTRUCTIVE = {
    "container": frozenset({"stop", "kill", "die", "destroy", "pause", "update", "rename", "prune"}),
    "volume": frozenset({"destroy", "prune"}),
    "network": frozenset({"destroy", "prune"}),
    "image": frozenset({"delete", "untag", "prune"}),
    "builder": frozenset({"prune"}),
    "service": frozenset({"remove"}),
    "secret": frozenset({"remove"}),
    "config": frozenset({"remove"}),
    "node": frozenset({"remove"}),
}

# How long after a container's kill/stop/die its next events count as consequences of it.
FOLLOW_SECONDS = 10.0
# An anonymous volume removed this soon after a container's removal went with that container.
ANON_VOLUME_SECONDS = 2.0
COMPOSE_PROJECT = "com.docker.compose.project"


@dataclass(frozen=True)
class EngineEvent:
    kind: str         # container, volume, network, image, ...
    action: str       # stop, kill, die, destroy, ...
    id: str           # container/network id, volume name, image id
    name: str | None  # the name people use: container or network name, volume name, image reference
    time: float       # seconds since the epoch, from the daemon's timeNano
    attributes: dict = field(default_factory=dict, compare=False)

    @property
    def destructive(self) -> bool:
        return self.action in DESTRUCTIVE.get(self.kind, ())

    @property
    def project(self) -> str | None:
        return self.attributes.get(COMPOSE_PROJECT)

    @property
    def label(self) -> str:
        """How a person would name it: `container stop web (3f2a1b4c5d6e)`."""
        shown = self.name or self.id[:12] or "?"
        short = self.id.split(":")[-1][:12]
        suffix = f" ({short})" if short and short != shown else ""
        return f"{self.kind} {self.action} {shown}{suffix}"


def parse_event(raw: dict) -> EngineEvent | None:
    """An event of the events API, or None when it is not one the monitor understands."""
    if not isinstance(raw, dict):
        return None
    kind = raw.get("Type") or ""
    action = (raw.get("Action") or raw.get("status") or "").split(":")[0]
    actor = raw.get("Actor") if isinstance(raw.get("Actor"), dict) else {}
    attributes = actor.get("Attributes") if isinstance(actor.get("Attributes"), dict) else {}
    ident = str(actor.get("ID") or raw.get("id") or "")
    if not kind or not action:
        return None
    nano = raw.get("timeNano")
    when = nano / 1e9 if isinstance(nano, (int, float)) and nano else float(raw.get("time") or 0)
    name = attributes.get("name")
    if kind == "volume":
        name = ident  # a volume's id is its name
    return EngineEvent(kind, action, ident, name if isinstance(name, str) and name else None, when,
                       {str(k): str(v) for k, v in attributes.items()})


@dataclass
class _Container:
    asked: float | None = None       # last kill/stop: someone asked the daemon
    died: float | None = None        # last die
    died_asked: bool = False         # that die followed a kill/stop
    oom: float | None = None
    auto_remove: bool | None = None  # HostConfig.AutoRemove, when the monitor saw it created


class History:
    """What the monitor has seen lately, per container: enough to tell engine-made events apart."""

    def __init__(self):
        self.containers: dict[str, _Container] = {}
        self.last_container_destroy: float | None = None

    def container(self, ident: str) -> _Container:
        found = self.containers.get(ident)
        if found is None:
            if len(self.containers) > 10000:
                self.containers.clear()  # bounded: a day of churn on a busy host must not grow without end
            found = self.containers[ident] = _Container()
        return found

    def set_auto_remove(self, ident: str, value: bool | None) -> None:
        self.container(ident).auto_remove = value

    def observe(self, event: EngineEvent) -> None:
        """Remember what the event tells about later ones; call after judging it."""
        if event.kind != "container":
            return
        state = self.container(event.id)
        if event.action in ("kill", "stop"):
            state.asked = event.time
        elif event.action == "oom":
            state.oom = event.time
        elif event.action == "die":
            state.died = event.time
            state.died_asked = _recent(state.asked, event.time)
        elif event.action == "destroy":
            self.last_container_destroy = event.time
            self.containers.pop(event.id, None)


def engine_cause(event: EngineEvent, history: History) -> str | None:
    """Why the engine itself made this event (nobody asked for it), or None when someone did."""
    if event.kind == "container":
        state = history.containers.get(event.id) or _Container()
        if event.action == "die":
            if _recent(state.asked, event.time):
                return "follows a kill or stop of the same container, which is judged on its own"
            if _recent(state.oom, event.time):
                return "the kernel ended it for lack of memory"
            code = _int(event.attributes.get("exitCode"))
            if code is None or code <= 128:
                return f"its process exited on its own (exit code {event.attributes.get('exitCode', '?')})"
            return None  # ended by a signal that no kill/stop of the daemon sent
        if event.action == "destroy" and state.died is not None and _recent(state.died, event.time):
            if state.auto_remove or (state.auto_remove is None and event.time - state.died <= 1.0):
                return "removed by the engine when it exited (started with --rm)"
        return None
    if event.kind == "volume" and event.action == "destroy" and _anonymous(event.id):
        if history.last_container_destroy is not None and \
                0 <= event.time - history.last_container_destroy <= ANON_VOLUME_SECONDS:
            return "an anonymous volume removed with its container"
    return None


def _recent(then: float | None, now: float) -> bool:
    return then is not None and 0 <= now - then <= FOLLOW_SECONDS


def _anonymous(name: str) -> bool:
    return len(name) == 64 and all(c in "0123456789abcdef" for c in name)


def _int(text) -> int | None:
    try:
        return int(text)
    except (TypeError, ValueError):
        return None
