"""The system pack: shutting the machine down, stopping services, killing every process."""

from __future__ import annotations

from typing import Sequence

from ..context import Context
from ..verdict import Verdict
from .base import Hit, Pack, read_rule, risky_rule, work_rule

RULES = {
    "system.read": read_rule("system.read", "systemctl status, service status"),
    "system.work": work_rule("system.work", "starting services, signalling one process"),
    "system.shutdown": risky_rule(
        "system.shutdown", "shuts down, reboots or suspends the machine", "ask the user to do it"),
    "system.service.stop": risky_rule(
        "system.service.stop", "stops, disables, masks or restarts a system service", "systemctl status / journalctl -u to diagnose"),
    "system.kill.all": risky_rule(
        "system.kill.all", "signals every process the user can reach (kill -1) or init (pid 1)",
        "kill one process by its pid", Verdict.DENY, Verdict.DENY),
    "system.docker_socket": risky_rule(
        "system.docker_socket", "talks to the Docker API socket directly, around the docker CLI and its guard",
        "use the docker CLI"),
}

_SYSTEMCTL_STOP = frozenset({"stop", "disable", "mask", "kill", "restart", "try-restart", "reload-or-restart",
                             "isolate", "reset-failed", "revert", "freeze"})
_SYSTEMCTL_POWER = frozenset({"poweroff", "reboot", "halt", "suspend", "hibernate", "hybrid-sleep", "kexec",
                              "emergency", "rescue", "soft-reboot", "suspend-then-hibernate"})
_SYSTEMCTL_READ = frozenset({"status", "show", "cat", "list-units", "list-unit-files", "list-timers", "is-active",
                             "is-enabled", "is-failed", "list-dependencies", "help", "list-sockets", "list-jobs"})
_LAUNCHCTL_STOP = frozenset({"stop", "unload", "remove", "bootout", "disable", "kill", "kickstart"})


def _shutdown(argv: Sequence[str]) -> list[Hit]:
    if argv[0].rsplit("/", 1)[-1] == "shutdown" and "-c" in argv[1:]:
        return [Hit("system.work", "cancels a pending shutdown")]
    return [Hit("system.shutdown")]


def _systemctl(argv: Sequence[str]) -> list[Hit]:
    words = [a for a in argv[1:] if not a.startswith("-")]
    verb = words[0] if words else "list-units"
    if verb in _SYSTEMCTL_POWER:
        return [Hit("system.shutdown", verb)]
    if verb in _SYSTEMCTL_STOP:
        return [Hit("system.service.stop", " ".join(words))]
    return [Hit("system.read" if verb in _SYSTEMCTL_READ else "system.work")]


def _service(argv: Sequence[str]) -> list[Hit]:
    words = [a for a in argv[1:] if not a.startswith("-")]
    if len(words) >= 2 and words[1] in ("stop", "restart", "force-reload", "force-stop"):
        return [Hit("system.service.stop", " ".join(words))]
    return [Hit("system.read" if len(words) < 2 or words[1] == "status" else "system.work")]


def _kill(argv: Sequence[str]) -> list[Hit]:
    args = list(argv[1:])
    if args[:1] in (["-l"], ["-L"]):
        return [Hit("system.read")]
    targets: list[str] = []
    signal_given = False
    i = 0
    while i < len(args):
        word = args[i]
        if word == "--":
            targets.extend(args[i + 1:])
            break
        if word in ("-s", "-n", "--signal"):
            signal_given = True
            i += 2
            continue
        if word.startswith("-") and not signal_given and not targets:
            signal_given = True  # -9, -KILL, -SIGKILL: the signal comes first; a later -1 is a target
        else:
            targets.append(word)
        i += 1
    if any(t in ("-1", "1") for t in targets):
        return [Hit("system.kill.all", " ".join(targets))]
    return [Hit("system.work", " ".join(targets) or None)]


def _socket_client(argv: Sequence[str]) -> list[Hit]:
    text = " ".join(argv[1:])
    if "docker.sock" in text or "podman.sock" in text or "/containerd.sock" in text:
        return [Hit("system.docker_socket", text[:120])]
    return [Hit("system.work")]


def classify(argv: Sequence[str], ctx: Context) -> list[Hit]:
    name = argv[0].rsplit("/", 1)[-1]
    if name in ("shutdown", "reboot", "halt", "poweroff"):
        return _shutdown(argv)
    if name in ("init", "telinit"):
        level = next((a for a in argv[1:] if not a.startswith("-")), "")
        return [Hit("system.shutdown", f"runlevel {level}")] if level in ("0", "6", "1", "s", "S") else [Hit("system.read")]
    if name == "systemctl":
        return _systemctl(argv)
    if name == "service":
        return _service(argv)
    if name == "launchctl":
        words = [a for a in argv[1:] if not a.startswith("-")]
        if words[:1] and words[0] in _LAUNCHCTL_STOP:
            return [Hit("system.service.stop", " ".join(words))]
        if words[:1] == ["reboot"]:
            return [Hit("system.shutdown")]
        return [Hit("system.read")]
    if name == "kill":
        return _kill(argv)
    return _socket_client(argv)


PACK = Pack(
    name="system",
    description="shutdown, reboot, systemctl stop/disable, service stop, launchctl unload, kill -9 -1, raw Docker socket access",
    commands=frozenset({"shutdown", "reboot", "halt", "poweroff", "init", "telinit", "systemctl", "service",
                        "launchctl", "kill", "curl", "socat", "nc", "ncat"}),
    rules=RULES,
    classify=classify,
)
