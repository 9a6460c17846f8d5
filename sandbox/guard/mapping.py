"""Docker Engine API call -> the rule its CLI form hits. Pure: method, path, query and body in, a Call out.

The daemon routes on the percent-decoded path, with or without a `/v1.41`
version prefix, and reads JSON keys case-insensitively (Go's encoding/json),
so this module does the same before it matches anything. Anything it cannot
read with certainty is not a read: it maps to a rule the broker decides on.
"""

from __future__ import annotations

import json
import posixpath
import re
from dataclasses import dataclass
from typing import Callable, Iterable
from urllib.parse import parse_qsl, unquote

# A body this large is not a create call the CLI or an SDK sends; it is not read, and not let through unread.
MAX_CHECKED_BODY = 1 << 20
SHOWN_QUERY_LIMIT = 200


@dataclass(frozen=True)
class Call:
    """What one API request does, as the policy names it.

    rules empty: a read (or a call that changes nothing, like a tty resize),
    forwarded without asking. Otherwise every rule must be allowed.
    """

    rules: tuple[str, ...]
    targets: tuple[str, ...]
    shown: str

    @property
    def is_read(self) -> bool:
        return not self.rules


_VERSION = re.compile(r"^/v[0-9][0-9.]*(?=/)")
_ID = r"([^/]+)"
_ANY = r"(.+)"  # image and plugin names hold slashes: registry:5000/org/name:tag


