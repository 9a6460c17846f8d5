"""The audit log's decisions, and whether one of them covers an engine event.

Pure: audit events in, answers out. A decision covers an event when

- it let the command run: verdict allow, or ask with an approval status of
  APPROVED, AUTO_APPROVED or GRANTED, from a layer that stands in front of the
  daemon (stub, hook, guard, assistant);
- it came before the event (1 s of slack) and the event came no later than
  WINDOW_SECONDS after the command ended (its exit event; a stub command still
  running covers until it ends; the guard's and hooks' decisions have no exit,
  so their own time counts as the end);
- its rule can cause the event's action (a stop covers kill/die/stop, not a
  destroy), and it names the object: a word of its argv or API path equal to
  the object's name, or a hex prefix (4+ digits) of its id. Prunes cover what
  they remove without naming it; compose commands cover their project's objects.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timezone

from ..policy.packs import ALL_RULES
from ..policy.verdict import Verdict
from .events import EngineEvent

WINDOW_SECONDS = 10.0
SKEW_SECONDS = 1.0
RUNNING_MAX_SECONDS = 3600.0  # a stub command with no exit yet covers this long at most
KEEP_SECONDS = 3600.0
LAYERS = frozenset({"stub", "hook", "guard", "assistant"})
APPROVED = frozenset({"APPROVED", "AUTO_APPROVED", "GRANTED"})
MIN_ID_PREFIX = 4

_CONTAINER_STOP = frozenset({"kill", "die", "stop"})
# What each kind of rule can make the daemon do, by the rule id's last word.
ACTIONS_BY_VERB = {
    "stop": _CONTAINER_STOP,
    "restart": _CONTAINER_STOP,
    "kill": frozenset({"kill", "die"}),
    "rm": frozenset({"kill", "die", "stop", "destroy", "delete", "untag", "remove"}),
    "pause": frozenset({"pause"}),
    "update": frozenset({"update"}),
    "rename": frozenset({"rename"}),
    "disconnect": frozenset(),
}
WIDE_ACTIONS = frozenset({"kill", "die", "stop", "destroy", "delete", "untag", "prune", "remove"})
# Allowed commands that move a tag off an older image (an `untag` event for it).
TAG_MOVERS = frozenset({"docker.image.build", "docker.image.pull", "docker.image.tag", "docker.image.load",
                        "docker.image.import", "docker.buildx.build", "docker.builder.build",
                        "docker.container.commit", "docker.compose.build", "docker.compose.pull"})


@dataclass
class Decision:
    id: str
    session: str
    time: float
    layer: str
    verdict: str
    rule: str
    argv: list
    command: str | None
    cwd: str
    status: str | None  # the approval's status, if it was asked
    running: bool       # no exit known yet (stub layer only)
    end: float | None = None
    words: frozenset = field(default_factory=frozenset)

    @property
    def let_run(self) -> bool:
        return self.verdict == "allow" or (self.verdict == "ask" and self.status in APPROVED)

    def summary(self) -> dict:
        out = {"id": self.id, "session": self.session, "time": iso(self.time), "layer": self.layer,
               "verdict": self.verdict, "rule": self.rule, "command": self.command or " ".join(self.argv)}
        if self.status:
            out["approval"] = self.status
        return out


def parse_time(text) -> float | None:
    if not isinstance(text, str) or len(text) < 19:
        return None
    try:
        stamp = datetime.strptime(text.rstrip("Z")[:26], "%Y-%m-%dT%H:%M:%S.%f" if "." in text else "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return None
    return stamp.replace(tzinfo=timezone.utc).timestamp()


def iso(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def words_of(argv, command) -> frozenset:
    """Every word that may name an object: argv words, API path segments, query values, `--name=x` values."""
    out = set()
    for text in [*(str(a) for a in argv or ()), command or ""]:
        for word in re.split(r"[\s/?&=,]+", urllib.parse.unquote(text)):
            word = word.strip("'\"")
            if word:
                out.add(word)
    return frozenset(out)


class Decisions:
    """The recent decisions of every session writing to the logs the monitor reads."""

    def __init__(self):
        self.items: dict[str, Decision] = {}

    def add(self, event: dict) -> None:
        kind = event.get("event")
        if kind == "exit":
            found = self.items.get(event.get("id"))
            when = parse_time(event.get("time"))
            if found is not None and when is not None:
                found.end, found.running = when, False
            return
        if kind != "decision" or event.get("layer") not in LAYERS:
            return
        when = parse_time(event.get("time"))
        if when is None or not event.get("id"):
            return
        approval = event.get("approval") if isinstance(event.get("approval"), dict) else {}
        argv = event.get("argv") if isinstance(event.get("argv"), list) else []
        decision = Decision(
            id=str(event["id"]), session=str(event.get("session", "")), time=when, layer=event["layer"],
            verdict=str(event.get("verdict", "")), rule=str(event.get("rule", "")), argv=argv,
            command=event.get("command") if isinstance(event.get("command"), str) else None,
            cwd=str(event.get("cwd") or "/"), status=approval.get("status"),
            running=event.get("layer") == "stub" and event.get("exit") is None,
            end=when if event.get("exit") is not None else None,
            words=words_of(argv, event.get("command") if isinstance(event.get("command"), str) else None))
        self.items[decision.id] = decision
        self._forget(when)

    def _forget(self, newest: float) -> None:
        if len(self.items) < 2048:
            return
        for key in [k for k, d in self.items.items() if newest - d.time > KEEP_SECONDS]:
            del self.items[key]

    def covering(self, event: EngineEvent) -> Decision | None:
        """The latest decision that let this event happen, or None: the event is unapproved."""
        best = None
        for decision in self.items.values():
            if decision.let_run and _in_window(decision, event.time) and covers(decision, event):
                if best is None or decision.time > best.time:
                    best = decision
        return best

    def known_to(self, session: str, event: EngineEvent) -> bool:
        """Whether a decision of that session, of any verdict (a read included), names the event's object."""
        return any(d.session == session and names(d, event) for d in self.items.values())

    def closest(self, event: EngineEvent, within: float = 300.0) -> Decision | None:
        """The decision nearest in time that names the object, whatever its verdict (for the report)."""
        best = None
        for decision in self.items.values():
            if abs(decision.time - event.time) <= within and names(decision, event):
                if best is None or abs(decision.time - event.time) < abs(best.time - event.time):
                    best = decision
        return best


