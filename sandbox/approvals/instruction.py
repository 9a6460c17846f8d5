"""What we tell Wingman about a command: pure text, no I/O.

Wingman's validators score the instruction text and auto-reject (422) what reads
as low quality: they look for ten sections, each a header at the start of a line
followed by concrete content (several words, bullet lists, commands in backticks,
numbers with units). Each section here carries real facts about the command so
the human who decides sees everything they need on one screen.

The text deliberately names no URL, file path of ours or credential: Wingman's
scanners treat those as extra risk, and nothing of the kind belongs in it.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass

SECTIONS = (
    "DELIVERABLES", "SUCCESS_CRITERIA", "BOUNDARIES", "DEPENDENCIES", "MITIGATION",
    "TEST_PROCESS", "TEST_RESULTS_FORMAT", "RESOURCE_REQUIREMENTS", "RISK_ASSESSMENT", "QUALITY_METRICS",
)
TASK_NAME_LIMIT = 80


@dataclass(frozen=True)
class Target:
    """One object the command touches, as the daemon names it."""

    kind: str  # container, image, volume, network, ...
    name: str
    id: str | None = None
    detail: str | None = None  # e.g. "state running, image wingman-test:latest"

    def describe(self) -> str:
        text = f"{self.kind} {self.name}"
        if self.id:
            text += f" (id {short_object_id(self.id)})"
        if self.detail:
            text += f", {self.detail}"
        return text


@dataclass(frozen=True)
class ApprovalSubject:
    """Everything known about one command held for approval."""

    argv: tuple[str, ...]
    command_text: str  # the command as typed, when a shell layer saw it; else the argv joined
    cwd: str
    session_id: str
    assistant: str
    host: str
    layer: str  # which layer held it: docker stub, shell hook, assistant hook
    rule: str  # stable rule id, e.g. docker.container.stop
    reason: str
    alternative: str | None
    targets: tuple[Target, ...]
    deployment_env: str


def short_object_id(object_id: str) -> str:
    return object_id.split(":", 1)[-1][:12]


def argv_text(argv: tuple[str, ...] | list[str]) -> str:
    return shlex.join(argv)


def task_name(s: ApprovalSubject) -> str:
    """Short, for Wingman's queue and the Telegram list: `docker stop victim`."""
    text = " ".join(s.argv) if s.argv else s.command_text
    text = " ".join(text.split())
    if len(text) > TASK_NAME_LIMIT:
        text = text[: TASK_NAME_LIMIT - 3] + "..."
    return text


def worker_id(s: ApprovalSubject) -> str:
    return f"wingman-run/{s.assistant or 'unknown'}@{s.host or 'localhost'}"


# How each kind of action can be undone: (reversible, how). Keyed by the rule's last part,
# with a few per-kind overrides; the rule id is docker.<kind>.<action>.
_UNDO_BY_ACTION = {
    "stop": (True, "start it again with `docker start {names}`; its writable layer and volumes survive a stop, "
                   "only in-memory state and open connections are lost"),
    "kill": (True, "start it again with `docker start {names}`; processes got no clean shutdown, so unflushed writes "
                   "may be lost"),
    "restart": (True, "nothing to undo once it is back up; in-memory state and open connections are lost"),
    "pause": (True, "resume it with `docker unpause {names}`"),
    "rm": (False, "a removed object cannot be brought back; it has to be recreated from its original definition, "
                  "and data held only inside it is gone"),
    "prune": (False, "pruned objects cannot be brought back; images can be pulled or built again, data in removed "
                     "volumes and containers is gone"),
    "down": (False, "`docker compose up` recreates the containers, but containers are new and removed volumes "
                    "(with -v) lose their data"),
    "rename": (True, "rename it back with `docker rename`"),
    "disconnect": (True, "reconnect it with `docker network connect`"),
    "push": (False, "a pushed tag may already have been pulled by others; it can be overwritten, not recalled"),
}
_UNDO_BY_KIND_ACTION = {
    ("image", "rm"): (False, "the image can be pulled or built again, but the result may not be the same bytes"),
    ("volume", "rm"): (False, "the volume and every byte in it are gone; only a backup made before brings the data back"),
    ("network", "rm"): (True, "recreate it with `docker network create` and the same options, then reconnect "
                              "the containers that used it"),
}