def _routes() -> list[tuple[str, re.Pattern, str | None, str]]:
    """(method, path pattern, rule or None for a passive call, how targets are found)."""
    table = [
        # Containers
        ("POST", r"/containers/create", "docker.container.create", "create"),
        ("POST", r"/containers/prune", "docker.container.prune", ""),
        ("POST", rf"/containers/{_ID}/start", "docker.container.start", "path"),
        ("POST", rf"/containers/{_ID}/stop", "docker.container.stop", "path"),
        ("POST", rf"/containers/{_ID}/restart", "docker.container.restart", "path"),
        ("POST", rf"/containers/{_ID}/kill", "docker.container.kill", "path"),
        ("POST", rf"/containers/{_ID}/pause", "docker.container.pause", "path"),
        ("POST", rf"/containers/{_ID}/unpause", "docker.container.unpause", "path"),
        ("POST", rf"/containers/{_ID}/update", "docker.container.update", "path"),
        ("POST", rf"/containers/{_ID}/rename", "docker.container.rename", "path+name"),
        ("POST", rf"/containers/{_ID}/attach", "docker.container.attach", "path"),
        ("GET", rf"/containers/{_ID}/attach/ws", "docker.container.attach", "path"),
        ("POST", rf"/containers/{_ID}/exec", "docker.container.exec", "path"),
        ("POST", rf"/containers/{_ID}/checkpoints", "docker.checkpoint.create", "path"),
        ("DELETE", rf"/containers/{_ID}/checkpoints/{_ID}", "docker.checkpoint.rm", "path"),
        ("PUT", rf"/containers/{_ID}/archive", "docker.container.cp", "path"),
        ("DELETE", rf"/containers/{_ID}", "docker.container.rm", "path"),
        ("POST", rf"/containers/{_ID}/wait", None, "path"),
        ("POST", rf"/containers/{_ID}/resize", None, "path"),
        ("POST", rf"/exec/{_ID}/start", "docker.container.exec", "path"),
        ("POST", rf"/exec/{_ID}/resize", None, "path"),
        ("POST", r"/commit", "docker.container.commit", "query:container"),
        # Images and builds
        ("POST", r"/build", "docker.image.build", "query:t"),
        ("POST", r"/build/prune", "docker.builder.prune", ""),
        ("POST", r"/build/cancel", "docker.image.build", ""),
        ("POST", r"/session", "docker.image.build", ""),
        ("POST", r"/grpc", "docker.image.build", ""),
        ("POST", r"/images/create", "docker.image.pull", "query:fromImage"),
        ("POST", r"/images/load", "docker.image.load", ""),
        ("POST", r"/images/prune", "docker.image.prune", ""),
        ("POST", rf"/images/{_ANY}/push", "docker.image.push", "path"),
        ("POST", rf"/images/{_ANY}/tag", "docker.image.tag", "path"),
        ("DELETE", rf"/images/{_ANY}", "docker.image.rm", "path"),
        ("POST", r"/auth", "docker.login", ""),
        # Volumes and networks
        ("POST", r"/volumes/create", "docker.volume.create", "volume"),
        ("POST", r"/volumes/prune", "docker.volume.prune", ""),
        ("PUT", rf"/volumes/{_ID}", "docker.volume.update", "path"),
        ("DELETE", rf"/volumes/{_ID}", "docker.volume.rm", "path"),
        ("POST", r"/networks/create", "docker.network.create", ""),
        ("POST", r"/networks/prune", "docker.network.prune", ""),
        ("POST", rf"/networks/{_ID}/connect", "docker.network.connect", "path"),
        ("POST", rf"/networks/{_ID}/disconnect", "docker.network.disconnect", "path"),
        ("DELETE", rf"/networks/{_ID}", "docker.network.rm", "path"),
        # Swarm
        ("POST", r"/swarm/init", "docker.swarm.init", ""),
        ("POST", r"/swarm/join", "docker.swarm.join", ""),
        ("POST", r"/swarm/leave", "docker.swarm.leave", ""),
        ("POST", r"/swarm/update", "docker.swarm.update", ""),
        ("POST", r"/swarm/unlock", "docker.swarm.unlock", ""),
        ("POST", r"/services/create", "docker.service.create", "service"),
        ("POST", rf"/services/{_ID}/update", "docker.service.update", "path"),
        ("DELETE", rf"/services/{_ID}", "docker.service.rm", "path"),
        ("POST", rf"/nodes/{_ID}/update", "docker.node.update", "path"),
        ("DELETE", rf"/nodes/{_ID}", "docker.node.rm", "path"),
        ("POST", r"/secrets/create", "docker.secret.create", ""),
        ("DELETE", rf"/secrets/{_ID}", "docker.secret.rm", "path"),
        ("POST", r"/configs/create", "docker.config.create", ""),
        ("DELETE", rf"/configs/{_ID}", "docker.config.rm", "path"),
        # Plugins
        ("POST", r"/plugins/pull", "docker.plugin.install", "query:remote"),
        ("POST", r"/plugins/create", "docker.plugin.create", "query:name"),
        ("POST", rf"/plugins/{_ANY}/enable", "docker.plugin.enable", "path"),
        ("POST", rf"/plugins/{_ANY}/disable", "docker.plugin.disable", "path"),
        ("POST", rf"/plugins/{_ANY}/upgrade", "docker.plugin.upgrade", "path"),
        ("POST", rf"/plugins/{_ANY}/push", "docker.plugin.push", "path"),
        ("POST", rf"/plugins/{_ANY}/set", "docker.plugin.set", "path"),
        ("DELETE", rf"/plugins/{_ANY}", "docker.plugin.rm", "path"),
    ]
    return [(m, re.compile(p + r"$"), rule, how) for m, p, rule, how in table]


ROUTES = _routes()
UNKNOWN = "docker.unknown"
READ_METHODS = ("GET", "HEAD")

