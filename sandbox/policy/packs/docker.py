"""The docker pack: docker, docker compose, docker-compose and podman."""

from __future__ import annotations

from typing import Sequence

from ..context import Context
from ..verdict import Verdict
from .base import Hit, Pack, read_rule, risky_rule, work_rule
from .docker_grammar import CONTEXT_OPTIONS, GROUPS, HOST_OPTIONS, Parsed, has_flag, operands, parse_docker

R, W = "read", "work"
# Destructive actions: (reason, safer alternative).
_DESTRUCTIVE: dict[str, tuple[str, str | None]] = {
    "container.stop": ("stops a running container; whatever it serves goes down", "docker ps / docker logs to diagnose; ask the user before stopping anything"),
    "container.kill": ("kills a container's processes without a clean shutdown", "docker logs or docker exec to diagnose"),
    "container.restart": ("restarts a container, dropping its connections and in-memory state", "docker logs to diagnose; ask the user to restart it"),
    "container.pause": ("freezes every process of a container", "docker stats or docker top to look at it"),
    "container.rm": ("removes a container and everything in its writable layer", "docker ps -a to list; leave removal to the user"),
    "container.update": ("changes a running container's resources or restart policy", "docker inspect to read its settings"),
    "container.rename": ("renames a container that scripts and compose files refer to by name", None),
    "container.prune": ("removes every stopped container", "docker ps -a --filter status=exited to list them"),
    "image.rm": ("removes an image; rebuilding or pulling it again may not give the same bytes", "docker images to list; docker image prune --filter with the user's consent"),
    "image.prune": ("removes unused (with -a: all unreferenced) images", "docker system df to see what takes space"),
    "image.push": ("publishes an image to a registry, possibly overwriting a tag others use", "docker tag to a new tag and let the user push"),
    "volume.rm": ("deletes a volume and the data in it, with no undo", "docker volume inspect; back the data up first"),
    "volume.prune": ("deletes every volume no container uses, data included", "docker volume ls -f dangling=true to list them"),
    "volume.update": ("changes a cluster volume", None),
    "network.rm": ("removes a network that containers may rely on", "docker network inspect"),
    "network.prune": ("removes every network no container uses", "docker network ls"),
    "network.disconnect": ("cuts a container off a network it serves on", "docker network inspect"),
    "system.dial-stdio": ("hands a raw connection to the daemon to whatever writes to its input: any API call, none judged here", "run the docker command itself, which is judged call by call"),
    "system.prune": ("removes stopped containers, unused networks, images and build cache (with --volumes: volume data)", "docker system df to see what takes space"),
    "builder.prune": ("removes build cache", "docker system df"),
    "builder.rm": ("removes a builder instance", None),
    "builder.stop": ("stops a builder instance", None),
    "buildx.prune": ("removes build cache", "docker buildx du"),
    "buildx.rm": ("removes a builder instance", None),
    "buildx.stop": ("stops a builder instance", None),
    "context.rm": ("removes a docker context", None),
    "context.update": ("repoints a docker context at another daemon", None),
    "context.use": ("switches the daemon every later docker call talks to", "pass nothing: the session already targets the right daemon"),
    "plugin.disable": ("disables a plugin that volumes or networks may use", None),
    "plugin.install": ("installs a privileged plugin into the daemon", None),
    "plugin.push": ("publishes a plugin", None),
    "plugin.rm": ("removes a plugin", None),
    "plugin.set": ("changes a plugin's settings", None),
    "plugin.upgrade": ("replaces a plugin", None),
    "manifest.push": ("publishes a manifest list", None),
    "manifest.rm": ("removes a local manifest list", None),
    "swarm.init": ("turns this engine into a swarm manager", None),
    "swarm.join": ("joins this engine to a swarm", None),
    "swarm.leave": ("takes this engine out of its swarm", None),
    "swarm.update": ("changes the swarm's settings", None),
    "node.demote": ("demotes a swarm manager", None),
    "node.promote": ("promotes a swarm node", None),
    "node.rm": ("removes a node from the swarm", None),
    "node.update": ("changes a swarm node", None),
    "service.rm": ("removes a swarm service", "docker service ls"),
    "service.rollback": ("rolls a service back", None),
    "service.scale": ("changes how many replicas of a service run", None),
    "service.update": ("changes a running service", None),
    "stack.rm": ("removes a whole stack", "docker stack ps"),
    "secret.rm": ("removes a secret", None),
    "config.rm": ("removes a swarm config", None),
    "checkpoint.rm": ("removes a checkpoint", None),
    "trust.revoke": ("revokes signatures", None),
    "trust.sign": ("signs an image in a registry", None),
    "compose.down": ("stops and removes a project's containers and networks", "docker compose ps / logs; docker compose up -d restarts what changed"),
    "compose.down.volumes": ("stops a project and deletes its volumes (-v/--volumes) or images (--rmi), data included", "docker compose down without -v keeps the data; ask the user"),
    "compose.up.renew_volumes": ("recreates anonymous volumes (-V/--renew-anon-volumes), losing their data", "docker compose up -d without -V"),
    "compose.stop": ("stops a project's containers", "docker compose ps / logs"),
    "compose.rm": ("removes a project's stopped containers", "docker compose ps -a"),
    "compose.kill": ("kills a project's containers", "docker compose logs"),
    "compose.restart": ("restarts a project's containers", "docker compose logs"),
    "compose.pause": ("freezes a project's containers", None),
    "compose.scale": ("changes how many containers of a service run", None),
    "compose.push": ("publishes a project's images", None),
    "compose.publish": ("publishes a compose application", None),
}

