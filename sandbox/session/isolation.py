"""OS isolation of a session: the command runs where the only container engine it can reach is the guard.

Linux: bubblewrap over the whole filesystem (the user's files stay writable),
a PID namespace of its own, no capabilities, the session directory read-only,
the guard's socket bound over the session's daemon socket and over
/run/docker.sock, every other engine socket hidden. macOS: a sandbox-exec
profile that denies the engines' sockets (generated here; run there).

The profile's `isolation` key: auto (isolate where bubblewrap works, else
warn once), required (refuse to start without it), off.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from ..guard.endpoints import ENGINE_DIRS, UnsupportedDaemon, daemon_socket, engine_sockets, real_path
from .layout import GUARD_SOCKET, HOMES_DIR

SETTINGS = ("auto", "required", "off")
# Made read-only inside (when they exist here): the kernel's settings and the cgroup tree.
READ_ONLY = ("/proc/sys", "/proc/sysrq-trigger", "/sys")
# Where engines keep containers' and volumes' data: hidden inside, as root owns (and could rewrite) it.
ENGINE_STATE_DIRS = ("/var/lib/docker", "/var/lib/containerd", "/var/lib/containers")
DOCKER_DAEMON_CONFIG = "/etc/docker/daemon.json"


def engine_state_dirs(config: str = DOCKER_DAEMON_CONFIG) -> list[str]:
    """The engines' data directories, the daemon's configured data-root included."""
    dirs = list(ENGINE_STATE_DIRS)
    try:
        import json

        data_root = json.loads(Path(config).read_text()).get("data-root")
        if isinstance(data_root, str) and data_root.startswith("/"):
            dirs.append(data_root)
    except (OSError, ValueError, AttributeError):
        pass
    return dirs
# What stays open without isolation (the README's threat model rows), said once at start.
OPEN_ROWS = ("copied or renamed docker binaries, interpreters and raw-socket requests reach the daemon directly,"
             " and the session's stub and hook files can be edited")


class IsolationUnavailable(Exception):
    """isolation: required, and the session cannot be isolated; the launcher exits 2 with this text."""


def bwrap_path(environ=os.environ) -> str | None:
    chosen = environ.get("WINGMAN_BWRAP")  # another bubblewrap build, or none at all ("" is none)
    if chosen is not None:
        return chosen if chosen and os.access(chosen, os.X_OK) else None
    return shutil.which("bwrap", path=environ.get("PATH", os.defpath))


@lru_cache(maxsize=4)
def bwrap_works(bwrap: str) -> str | None:
    """None when bubblewrap can build a sandbox here, else why not (one line)."""
    # Tried up to three times: binding / whole races with container mounts coming and going.
    for _ in range(3):
        try:
            probe = subprocess.run([bwrap, "--ro-bind", "/", "/", "--unshare-pid", "--proc", "/proc", "true"],
                                   capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError) as exc:
            return f"{bwrap} does not run ({exc})"
        if probe.returncode == 0:
            return None
    if probe.returncode != 0:
        return f"{bwrap} cannot build a sandbox here: {(probe.stderr.strip().splitlines() or ['exit %d' % probe.returncode])[-1]}"
    return None


# Ctrl-C reaches the whole foreground group, bwrap included; the launcher passes TERM and HUP on.
RELAYED_SIGNALS = "INT,QUIT,TERM,HUP"


def bwrap_argv(bwrap: str, command: list[str], session_dir: str, guarded: list[str], hidden: list[str],
               hidden_dirs: list[str], cwd: str, env_program: str = "env",
               read_only: tuple[str, ...] = (), roots: list[str] | None = None,
               writable: list[str] = ()) -> list[str]:
    """The bubblewrap command line. Pure: paths in, argv out (paths already resolved, existing).

    roots: how the filesystem is laid in (root_binds); by default / whole.
    writable: options that open parts of the session directory again (writable_homes)."""
    argv = [
        # bwrap neither passes signals on nor survives them (and --die-with-parent then kills the
        # session with SIGKILL): it ignores them, and the command gets them back, by default.
        env_program, f"--ignore-signal={RELAYED_SIGNALS}", bwrap,
        *(roots if roots is not None else ["--bind", "/", "/"]),  # the user's files stay as they are, writable
        "--dev-bind", "/dev", "/dev",  # terminals, /dev/null, /dev/shm
        "--unshare-pid", "--proc", "/proc",  # /proc/1/root no longer leads out of the sandbox
        "--die-with-parent",
        "--cap-drop", "ALL",           # as root, without it `umount /run/docker.sock` brings the daemon back
        "--ro-bind", session_dir, session_dir,  # stubs, hooks and the record cannot be rewritten
        *writable,
    ]
    # The kernel's and the engines' controls stay read-only: as root without capabilities the
    # session still owns root's files (core_pattern runs a program as host root; cgroupfs
    # freezes a container).
    for path in read_only:
        argv += ["--ro-bind", path, path]
    for directory in hidden_dirs:
        argv += ["--tmpfs", directory]
    for path in hidden:
        argv += ["--ro-bind", "/dev/null", path]
    guard = str(Path(session_dir) / GUARD_SOCKET)
    for path in guarded:
        argv += ["--bind", guard, path]
    argv += ["--chdir", cwd, "--", "env", f"--default-signal={RELAYED_SIGNALS}", "--", *command]
    return argv


def pinned_files(homes: Path) -> list[str]:
    """The regular files under the assistants' session homes: at launch, only those the launcher wrote
    (everything else there is a link to the user's own, or a directory)."""
    pinned = []
    for directory, _, files in os.walk(homes):
        pinned += [os.path.join(directory, f) for f in sorted(files) if not os.path.islink(os.path.join(directory, f))]
    return pinned


def writable_homes(session_dir: str) -> list[str]:
    """Bind options that let an assistant write in its session home (it keeps state there) while
    the files that carry our hook stay as the launcher wrote them.

    Every directory the launcher made there is bound onto itself: a mount point cannot be
    renamed, so the assistant cannot move the directory aside and put a hookless copy in its place."""
    homes = Path(session_dir) / HOMES_DIR
    if not homes.is_dir():
        return []
    options: list[str] = []
    for directory, subdirectories, _ in os.walk(homes):  # top-down; links to the user's own are not followed
        subdirectories.sort()
        options += ["--bind", directory, directory]
    for path in pinned_files(homes):
        options += ["--ro-bind", path, path]
    return options


# Laid in by bubblewrap options of their own.
_OWN_MOUNTS = frozenset({"/proc", "/dev", "/sys"})


def root_binds(hidden_dirs: list[str]) -> list[str]:
    """Bind options that lay in the filesystem, every directory to be hidden left out.

    Binding / whole also binds every mount below it, the engines' container
    mounts included, which come and go as containers start and stop: bubblewrap
    then fails now and then ("Unable to apply mount flags"). The directories on
    the way to a hidden one are made anew and their other entries bound one by one.
    """
    hidden = set(hidden_dirs)
    on_the_way = {str(parent) for d in hidden_dirs for parent in Path(d).parents}
    options: list[str] = []

    def lay(directory: str) -> None:
        try:
            names = sorted(os.listdir(directory))
        except OSError:
            return
        for name in names:
            path = os.path.join(directory, name)
            if path in hidden or path in _OWN_MOUNTS:
                continue
            if os.path.islink(path):
                options.extend(["--symlink", os.readlink(path), path])
            elif path in on_the_way and os.path.isdir(path):
                options.extend(["--dir", path])
                lay(path)
            else:
                options.extend(["--bind", path, path])

    if not hidden:
        return ["--bind", "/", "/"]
    lay("/")
    return options


def plan(session, environ=os.environ) -> tuple[list[str], list[str], list[str], list[str]]:
    """(guarded paths, hidden sockets, hidden directories, warnings) for this machine, links resolved."""
    home = environ.get("HOME") or os.path.expanduser("~")
    warnings: list[str] = []
    upstream = real_path(daemon_socket(session.docker_env, home))  # raises UnsupportedDaemon
    guarded = []
    for path in dict.fromkeys([upstream, real_path("/var/run/docker.sock")]):
        if os.path.exists(path):
            guarded.append(path)
        elif path == upstream:
            warnings.append(f"the daemon's socket {path} does not exist yet; a daemon started later would be reachable directly")
    hidden_dirs = [d for d in dict.fromkeys(real_path(d) for d in (*ENGINE_DIRS, *engine_state_dirs()))
                   if os.path.isdir(d)]
    hidden = []
    for path in engine_sockets(home, environ.get("XDG_RUNTIME_DIR"), session.docker_env):
        resolved = real_path(path)
        if resolved in guarded or resolved in hidden or not os.path.exists(resolved):
            continue
        if any(resolved.startswith(d + "/") for d in hidden_dirs):
            continue  # under a directory hidden whole
        hidden.append(resolved)
    # A guarded path inside a hidden directory is created in its tmpfs by bubblewrap: keep the order.
    return guarded, hidden, hidden_dirs, warnings


def isolate(command: list[str], session, profile_setting: str | None,
            environ=os.environ) -> tuple[list[str], str | None]:
    """(argv to run, a status line to print or None). Raises IsolationUnavailable under `required`."""
    setting = profile_setting or "auto"
    if setting == "off":
        return command, None
    reason = None
    bwrap = bwrap_path(environ)
    if bwrap is None:
        reason = "bubblewrap (bwrap) is not installed" + (" at WINGMAN_BWRAP" if environ.get("WINGMAN_BWRAP") is not None else " on PATH")
    else:
        reason = bwrap_works(bwrap)
    guarded: list[str] = []
    if reason is None:
        try:
            guarded, hidden, hidden_dirs, warnings = plan(session, environ)
        except UnsupportedDaemon as exc:
            reason = str(exc)
        else:
            if not guarded:
                reason = "; ".join(warnings) or "no daemon socket to put the guard in front of"
    if reason is not None:
        if setting == "required":
            raise IsolationUnavailable(f"isolation is required by the profile, and {reason}; nothing was started")
        return command, (f"wingman-run: warning: no OS isolation ({reason}); open until it is on: {OPEN_ROWS}."
                         " Set isolation: required in the profile to refuse such sessions.")
    argv = bwrap_argv(bwrap, command, session.dir, guarded, hidden, hidden_dirs, os.getcwd(),
                      shutil.which("env") or "/usr/bin/env", tuple(p for p in READ_ONLY if os.path.exists(p)),
                      root_binds(hidden_dirs), writable_homes(session.dir))
    note = ("wingman-run: warning: " + "; ".join(warnings)) if warnings else None
    if note and setting == "required":
        raise IsolationUnavailable(f"isolation is required by the profile, and {'; '.join(warnings)}; nothing was started")
    return argv, note


# ---- macOS: sandbox-exec cannot bind a socket over another, so it denies the real ones and the
# ---- session's DOCKER_HOST points at the guard.

def macos_socket_rules(home: str) -> list[str]:
    """sandbox-exec filters for every place a Docker engine listens on a Mac."""
    def q(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    def rx(text: str) -> str:
        return "#" + q(text)

    import re

    escaped = re.escape(home)
    return [
        f"(path-literal {q('/var/run/docker.sock')})",
        f"(path-literal {q('/private/var/run/docker.sock')})",
        f"(path-literal {q(home + '/.docker/run/docker.sock')})",
        f"(path-literal {q(home + '/.docker/desktop/docker.sock')})",
        f"(path-literal {q(home + '/.orbstack/run/docker.sock')})",
        f"(path-literal {q(home + '/.rd/docker.sock')})",
        f"(regex {rx('^' + escaped + '/[.]colima/[^/]+/docker[.]sock$')})",
        f"(regex {rx('^' + escaped + '/[.]lima/[^/]+/sock/docker[.]sock$')})",
        f"(regex {rx('^' + escaped + '/[.]local/share/containers/podman/machine/.*[.]sock$')})",
    ]


def macos_profile(session_dir: str, home: str, pinned: list[str] = ()) -> str:
    """The sandbox-exec profile text: everything allowed but the engines' sockets and writes to the session."""
    def q(text: str) -> str:
        return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'

    lines = ["(version 1)", "(allow default)", ";; the real engines: only the guard reaches them"]
    for rule in macos_socket_rules(home):
        lines.append(f"(deny network-outbound (remote unix-socket {rule}))")
        lines.append(f"(deny file-read* file-write* {rule})")
    lines += [
        ";; the session's stubs, hooks and record stay as the launcher wrote them",
        f"(deny file-write* (subpath {q(session_dir)}))",
        ";; except an assistant's session home, where it keeps state; the files that carry our hook stay",
        f"(allow file-write* (subpath {q(str(Path(session_dir) / HOMES_DIR))}))",
        *(f"(deny file-write* (literal {q(path)}))" for path in pinned),
        f"(allow network-outbound (remote unix-socket (path-literal {q(str(Path(session_dir) / GUARD_SOCKET))})))",
    ]
    return "\n".join(lines) + "\n"


def macos_isolate(command: list[str], session_dir: str, home: str) -> tuple[list[str], dict[str, str]]:
    """(argv, environment additions) for a Mac: sandbox-exec, and DOCKER_HOST at the guard."""
    pinned = pinned_files(Path(session_dir) / HOMES_DIR)
    argv = ["/usr/bin/sandbox-exec", "-p", macos_profile(session_dir, home, pinned), *command]
    return argv, {"DOCKER_HOST": f"unix://{Path(session_dir) / GUARD_SOCKET}"}