# Rules whose CLI form does several API calls: an approval or a grant for the key covers the calls'
# rules (for the broker: `docker system prune` calls every prune endpoint, `compose down` stops and removes).
COVERED_BY: dict[str, tuple[str, ...]] = {
    "docker.container.prune": ("docker.system.prune",),
    "docker.image.prune": ("docker.system.prune",),
    "docker.network.prune": ("docker.system.prune",),
    "docker.volume.prune": ("docker.system.prune",),
    "docker.builder.prune": ("docker.system.prune", "docker.buildx.prune"),
    "docker.container.stop": ("docker.compose.down", "docker.compose.down.volumes", "docker.compose.stop", "docker.compose.rm", "docker.compose.up"),
    "docker.container.kill": ("docker.compose.kill", "docker.compose.down", "docker.compose.down.volumes"),
    "docker.container.restart": ("docker.compose.restart",),
    "docker.container.pause": ("docker.compose.pause",),
    "docker.container.rm": ("docker.compose.down", "docker.compose.down.volumes", "docker.compose.rm", "docker.compose.up"),
    "docker.container.rename": ("docker.compose.up",),
    "docker.network.rm": ("docker.compose.down", "docker.compose.down.volumes"),
    "docker.volume.rm": ("docker.compose.down.volumes", "docker.compose.up.renew_volumes"),
    "docker.image.rm": ("docker.compose.down.volumes",),
    "docker.image.push": ("docker.compose.push",),
}


def split_target(target: str) -> tuple[str, str]:
    """(raw path, raw query) of an origin-form request target."""
    path, _, query = target.partition("?")
    return path, query


def route_path(raw_path: str) -> str | None:
    """The path the daemon routes on: decoded, without the version prefix. None when not canonical.

    The daemon's router redirects an unclean path (`//`, `/./`, `/../`) instead of
    serving it; such a path is never forwarded for a mutating call.
    """
    if not raw_path.startswith("/"):
        return None
    path = unquote(raw_path, errors="strict") if "%" in raw_path else raw_path
    if path != posixpath.normpath(path) and path.rstrip("/") != posixpath.normpath(path):
        return None
    if "//" in path or "\0" in path:
        return None
    path = _VERSION.sub("", path, count=1)
    return path.rstrip("/") or "/"


def needs_body(method: str, raw_path: str) -> bool:
    """Whether the decision depends on the request's JSON body."""
    if method != "POST":
        return False
    path = route_path(raw_path)
    return path in ("/containers/create", "/volumes/create", "/services/create")


def classify(method: str, target: str, body: bytes | None = None,
             resolve: Callable[[str], str] = lambda p: p,
             engine_sockets: Iterable[str] = ()) -> Call:
    """The rules one API request falls under.

    resolve turns a host path into the one the daemon will use (symlinks
    followed); engine_sockets are extra socket paths to protect (the session's daemon).
    """
    raw_path, raw_query = split_target(target)
    shown = f"{method} {raw_path}" + (f"?{raw_query[:SHOWN_QUERY_LIMIT]}" if raw_query else "")
    try:
        path = route_path(raw_path)
    except UnicodeDecodeError:
        path = None
    if path is None:
        return Call(() if method in READ_METHODS else (UNKNOWN,), (), shown + " (path not canonical)")
    if method in READ_METHODS and not path.endswith("/attach/ws"):
        return Call((), (), shown)  # the hot path: reads change nothing (the websocket attach writes)
    query = dict(reversed(parse_qsl(raw_query, keep_blank_values=True)))  # the first value wins, as in Go
    for route_method, pattern, rule, how in ROUTES:
        if route_method != method:
            continue
        match = pattern.match(path)
        if not match:
            continue
        targets = _targets(how, match, query)
        if rule is None:
            return Call((), targets, shown)
        rules = (rule,)
        if how in ("create", "volume", "service"):
            risks = _body_risks(how, body, resolve, tuple(engine_sockets))
            if risks is None:
                return Call((UNKNOWN,), targets, shown + " (body not readable: too large, chunked past the limit or not JSON)")
            if risks:
                rules = tuple(f"docker.container.create.{r}" for r in risks)
                shown += " (" + ", ".join(r.replace("_", " ") for r in risks) + ")"
        return Call(rules, targets, shown)
    if method in READ_METHODS:
        return Call((), (), shown)
    return Call((UNKNOWN,), (), shown)