_KINDS: dict[str, str] = {
    **{f"container.{s}": R for s in ("diff", "export", "inspect", "logs", "ls", "port", "stats", "top", "wait")},
    **{f"container.{s}": W for s in ("attach", "commit", "cp", "create", "exec", "run", "start", "unpause")},
    **{f"image.{s}": R for s in ("history", "inspect", "ls", "save")},
    **{f"image.{s}": W for s in ("build", "import", "load", "pull", "tag")},
    "volume.inspect": R, "volume.ls": R, "volume.create": W,
    "network.inspect": R, "network.ls": R, "network.create": W, "network.connect": W,
    "system.df": R, "system.events": R, "system.info": R,
    "builder.du": R, "builder.ls": R, "builder.inspect": R, "builder.version": R,
    "builder.build": W, "builder.use": W, "builder.create": W,
    **{f"buildx.{s}": R for s in ("du", "inspect", "ls", "version", "history", "imagetools")},
    **{f"buildx.{s}": W for s in ("bake", "build", "create", "use", "dial-stdio")},
    **{f"context.{s}": R for s in ("export", "inspect", "ls", "show")},
    "context.create": W, "context.import": W,
    **{f"scout.{s}": R for s in ("quickview", "cves", "recommendations", "compare", "sbom", "version", "policy")},
    "plugin.inspect": R, "plugin.ls": R, "plugin.create": W, "plugin.enable": W,
    "manifest.inspect": R, "manifest.annotate": W, "manifest.create": W,
    "swarm.ca": R, "swarm.join-token": R, "swarm.unlock-key": R, "swarm.unlock": W,
    "node.inspect": R, "node.ls": R, "node.ps": R,
    **{f"service.{s}": R for s in ("inspect", "logs", "ls", "ps")}, "service.create": W,
    **{f"stack.{s}": R for s in ("config", "ls", "ps", "services")}, "stack.deploy": W,
    "secret.inspect": R, "secret.ls": R, "secret.create": W,
    "config.inspect": R, "config.ls": R, "config.create": W,
    "checkpoint.ls": R, "checkpoint.create": W, "trust.inspect": R,
    **{f"compose.{s}": R for s in ("config", "events", "images", "logs", "ls", "port", "ps", "stats", "top", "version", "volumes", "help")},
    **{f"compose.{s}": W for s in ("attach", "build", "commit", "cp", "create", "exec", "export", "pull", "run", "start", "unpause", "up", "wait", "watch")},
    "inspect": R, "version": R, "help": R, "search": R, "login": W, "logout": W, "init": W,
}


def _build_rules():
    rules = {}
    for key, kind in _KINDS.items():
        rule_id = f"docker.{key}"
        what = "docker " + key.replace(".", " ")
        rules[rule_id] = (read_rule if kind == R else work_rule)(rule_id, what)
    for key, (reason, alternative) in _DESTRUCTIVE.items():
        rule_id = f"docker.{key}"
        rules[rule_id] = risky_rule(rule_id, reason, alternative)
    rules["docker.unknown"] = risky_rule(
        "docker.unknown", "a docker command this guard does not know; it may be destructive",
        "use a documented docker subcommand, or ask the user")
    rules["docker.host.override"] = risky_rule(
        "docker.host.override", "points docker at another daemon than the session's (-H, --host, --context, DOCKER_HOST)",
        "drop -H/--context: the session already talks to the right daemon", Verdict.DENY, Verdict.DENY)
    for key, (reason, alternative) in _HOST_ACCESS.items():
        rule_id = f"docker.container.create.{key}"
        rules[rule_id] = risky_rule(rule_id, reason, alternative)
    return rules


