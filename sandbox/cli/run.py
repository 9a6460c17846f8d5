"""wingman-run: start a command (an AI assistant, a shell, anything) inside a guarded session.

    wingman-run [--profile NAME|PATH] [--assistant NAME] [--] COMMAND [ARGS...]
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .. import __version__
from ..audit import resolve_audit_path
from ..policy.profile import ProfileError
from ..session.profiles import resolve
from ..assistants.setup import AssistantSetupError
from ..assistants.setup import prepare as prepare_assistant
from ..broker.start import start_broker
from ..hooks.setup import arm_shell_hooks
from ..session.isolation import IsolationUnavailable, isolate
from ..session.launch import create, find_bash, scrubbed_environment
from ..session.record import GUARDED_PROGRAMS, stub_cache_root
from ..assistants.names import ADAPTERS as ASSISTANT_NAMES
from ..session.spawn import resolve_command, run
from ..stub import compiled as compiled_stub
from ..stub.generate import write_stubs
from ..guard.launch import stop_guard
from ..monitor.launch import start_monitor, stop_monitor
from ..session.cleanup import remove_if_unused

USAGE = """usage: wingman-run [--profile NAME|PATH] [--assistant NAME] [--] COMMAND [ARGS...]

Runs COMMAND (default: your shell) in a session where destructive docker
commands are refused or sent to Wingman for approval, and every decision is
written to the audit log. Manage profiles and read the log with wingman-sandbox.

options:
  --profile NAME|PATH  the profile to apply (default: the project's .wingman.yaml, else 'default')
  --assistant NAME     which assistant's own hook to add: claude, codex, gemini, cursor
                       (default: recognised from COMMAND's name, also through npx or a full path)
  -h, --help           show this help
  --version            show the version
"""


def fail(message: str, status: int) -> None:
    sys.stderr.write(f"wingman-run: {message}\n")
    raise SystemExit(status)


def parse_args(args: list[str]) -> tuple[str | None, str | None, list[str]]:
    profile = assistant = None
    i = 0
    while i < len(args):
        word = args[i]
        if word == "--":
            i += 1
            break
        if word in ("-h", "--help"):
            sys.stdout.write(USAGE)
            raise SystemExit(0)
        if word == "--version":
            sys.stdout.write(f"wingman-run {__version__}\n")
            raise SystemExit(0)
        if word == "--profile":
            if i + 1 >= len(args):
                fail("--profile needs a name or a path", 2)
            profile = args[i + 1]
            i += 2
            continue
        if word.startswith("--profile="):
            profile = word.split("=", 1)[1]
            i += 1
            continue
        if word == "--assistant" or word.startswith("--assistant="):
            assistant = word.split("=", 1)[1] if "=" in word else (args[i + 1] if i + 1 < len(args) else "")
            if assistant not in ASSISTANT_NAMES:
                fail(f"--assistant needs one of {', '.join(ASSISTANT_NAMES)}", 2)
            i += 1 if "=" in word else 2
            continue
        if word.startswith("-") and word != "-":
            fail(f"unknown option {word} (see wingman-run --help)", 2)
        break
    return profile, assistant, args[i:]


def default_shell(environ) -> str:
    try:
        import shellingham

        return shellingham.detect_shell()[1]
    except Exception:  # shellingham raises its own errors when it cannot tell
        return environ.get("SHELL") or "/bin/sh"


def early_guard(session, setting: str | None, environ, guard_token: str):
    """The guard process, started before the session's files are written so its start-up overlaps
    theirs; None where isolation is off (or it cannot start: isolated() then says why)."""
    from ..guard.launch import GuardStartError, spawn_guard

    if setting == "off":
        return None
    try:
        return spawn_guard(session, environ, guard_token)
    except GuardStartError:
        return None


def isolated(argv: list[str], session, setting: str | None, environ, guard_token: str,
             early=None) -> tuple[list[str], object]:
    """argv wrapped in OS isolation with the Docker API guard running, or as it is, per the profile."""
    from ..guard.launch import GuardStartError, start_guard, stop_guard, wait_ready

    try:
        wrapped, note = isolate(argv, session, setting, environ)
    except IsolationUnavailable as exc:
        stop_guard(early)
        fail(str(exc), 2)
    guard = None
    if wrapped is argv:
        stop_guard(early)  # no isolation, so nothing would reach the guard
    else:
        try:
            guard = wait_ready(early) if early is not None else start_guard(session, environ, guard_token)
        except GuardStartError as exc:
            if setting == "required":
                fail(f"isolation is required by the profile, and {exc}; nothing was started", 2)
            wrapped, note = argv, f"wingman-run: warning: no OS isolation ({exc}); the daemon is reachable without the guard"
    if note:
        sys.stderr.write(note + "\n")
    return wrapped, guard


def main(args: list[str] | None = None) -> None:
    args = sys.argv[1:] if args is None else args
    selector, assistant, command = parse_args(args)
    environ = dict(os.environ)
    cwd = os.getcwd()
    try:
        profile = resolve(selector, Path(cwd))
    except ProfileError as exc:
        fail(f"profile error: {exc}\nNothing was started: fix the profile, or pick another with --profile.", 2)
    audit_log = resolve_audit_path(profile.audit_path, environ)
    try:
        # Private: commands can hold secrets. The stubs append to the file created here.
        audit_log.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(audit_log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600))
    except OSError as exc:
        fail(f"the audit log {audit_log} cannot be written ({exc.strerror}); nothing was started", 2)
    if not command:
        command = [default_shell(environ)]
    from ..approvals.setup import prepare_approvals

    approvals = prepare_approvals(profile, environ)  # exits 2 on a broken approval setup
    bash = find_bash()
    if bash is None:
        fail("bash is not installed: the session's stubs and hooks need it; nothing was started", 2)
    session = create(profile, command, environ, cwd, audit_log)
    if approvals is not None:
        approvals.save(session)
    server, broker = start_broker(session, approvals.settings.timeout_seconds if approvals else 0)
    monitor = start_monitor(session)  # the daemon's events against the audit log, until the command ends
    guard = early_guard(session, profile.data.get("isolation"), environ, server.guard_token)
    try:
        # docker and docker-compose always (even absent: a later install must not slip past); podman where it exists.
        programs = [p for p in GUARDED_PROGRAMS if p != "podman" or p in session.real]
        write_stubs(session, programs, bash, broker, compiled_stub.build(stub_cache_root()))
        env = scrubbed_environment(session, environ, profile.scrub)
        command = arm_shell_hooks(session, env, environ, command, broker)
        try:
            command = prepare_assistant(command, session, env, assistant)
        except AssistantSetupError as exc:
            fail(str(exc), 2)
        executable = resolve_command(command[0], env["PATH"])
        if executable is None:
            fail(f"{command[0]}: command not found", 127)
        if not os.access(executable, os.X_OK) or os.path.isdir(executable):
            fail(f"{command[0]}: permission denied", 126)
        argv, guard = isolated([executable, *command[1:]], session, profile.data.get("isolation"), environ,
                               server.guard_token, guard)
        status = run(argv, env)
    finally:
        stop_guard(guard)
        stop_monitor(monitor)
        server.close()
        # Kept while a process the session left running still uses it (its stubs, its cwd); prune removes it later.
        remove_if_unused(session.dir)
    raise SystemExit(status)


if __name__ == "__main__":
    main()