def _targets(how: str, match: re.Match, query: dict[str, str]) -> tuple[str, ...]:
    if how.startswith("path"):
        found = list(match.groups())
        if how == "path+name" and query.get("name"):
            found.append(query["name"])
        return tuple(found)
    if how.startswith("query:"):
        value = query.get(how.split(":", 1)[1])
        return (value,) if value else ()
    if how in ("create", "volume", "service") and query.get("name"):
        return (query["name"],)
    return ()


# ---- request bodies: Go reads JSON keys case-insensitively and merges repeated objects,
# ---- so every spelling and every repetition of a key counts.

class _Pairs(list):
    """A JSON object as its (key, value) pairs, repetitions kept."""

    def all(self, key: str) -> list:
        key = key.lower()
        return [v for k, v in self if k.lower() == key]


def _objects(node, key: str) -> list[_Pairs]:
    return [v for v in (node.all(key) if isinstance(node, _Pairs) else []) if isinstance(v, _Pairs)]


def _values(nodes: list, key: str) -> list:
    return [v for n in nodes if isinstance(n, _Pairs) for v in n.all(key)]


_RISK_ORDER = ("docker_socket", "host_mount", "privileged", "cap_sys_admin", "host_pid", "shared_pid", "host_network")


def _body_risks(how: str, body: bytes | None, resolve, engine_sockets) -> tuple[str, ...] | None:
    if body is None or len(body) > MAX_CHECKED_BODY:
        return None
    if not body.strip():
        return ()
    try:
        doc = json.loads(body, object_pairs_hook=_Pairs)
    except (ValueError, RecursionError):
        return None
    if not isinstance(doc, _Pairs):
        return None
    found: set[str | None] = set()
    bind_risk = lambda p, read_only=False: _bind_risk(p, read_only, resolve, engine_sockets)  # noqa: E731
    if how == "volume":
        found.update(bind_risk(d) for o in _objects(doc, "DriverOpts") for d in o.all("device") if isinstance(d, str))
    elif how == "create":
        hosts = _objects(doc, "HostConfig")
        for bind in _values(hosts, "Binds"):
            for entry in bind if isinstance(bind, list) else []:
                if isinstance(entry, str) and entry.startswith("/"):
                    source, _, rest = entry.partition(":")
                    found.add(bind_risk(source, "ro" in rest.partition(":")[2].split(",")))
        found.update(_mount_risks(_values(hosts, "Mounts"), bind_risk))
        if any(v is True for v in _values(hosts, "Privileged")):
            found.add("privileged")
        if any(_caps_too_wide(caps) for caps in _values(hosts, "CapAdd")):
            found.add("cap_sys_admin")
        if any(isinstance(v, str) and v.lower() == "host" for v in _values(hosts, "PidMode")):
            found.add("host_pid")
        # container:NAME joins another container's processes: with SYS_PTRACE (or as the same user) it can kill them.
        if any(isinstance(v, str) and v.lower().startswith("container:") for v in _values(hosts, "PidMode")):
            found.add("shared_pid")
        if any(isinstance(v, str) and v.lower() == "host" for v in _values(hosts, "NetworkMode")):
            found.add("host_network")
    elif how == "service":
        specs = _objects_path(doc, ("TaskTemplate", "ContainerSpec"))
        found.update(_mount_risks(_values(specs, "Mounts"), bind_risk))
        if any(_caps_too_wide(caps) for caps in _values(specs, "CapabilityAdd")):
            found.add("cap_sys_admin")
    return tuple(r for r in _RISK_ORDER if r in found)  # a bind that risks nothing added None: not in the order


def _objects_path(doc: _Pairs, keys: tuple[str, ...]) -> list[_Pairs]:
    nodes = [doc]
    for key in keys:
        nodes = [o for n in nodes for o in _objects(n, key)]
    return nodes


