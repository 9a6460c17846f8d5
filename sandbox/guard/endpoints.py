"""Where container engines listen: the session's daemon, and every other socket a session must not reach.

The guard forwards to the daemon the session recorded (DOCKER_HOST, or the
docker context pinned by name when the session started); OS isolation puts
the guard's socket over that path and over /run/docker.sock, and hides the
others.
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
from pathlib import Path

DEFAULT_SOCKET = "/var/run/docker.sock"


class UnsupportedDaemon(Exception):
    """The session's daemon is not one the guard can stand in front of (TCP, SSH)."""


def docker_config_dir(docker_env: dict[str, str], home: str) -> Path:
    return Path(docker_env.get("DOCKER_CONFIG") or Path(home) / ".docker")


def context_host(name: str, config_dir: Path) -> str | None:
    """The docker endpoint of a named context, from its meta.json (the CLI stores it under sha256(name))."""
    digest = hashlib.sha256(name.encode()).hexdigest()
    try:
        meta = json.loads((config_dir / "contexts" / "meta" / digest / "meta.json").read_text())
        return meta["Endpoints"]["docker"]["Host"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def unix_path(host: str, what: str) -> str:
    if host.startswith("unix://"):
        path = host[len("unix://"):]
        if path.startswith("/"):
            return path
    raise UnsupportedDaemon(
        f"the session's daemon is {what} = {host}; the Docker API guard stands only in front of a"
        " local Unix socket (unix:///path), so this daemon cannot be guarded")


def daemon_socket(docker_env: dict[str, str], home: str) -> str:
    """The Unix socket of the session's daemon, as the session recorded it."""
    host = docker_env.get("DOCKER_HOST")
    if host:
        return unix_path(host, "DOCKER_HOST")
    name = docker_env.get("DOCKER_CONTEXT") or "default"
    if name == "default":
        return DEFAULT_SOCKET
    found = context_host(name, docker_config_dir(docker_env, home))
    if found is None:
        raise UnsupportedDaemon(f"the session's docker context '{name}' has no readable endpoint in {docker_config_dir(docker_env, home)}")
    return unix_path(found, f"the endpoint of context '{name}'")


def context_sockets(config_dir: Path) -> list[str]:
    """The Unix endpoints of every docker context the user has."""
    found = []
    for meta in sorted(glob.glob(str(config_dir / "contexts" / "meta" / "*" / "meta.json"))):
        try:
            host = json.loads(Path(meta).read_text())["Endpoints"]["docker"]["Host"]
        except (OSError, ValueError, KeyError, TypeError):
            continue
        if isinstance(host, str) and host.startswith("unix:///"):
            found.append(host[len("unix://"):])
    return found


def engine_sockets(home: str, runtime_dir: str | None, docker_env: dict[str, str]) -> list[str]:
    """Every path where a container engine may listen on this machine (Linux), existing or not."""
    paths = [
        "/run/docker.sock", "/var/run/docker.sock",
        "/run/containerd/containerd.sock", "/run/containerd/containerd.sock.ttrpc",
        "/run/docker/containerd/containerd.sock",
        "/run/podman/podman.sock", "/run/crio/crio.sock", "/run/buildkit/buildkitd.sock",
        f"{home}/.docker/run/docker.sock", f"{home}/.docker/desktop/docker.sock",
        f"{home}/.orbstack/run/docker.sock", f"{home}/.rd/docker.sock",
        *glob.glob(f"{home}/.colima/*/docker.sock"), *glob.glob(f"{home}/.lima/*/sock/docker.sock"),
        *glob.glob("/run/user/*/docker.sock"), *glob.glob("/run/user/*/podman/podman.sock"),
        *glob.glob("/run/user/*/containerd-rootless/*.sock"),
    ]
    if runtime_dir:
        paths += [f"{runtime_dir}/docker.sock", f"{runtime_dir}/podman/podman.sock"]
    paths += context_sockets(docker_config_dir(docker_env, home))
    if docker_env.get("DOCKER_HOST", "").startswith("unix:///"):
        paths.append(docker_env["DOCKER_HOST"][len("unix://"):])
    seen, out = set(), []
    for path in paths:
        if path not in seen:
            seen.add(path)
            out.append(path)
    return out


# Directories that only engines use: hidden whole inside an isolated session (shim and plugin sockets too).
ENGINE_DIRS = ("/run/containerd", "/run/docker", "/run/podman", "/run/crio", "/run/buildkit")


def real_path(path: str) -> str:
    """The path with every symlink resolved (/var/run -> /run), as a bind mount needs it."""
    return os.path.realpath(path)
