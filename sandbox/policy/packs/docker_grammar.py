"""Docker's and Compose's command-line grammar, as data, and a parser over it."""

from __future__ import annotations

from dataclasses import dataclass, field

# Global options of the docker CLI (docker --help, Docker 28).
DOCKER_VALUE_OPTIONS = frozenset({
    "--config", "-c", "--context", "-H", "--host", "-l", "--log-level",
    "--tlscacert", "--tlscert", "--tlskey",
})
DOCKER_FLAG_OPTIONS = frozenset({"-D", "--debug", "--tls", "--tlsverify"})
HOST_OPTIONS = frozenset({"-H", "--host"})
CONTEXT_OPTIONS = frozenset({"-c", "--context"})

# Global options of compose v2 (`docker compose`) and v1 (`docker-compose`).
COMPOSE_VALUE_OPTIONS = frozenset({
    "-f", "--file", "-p", "--project-name", "--profile", "--project-directory",
    "--env-file", "--ansi", "--parallel", "--progress",
    # v1 only: it talks to the daemon itself.
    "-H", "--host", "-c", "--context", "--tlscacert", "--tlscert", "--tlskey", "--log-level",
})
COMPOSE_FLAG_OPTIONS = frozenset({
    "--compatibility", "--dry-run", "--all-resources", "--verbose", "--no-ansi",
    "--tls", "--tlsverify", "--skip-hostname-check",
})

# Management commands and their subcommands, with aliases -> canonical name.
GROUPS: dict[str, dict[str, str]] = {
    "container": {s: s for s in (
        "attach", "commit", "cp", "create", "diff", "exec", "export", "inspect", "kill",
        "logs", "ls", "pause", "port", "prune", "rename", "restart", "rm", "run", "start",
        "stats", "stop", "top", "unpause", "update", "wait")} | {"list": "ls", "ps": "ls", "remove": "rm"},
    "image": {s: s for s in (
        "build", "history", "import", "inspect", "load", "ls", "prune", "pull", "push",
        "rm", "save", "tag")} | {"list": "ls", "remove": "rm"},
    "volume": {s: s for s in ("create", "inspect", "ls", "prune", "rm", "update")} | {"list": "ls", "remove": "rm"},
    "network": {s: s for s in ("connect", "create", "disconnect", "inspect", "ls", "prune", "rm")} | {"list": "ls", "remove": "rm"},
    "system": {s: s for s in ("df", "events", "info", "prune", "dial-stdio")},
    "builder": {s: s for s in ("build", "prune", "du", "ls", "inspect", "use", "create", "rm", "stop", "version")},
    "buildx": {s: s for s in (
        "bake", "build", "create", "du", "inspect", "ls", "prune", "rm", "stop", "use",
        "version", "history", "imagetools", "dial-stdio")} | {"b": "build", "f": "bake"},
    "context": {s: s for s in ("create", "export", "import", "inspect", "ls", "rm", "show", "update", "use")} | {"list": "ls", "remove": "rm"},
    "plugin": {s: s for s in ("create", "disable", "enable", "inspect", "install", "ls", "push", "rm", "set", "upgrade")} | {"list": "ls", "remove": "rm"},
    "manifest": {s: s for s in ("annotate", "create", "inspect", "push", "rm")},
    "swarm": {s: s for s in ("ca", "init", "join", "join-token", "leave", "unlock", "unlock-key", "update")},
    "node": {s: s for s in ("demote", "inspect", "ls", "promote", "ps", "rm", "update")} | {"list": "ls", "remove": "rm"},
    "service": {s: s for s in ("create", "inspect", "logs", "ls", "ps", "rm", "rollback", "scale", "update")} | {"list": "ls", "remove": "rm"},
    "stack": {s: s for s in ("config", "deploy", "ls", "ps", "rm", "services")} | {"list": "ls", "remove": "rm", "up": "deploy", "down": "rm", "delete": "rm"},
    "secret": {s: s for s in ("create", "inspect", "ls", "rm")} | {"list": "ls", "remove": "rm"},
    "config": {s: s for s in ("create", "inspect", "ls", "rm")} | {"list": "ls", "remove": "rm"},
    "checkpoint": {s: s for s in ("create", "ls", "rm")} | {"list": "ls", "remove": "rm"},
    "trust": {s: s for s in ("inspect", "revoke", "sign")},
    "compose": {},  # its own grammar: see COMPOSE_COMMANDS
    # CLI plugins: their read-only commands; any other of theirs is docker.unknown.
    "scout": {s: s for s in ("quickview", "cves", "recommendations", "compare", "sbom", "version", "policy")}
    | {"qv": "quickview"},
}

# Top-level shortcuts -> (group, subcommand).
SHORTCUTS: dict[str, tuple[str, str]] = {
    **{c: ("container", c) for c in (
        "attach", "commit", "cp", "create", "diff", "exec", "export", "kill", "logs",
        "pause", "port", "rename", "restart", "rm", "run", "start", "stats", "stop", "top",
        "unpause", "update", "wait")},
    "ps": ("container", "ls"),
    **{c: ("image", c) for c in ("build", "history", "import", "load", "pull", "push", "save", "tag")},
    "images": ("image", "ls"),
    "rmi": ("image", "rm"),
    "events": ("system", "events"),
    "info": ("system", "info"),
}

# Top-level commands that belong to no group.
SINGLES = frozenset({"inspect", "version", "login", "logout", "search", "help", "init"})

COMPOSE_COMMANDS = frozenset({
    "attach", "build", "commit", "config", "cp", "create", "down", "events", "exec", "export",
    "images", "kill", "logs", "ls", "pause", "port", "ps", "publish", "pull", "push", "restart",
    "rm", "run", "scale", "start", "stats", "stop", "top", "unpause", "up", "version", "volumes",
    "wait", "watch", "help",
})