def _in_window(decision: Decision, when: float) -> bool:
    if when < decision.time - SKEW_SECONDS:
        return False
    if decision.end is not None:
        end = decision.end
    elif decision.running:
        end = decision.time + RUNNING_MAX_SECONDS
    else:
        end = decision.time
    return when <= end + WINDOW_SECONDS


def covers(decision: Decision, event: EngineEvent) -> bool:
    """Whether the decision's rule can cause this event (the time window aside)."""
    rule = decision.rule
    verb = rule.rsplit(".", 1)[-1]
    if verb == "prune":
        return event.action in WIDE_ACTIONS
    if rule.startswith("docker.compose."):
        project = compose_project(decision)
        return project is not None and project_of(event) == project
    if rule in TAG_MOVERS:
        return event.action == "untag" and names(decision, event)
    known = ALL_RULES.get(rule)
    if known is not None and known.default is Verdict.ALLOW and decision.verdict == "allow" \
            and rule not in ("docker.unknown",):
        # A plain read (ps, logs, inspect) covers nothing, even when it names the object.
        return False
    actions = ACTIONS_BY_VERB.get(verb)
    if actions is not None and event.action not in actions:
        return False
    return names(decision, event)


def names(decision: Decision, event: EngineEvent) -> bool:
    candidates = {event.name, event.id} - {None, ""}
    if event.kind == "image" and event.name:
        candidates.add(_image_ref(event.name))
    bare_id = event.id.split(":")[-1]
    for word in decision.words:
        if word in candidates or _image_ref(word) in candidates:
            return True
        if len(word) >= MIN_ID_PREFIX and re.fullmatch(r"[0-9a-f]+", word) and bare_id.startswith(word):
            return True
    return False


def _image_ref(ref: str) -> str:
    last = ref.rsplit("/", 1)[-1]
    return ref if (":" in last or "@" in ref) else ref + ":latest"


def compose_project(decision: Decision) -> str | None:
    argv = [str(a) for a in decision.argv]
    for i, word in enumerate(argv):
        if word in ("-p", "--project-name") and i + 1 < len(argv):
            return _normal_project(argv[i + 1])
        if word.startswith("--project-name="):
            return _normal_project(word.split("=", 1)[1])
        if word.startswith("-p") and len(word) > 2 and not word.startswith("--"):
            return _normal_project(word[2:])
    return _normal_project(os.path.basename(decision.cwd.rstrip("/")))


def _normal_project(name: str) -> str | None:
    # compose's own normalisation: lower case, only [a-z0-9_-]
    cleaned = re.sub(r"[^a-z0-9_-]", "", name.lower())
    return cleaned or None


def project_of(event: EngineEvent) -> str | None:
    if event.project:
        return event.project
    if event.kind in ("network", "volume") and event.name and "_" in event.name:
        return event.name.split("_", 1)[0]  # compose names them PROJECT_name
    return None
