"""What the doctor says about the machine: the daemon and how it is reached, isolation, hooked shells,
Wingman and its keys (never their values), key and audit file permissions."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import urllib.parse
from pathlib import Path

from ..guard.endpoints import docker_config_dir
from ..monitor.engine import Daemon, get_json, ping

TCP_PROBES = (("127.0.0.1", 2375), ("127.0.0.1", 2376))


def daemon_facts(daemon: Daemon, docker_env: dict) -> dict:
    version = get_json(daemon, "/version") or {}
    return {"endpoint": daemon.describe(), "via": "unix socket" if daemon.unix else "tcp",
            "answers": ping(daemon), "version": version.get("Version"), "api": version.get("ApiVersion"),
            "tcp_reachable": tcp_endpoints(docker_env)}


def tcp_endpoints(docker_env: dict) -> list[str]:
    """TCP endpoints of a daemon that answer from here: a mount namespace cannot hide those."""
    candidates = list(TCP_PROBES)
    home = os.path.expanduser("~")
    hosts = [docker_env.get("DOCKER_HOST", "")]
    for meta in (docker_config_dir(docker_env, home) / "contexts" / "meta").glob("*/meta.json"):
        try:
            hosts.append(json.loads(meta.read_text())["Endpoints"]["docker"]["Host"])
        except (OSError, ValueError, KeyError, TypeError):
            continue
    for host in hosts:
        parts = urllib.parse.urlsplit(host or "")
        if parts.scheme == "tcp" and parts.hostname:
            candidates.append((parts.hostname, parts.port or 2375))
    out = []
    for host, port in dict.fromkeys(candidates):
        try:
            with socket.create_connection((host, port), timeout=0.3):
                out.append(f"tcp://{host}:{port}")
        except OSError:
            continue
    return out


def shells(child_env: dict, session_dir: str) -> dict[str, str]:
    """Each shell here: hooked (and how) or not."""
    out = {}
    if shutil.which("bash"):
        out["bash"] = "hooked (BASH_ENV, --rcfile)" if child_env.get("BASH_ENV", "").startswith(session_dir) \
            else "NOT hooked"
    if shutil.which("zsh"):
        out["zsh"] = "hooked (ZDOTDIR)" if child_env.get("ZDOTDIR", "").startswith(session_dir) else "NOT hooked"
    for name in ("dash", "fish", "busybox", "ksh"):
        if shutil.which(name):
            out[name] = "not hooked (the stubs and the guard still apply)"
    return out


def wingman_facts(profile, environ) -> dict:
    from ..approvals.client import LEGACY_KEY_HEADER, READ_KEY_HEADER, REQUEST_KEY_HEADER, WingmanClient, WingmanError
    from ..approvals.config import ApprovalConfigError, load_settings
    from ..session.profiles import user_config_dir

    try:
        settings = load_settings(profile.approvals, environ, user_config_dir())
    except ApprovalConfigError as exc:
        return {"configured": True, "problem": str(exc)}
    if settings is None:
        return {"configured": False}
    client = WingmanClient(settings)
    facts = {"configured": True, "url": settings.url}
    try:
        code, _ = client._call("GET", "/health", {}, None)
        facts["reachable"] = code == 200
    except WingmanError as exc:
        return {**facts, "reachable": False, "problem": exc.message}
    # Probes that change nothing: an empty request (400 once the key is accepted) and an unknown id (404).
    probes = (("request_key", "POST", "/approvals/request", REQUEST_KEY_HEADER, settings.request_key or settings.legacy_key,
               {}, (400, 422)),
              ("read_key", "GET", "/approvals/wingman-doctor-probe", READ_KEY_HEADER, settings.read_key or settings.legacy_key,
               None, (404,)))
    for name, method, path, header, value, body, good in probes:
        if not value:
            facts[name] = "not set"
            continue
        header = header if value != settings.legacy_key else LEGACY_KEY_HEADER
        try:
            code, _ = client._call(method, path, {header: value}, body)
        except WingmanError as exc:
            facts[name] = f"unknown ({exc.kind})"
            continue
        facts[name] = "accepted" if code in good else ("refused" if code in (401, 403) else f"unknown ({code})")
    return facts


def permissions(profile, audit_path: Path) -> dict:
    from ..session.profiles import user_config_dir

    key_file = (profile.approvals.get("wingman") or {}).get("key_file")
    key_path = Path(os.path.expanduser(key_file)) if key_file else user_config_dir() / "wingman-keys"
    return {"audit_log": _mode(audit_path, private=0o600), "audit_dir": _mode(audit_path.parent, private=0o700),
            "key_file": _mode(key_path, private=0o600)}


def _mode(path: Path, private: int) -> dict:
    try:
        info = path.stat()
    except OSError:
        return {"path": str(path), "exists": False}
    mode = stat.S_IMODE(info.st_mode)
    return {"path": str(path), "exists": True, "mode": f"{mode:04o}", "private": mode & 0o077 == 0,
            "owner_is_you": info.st_uid == os.getuid()}