@dataclass
class Parsed:
    """A docker or compose command line, understood."""

    path: tuple[str, ...]  # ("container", "stop"), ("compose", "down"), ("version",), ("help",)
    args: list[str] = field(default_factory=list)  # words after the subcommand
    globals: list[tuple[str, str | None]] = field(default_factory=list)  # (option, value)
    known: bool = True
    problem: str | None = None  # why the grammar could not place a word


def _split_option(word: str, value_options: frozenset[str]) -> tuple[str, str | None, bool]:
    """Return (option, inline value, takes a separate value)."""
    if word.startswith("--"):
        name, eq, value = word.partition("=")
        if eq:
            return name, value, False
        return name, None, name in value_options
    # Short options: -Hunix://..., -lerror, or a cluster of flags ending in one that takes a value.
    for i in range(1, len(word)):
        opt = "-" + word[i]
        if opt in value_options:
            rest = word[i + 1:]
            return opt, (rest.lstrip("=") if rest else None), not rest
    return word, None, False


def _read_globals(argv: list[str], start: int, value_options, flag_options):
    """Consume global options from argv[start:]; returns (globals, index of the command, problem)."""
    found: list[tuple[str, str | None]] = []
    i = start
    while i < len(argv):
        word = argv[i]
        if word == "--":
            return found, i + 1, None
        if not word.startswith("-") or word == "-":
            return found, i, None
        if word in ("-h", "--help"):
            found.append((word, None))
            return found, len(argv), None
        if word in ("-v", "--version"):
            found.append((word, None))
            return found, len(argv), None
        opt, value, needs_value = _split_option(word, value_options)
        if needs_value:
            if i + 1 >= len(argv):
                return found, i, f"option {opt} needs a value"
            value = argv[i + 1]
            i += 1
        elif opt not in value_options and opt not in flag_options:
            # A cluster of known flags (-D...) is fine; anything else is not docker's.
            letters = ["-" + c for c in word[1:]] if not word.startswith("--") else [word]
            if not all(letter in flag_options for letter in letters):
                return found, i, f"unknown global option {word}"
        found.append((opt, value))
        i += 1
    return found, i, None


def parse_docker(argv: list[str]) -> Parsed:
    """argv[0] is the program (docker, podman, docker-compose)."""
    if argv and argv[0].rsplit("/", 1)[-1].startswith("docker-compose"):
        return parse_compose(argv, 1, ())
    found, i, problem = _read_globals(argv, 1, DOCKER_VALUE_OPTIONS, DOCKER_FLAG_OPTIONS)
    if problem:
        return Parsed(("unknown",), argv[i:], found, known=False, problem=problem)
    if i >= len(argv):
        is_version = any(opt in ("-v", "--version") for opt, _ in found)
        return Parsed(("version",) if is_version else ("help",), [], found)
    word = argv[i]
    rest = argv[i + 1:]
    if word in SHORTCUTS:
        return Parsed(SHORTCUTS[word], rest, found)
    if word in SINGLES:
        return Parsed((word,), rest, found)
    if word == "compose":
        parsed = parse_compose(argv, i + 1, found)
        return parsed
    if word in GROUPS:
        sub_index = i + 1
        while sub_index < len(argv) and argv[sub_index] in ("-h", "--help"):
            return Parsed(("help",), argv[sub_index:], found)
        if sub_index >= len(argv):
            return Parsed(("help",), [], found)
        sub = argv[sub_index]
        canonical = GROUPS[word].get(sub)
        if canonical is None:
            return Parsed((word, sub), argv[sub_index + 1:], found, known=False, problem=f"unknown command: docker {word} {sub}")
        return Parsed((word, canonical), argv[sub_index + 1:], found)
    return Parsed((word,), rest, found, known=False, problem=f"unknown command: docker {word}")


def parse_compose(argv: list[str], start: int, outer_globals) -> Parsed:
    found, i, problem = _read_globals(argv, start, COMPOSE_VALUE_OPTIONS, COMPOSE_FLAG_OPTIONS)
    found = list(outer_globals) + found
    if problem:
        return Parsed(("compose", "unknown"), argv[i:], found, known=False, problem=problem)
    if i >= len(argv):
        return Parsed(("compose", "help"), [], found)
    sub = argv[i]
    if sub not in COMPOSE_COMMANDS:
        return Parsed(("compose", sub), argv[i + 1:], found, known=False, problem=f"unknown command: compose {sub}")
    return Parsed(("compose", sub), argv[i + 1:], found)


def has_flag(args: list[str], short: str | None, long_names: tuple[str, ...], value_shorts: str = "") -> bool:
    """Whether a boolean flag is set among a subcommand's args: -v, -fv, --volumes, --volumes=true."""
    for word in args:
        if word == "--":
            return False
        if word.startswith("--"):
            name, eq, value = word.partition("=")
            if name in long_names and (not eq or value.lower() not in ("false", "0")):
                return True
        elif short and word.startswith("-") and len(word) > 1:
            for letter in word[1:]:
                if letter == short:
                    return True
                if letter in value_shorts:
                    break  # the rest of the word is that option's value
    return False


def operands(args: list[str], value_options: frozenset[str] = frozenset()) -> list[str]:
    """The non-option words of a subcommand: the objects it acts on."""
    out, i = [], 0
    while i < len(args):
        word = args[i]
        if word == "--":
            out.extend(args[i + 1:])
            break
        if word.startswith("-") and word != "-":
            if word in value_options:
                i += 1
        else:
            out.append(word)
        i += 1
    return out