def _mount_risks(mount_lists: list, bind_risk) -> set[str | None]:
    found: set[str | None] = set()
    for mounts in mount_lists:
        for mount in mounts if isinstance(mounts, list) else []:
            if not isinstance(mount, _Pairs):
                continue
            read_only = any(v is True for v in mount.all("ReadOnly"))
            found.update(bind_risk(s, read_only) for s in mount.all("Source") if isinstance(s, str) and s.startswith("/"))
            # A volume of the local driver can be a bind in disguise: o=bind, device=/run.
            for options in _objects_path(mount, ("VolumeOptions", "DriverConfig", "Options")):
                found.update(bind_risk(d) for d in options.all("device") if isinstance(d, str))
    return found


def _bind_risk(source: str, read_only: bool, resolve, engine_sockets) -> str | None:
    """What a bind of this host path hands a container: an engine's socket, the host's control, or nothing (None).

    One rule per bind: a socket is the sharper reason, so a bind of / or /run names only that.
    """
    if touches_engine_socket(source, resolve, engine_sockets):
        return "docker_socket"
    if touches_host_control(source, read_only, resolve):
        return "host_mount"
    return None


def _caps_too_wide(caps) -> bool:
    if not isinstance(caps, list):
        return False
    return any(isinstance(c, str) and c.upper().removeprefix("CAP_") in ("SYS_ADMIN", "ALL") for c in caps)


# Directories that hold an engine's socket on some system, and socket names engines use.
ENGINE_SOCKET_DIRS = frozenset({
    "/", "/run", "/var", "/var/run", "/run/user", "/run/docker", "/run/containerd", "/run/podman",
    "/run/crio", "/var/run/docker", "/var/run/containerd", "/var/run/podman", "/var/run/crio",
})
_SOCKET_NAME = re.compile(r"(docker|containerd|podman|crio|dockershim)[\w.-]*\.sock(\.ttrpc)?$")


def touches_engine_socket(source: str, resolve=lambda p: p, engine_sockets: Iterable[str] = ()) -> bool:
    """Whether a bind of this host path hands a container an engine's socket, or a directory that holds one."""
    candidates = {posixpath.normpath(source)}
    try:
        candidates.add(posixpath.normpath(resolve(source)))
    except (OSError, ValueError):
        return True  # cannot tell where it leads: treat it as the worst case
    for path in candidates:
        if path in ENGINE_SOCKET_DIRS or _SOCKET_NAME.search(posixpath.basename(path)):
            return True
        for sock in engine_sockets:
            sock = posixpath.normpath(sock)
            if path == sock or (sock.startswith(path.rstrip("/") + "/") and path.startswith(("/run/", "/var/run/"))):
                return True
    return False


# Host paths whose bind lets a container stop other containers, wipe the engine's data or take
# over the host: the engine's state and runtime sockets (containerd shims, runc), cgroups,
# kernel interfaces, devices, boot files and the host's configuration.
HOST_CONTROL_PATHS = ("/run", "/var/run", "/var/lib/docker", "/var/lib/containerd", "/sys", "/proc", "/etc", "/dev",
                      "/boot")
# Files of pure data that images commonly bind read-only; they control nothing.
_READ_ONLY_DATA = frozenset({"/etc/localtime", "/etc/timezone"})


def touches_host_control(source: str, read_only: bool = False, resolve=lambda p: p) -> bool:
    """Whether a bind of this host path is, holds or lies under a path that controls the host or its engine."""
    source = "/" + posixpath.normpath(source).lstrip("/")  # the daemon cleans //etc to /etc
    if read_only and source in _READ_ONLY_DATA:
        return False
    candidates = {source}
    try:
        candidates.add(posixpath.normpath(resolve(source)))
    except (OSError, ValueError):
        return True  # cannot tell where it leads: treat it as the worst case
    for path in candidates:
        if path == "/":
            return True
        for root in HOST_CONTROL_PATHS:
            if path == root or path.startswith(root + "/") or root.startswith(path.rstrip("/") + "/"):
                return True
    return False