# Containers that reach past their own walls, seen in the API call that creates them
# (the Docker API guard): whoever runs inside such a container controls the host or its daemon.
_HOST_ACCESS: dict[str, tuple[str, str | None]] = {
    "docker_socket": ("mounts a container engine's socket (or a directory holding one: /, /run, /var/run) into a container, which then controls the daemon past every guard",
                      "mount only the project's files; ask the user if the container must drive docker"),
    "host_mount": ("mounts a host path that holds the engine's state or controls the host (/var/lib/docker, containerd's shim sockets under /run, /sys, /proc, /etc, /dev, /boot...)",
                   "mount a project directory or a named volume instead"),
    "privileged": ("creates a privileged container: every device and kernel capability of the host", "drop --privileged; add the one --cap-add or --device it needs"),
    "host_pid": ("shares the host's process namespace (--pid host): the container sees and can signal every process", "leave the container its own PID namespace"),
    "shared_pid": ("joins another container's process namespace (--pid container:NAME): it can see and, with SYS_PTRACE, kill that container's processes",
                   "leave the container its own PID namespace; docker exec into the other container to look at it"),
    "host_network": ("shares the host's network namespace (--network host): the container reaches every local service and port", "publish the ports it needs with -p"),
    "cap_sys_admin": ("adds CAP_SYS_ADMIN or ALL capabilities, as good as --privileged", "add only the narrow capability it needs"),
}


RULES = _build_rules()


def rule_key(parsed: Parsed) -> str:
    """The rule id a parsed command line falls under, before argument checks."""
    if not parsed.known:
        return "docker.unknown"
    key = ".".join(parsed.path)
    return f"docker.{key}" if f"docker.{key}" in RULES else "docker.unknown"


def classify(argv: Sequence[str], ctx: Context) -> list[Hit]:
    parsed = parse_docker(list(argv))
    hits: list[Hit] = []
    for opt, value in parsed.globals:
        if opt in HOST_OPTIONS and value is not None and not ctx.is_our_docker_host(value):
            hits.append(Hit("docker.host.override", f"{opt} {value}"))
        elif opt in CONTEXT_OPTIONS and value is not None and not ctx.is_our_docker_context(value):
            hits.append(Hit("docker.host.override", f"{opt} {value}"))
    rule = rule_key(parsed)
    if parsed.path == ("compose", "down") and (
        has_flag(parsed.args, "v", ("--volumes",), value_shorts="t") or any(a.startswith("--rmi") for a in parsed.args)
    ):
        rule = "docker.compose.down.volumes"
    elif parsed.path == ("compose", "up") and has_flag(parsed.args, "V", ("--renew-anon-volumes",), value_shorts="t"):
        rule = "docker.compose.up.renew_volumes"
    if parsed.known and _asks_for_help(parsed.args):
        rule = "docker.help"  # cobra prints the help and runs nothing
    hits.append(Hit(rule, parsed.problem or _targets(parsed)))
    return hits


def _asks_for_help(args: list[str]) -> bool:
    # Only --help: -h means --hostname to some subcommands (docker run -h). And only where it
    # cannot be an option's value: `service update --args --help x` updates x.
    words = args[:args.index("--")] if "--" in args else args
    return any(word == "--help" and (i == 0 or not words[i - 1].startswith("-") or "=" in words[i - 1])
               for i, word in enumerate(words))


# Options of destructive subcommands that take a value, so their values are not taken for targets.
_VALUE_OPTIONS = frozenset({"-t", "--time", "--timeout", "-s", "--signal", "--filter", "--platform", "-f", "--file", "-p", "--project-name"})


def _targets(parsed: Parsed) -> str | None:
    if parsed.path[0] == "compose" or len(parsed.path) < 2 or parsed.path[0] not in GROUPS:
        return None
    names = operands(parsed.args, _VALUE_OPTIONS if parsed.path[1] != "rm" else frozenset())
    return " ".join(names) if names else None


def parse_targets(argv: Sequence[str]) -> tuple[str, list[str]]:
    """(object kind, names) for the approval request: what the daemon will be asked to touch."""
    parsed = parse_docker(list(argv))
    if len(parsed.path) < 2 or parsed.path[0] == "compose":
        return ("project" if parsed.path[:1] == ("compose",) else "object"), []
    value_options = _VALUE_OPTIONS if parsed.path[1] != "rm" else frozenset()
    return parsed.path[0], operands(parsed.args, value_options)


PACK = Pack(
    name="docker",
    description="docker, docker compose, docker-compose and podman: stop, kill, rm, prune, volume and network removal",
    commands=frozenset({"docker", "docker-compose", "podman", "podman-compose"}),
    rules=RULES,
    classify=classify,
)