def reversibility(s: ApprovalSubject) -> tuple[bool | None, str]:
    parts = s.rule.split(".")
    action = parts[-1] if parts else ""
    kind = parts[-2] if len(parts) >= 2 else ""
    found = _UNDO_BY_KIND_ACTION.get((kind, action)) or _UNDO_BY_ACTION.get(action)
    names = " ".join(t.name for t in s.targets) or "<name>"
    if not found:
        return None, "not known for this action; treat it as irreversible"
    reversible, how = found
    return reversible, how.format(names=names)


def build_instruction(s: ApprovalSubject) -> str:
    """Wingman's ten sections, each with the facts of this one command."""
    command = argv_text(s.argv) if s.argv else s.command_text
    typed = " ".join(s.command_text.split())
    reversible, undo = reversibility(s)
    reversible_word = {True: "yes", False: "NO", None: "unknown"}[reversible]
    level = "HIGH" if reversible is not True else "MEDIUM"
    env = s.deployment_env or "development"
    if s.targets:
        target_lines = [f"  - {t.describe()}" for t in s.targets]
    else:
        target_lines = ["  - no single named object: the command acts on whatever the daemon selects "
                        "(for example every unused object, or a whole compose project)"]
    objects = ", ".join(f"{t.kind} {t.name}" for t in s.targets) or "the objects the daemon selects"

    lines = [
        f"Approval request from wingman-run: the AI coding assistant {s.assistant} wants to run a command "
        f"that the session policy holds for a human decision.",
        "",
        "DELIVERABLES:",
        f"- Run exactly this command once, nothing else: `{command}`",
        f"- Exact argv (JSON list): {json.dumps(list(s.argv))}",
    ]
    if typed and typed != command:
        lines.append(f"- As typed in the shell: `{typed}`")
    lines += [
        f"- Working directory: `{s.cwd}`",
        f"- Session {s.session_id} on host {s.host}, assistant {s.assistant}, held by the {s.layer} layer",
        "- A different command, argv or working directory is not covered and asks again",
        "",
        "SUCCESS_CRITERIA:",
        "- The command runs only after a human sets this request to APPROVED, and runs at most once",
        f"- Only {objects} change; every other container, image, volume and network stays as it is",
        "- All output and the exit status of the command go back to the assistant unchanged",
        "",
        "BOUNDARIES:",
        "- Objects the command touches, as the daemon reports them right now:",
        *target_lines,
        f"- Environment: {env}; only the daemon this session talks to, never another host or context",
        "- No other command runs under this approval; a rejection means the command never runs",
        "",
        "DEPENDENCIES:",
        "- The Docker daemon of this session is running and answered the inspection of the objects above",
        f"- The wingman-run session {s.session_id} stays open while the request waits, then runs the command itself",
        f"- The {s.assistant} assistant is waiting for this decision and is told the result and any note",
        "",
        "MITIGATION:",
        f"- Undo: {undo}",
    ]
    if s.alternative:
        lines.append(f"- Safer alternative the policy suggests instead: {s.alternative}")
    lines += [
        "- If rejected, expired or not decided within the timeout, the command does not run (fail closed)",
        "- Before approving, check the objects under BOUNDARIES are the ones meant, and back up data you need",
        "",
        "TEST_PROCESS:",
        "- Compare `docker ps -a` before and after: only the objects named above may change",
        f"- The exit status of `{command}` is checked and reported to the assistant",
        "- The session log records the request id, final status, decider, note and waited seconds",
        "",
        "TEST_RESULTS_FORMAT:",
        "- One session log line: request id, status APPROVED or REJECTED, decided_by, note, wait in seconds",
        "- Command exit code 0 means pass, any other code means fail and is shown to the assistant",
        "",
        "RESOURCE_REQUIREMENTS:",
        "- Only the local Docker daemon already available to this session; no new containers, images or network access",
        "- One human decision; the command itself takes a few seconds on the local instance",
        "",
        "RISK_ASSESSMENT:",
        f"- Level {level} because policy rule {s.rule} matched: {s.reason}",
        f"- Reversible: {reversible_word}; {undo}",
        *([f"- Irreversible: this can delete {objects} for good"] if reversible is False else []),
        "- An AI assistant chose this command; a human should confirm it is what they asked for",
        "",
        "QUALITY_METRICS:",
        "- 100% of held commands get exactly one human decision before they run: 0 run unapproved",
        "- The command that runs is byte-for-byte the argv above: 0 differences allowed",
    ]
    return "\n".join(lines) + "\n"
