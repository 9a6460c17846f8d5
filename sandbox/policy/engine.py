"""The policy core: a command (argv or shell text) and a policy in, a decision out. No I/O.

decide_text: parse the text as bash, unwrap what runs other commands, judge
every command with its pack, add hook tampering, take the strictest verdict.
Anything unexpected ends in a deny (parse.unsupported), never in an exception.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

from .context import DAEMON_SELECTORS, Context
from .packs import ALL_RULES, BY_COMMAND, CORE_RULES, STDIN_CLASSIFIERS, Pack
from .profile import Policy
from .shell import Command, Unparsable, parse_commands
from .tamper import find_tampering
from .unwrap import INTERPRETERS, SHELLS, WRAPPERS, expand
from .verdict import Decision, Finding, Verdict



def program_name(word: str) -> str:
    """How the shell finds the program: the basename; lower case, as macOS file systems ignore case."""
    return word.rsplit("/", 1)[-1].lower()


def _pack_for(word: str, policy: Policy) -> Pack | None:
    pack = BY_COMMAND.get(program_name(word))
    if pack is None or not policy.pack_enabled(pack.name):
        return None
    return pack


def judge_argv(argv: Sequence[str], policy: Policy, ctx: Context) -> list[Finding]:
    """Findings for one exact argv, as a stub receives it, without unwrapping."""
    if not argv:
        return []
    argv = tuple(str(word) for word in argv)
    return judge_command(Command(argv, dynamic=tuple(False for _ in argv)), policy, ctx)


def judge_command(command: Command, policy: Policy, ctx: Context) -> list[Finding]:
    """Findings for one command that runs (after unwrapping)."""
    via = f"via {' > '.join(command.via)}" if command.via else None
    if command.opaque:
        return [_core("shell.opaque", command.argv, policy, _join(command.opaque, via))]
    pack = _pack_for(command.argv[0], policy)
    if pack is None:
        return [Finding(command.argv, Verdict.ALLOW, "none", "no rule guards this program", None, via)]
    argv = (program_name(command.argv[0]),) + command.argv[1:]
    reader = STDIN_CLASSIFIERS.get(pack.name)
    hits = reader(argv, command.stdin, ctx) if reader and command.stdin else pack.classify(argv, ctx)
    findings = []
    if pack.name == "docker":
        findings.extend(_docker_environment(command, policy, ctx, via))
    for hit in hits:
        rule = ALL_RULES[hit.rule]
        findings.append(Finding(command.argv, policy.verdict_for(rule), rule.id, rule.reason, rule.alternative,
                                _join(hit.detail, via)))
    return findings


def _docker_environment(command: Command, policy: Policy, ctx: Context, via: str | None) -> list[Finding]:
    """DOCKER_HOST=... docker ps talks to another daemon, just like -H."""
    out = []
    for key, value in command.assigns:
        if key not in DAEMON_SELECTORS or value == "":
            continue
        ours = ctx.is_our_docker_host(value) if key == "DOCKER_HOST" else ctx.is_our_docker_context(value)
        if not ours:
            rule = ALL_RULES["docker.host.override"]
            out.append(Finding(command.argv, policy.verdict_for(rule), rule.id, rule.reason, rule.alternative,
                               _join(f"{key}={value}", via)))
    return out


def _join(*parts: str | None) -> str | None:
    text = "; ".join(p for p in parts if p)
    return text or None


def _core(rule_id: str, argv: Sequence[str], policy: Policy, detail: str | None) -> Finding:
    rule = CORE_RULES[rule_id]
    return Finding(tuple(argv), policy.verdict_for(rule), rule.id, rule.reason, rule.alternative, detail)


def _unsupported(text, policy: Policy, why: str) -> Decision:
    shown = text[:200] if isinstance(text, str) else repr(text)[:200]
    return Decision.combine([_core("parse.unsupported", (shown,), policy, why)])


def decide_argv(argv: Sequence[str], policy: Policy, ctx: Context) -> Decision:
    """The verdict for one exact argv (the stub's view): unwrapped like a command in text."""
    argv = tuple(str(word) for word in argv)
    if not argv:
        return Decision.combine([])
    return _decide([Command(argv, dynamic=tuple(False for _ in argv))], policy, ctx, " ".join(argv))


def decide_text(text: str, policy: Policy, ctx: Context, deferred: frozenset[str] = frozenset()) -> Decision:
    """The verdict for a command string as a shell would run it: its strictest command's.

    deferred: programs whose plain calls (the bare name, no wrapper, PATH untouched) a later
    layer judges on the argv it really gets, as the session's stubs do: they are not judged here.
    """
    try:
        commands = parse_commands(text)
    except Unparsable as exc:
        return _unsupported(text, policy, str(exc))
    except (RecursionError, MemoryError, ValueError, TypeError) as exc:
        return _unsupported(text, policy, f"the parser failed: {type(exc).__name__}")
    return _decide(commands, policy, ctx, text, deferred)


def _decide(commands: list[Command], policy: Policy, ctx: Context, text: str,
            deferred: frozenset[str] = frozenset()) -> Decision:
    try:
        seen: list[Command] = []
        for command in commands:
            seen.extend(expand(command))
        return Decision.combine(_judge_all(seen, policy, ctx, deferred))
    except Unparsable as exc:
        return _unsupported(text, policy, str(exc))
    except Exception as exc:  # a bug must refuse, never allow
        return _unsupported(text, policy, f"internal error while judging: {type(exc).__name__}: {exc}")


# A cwd that cd made unknowable: relative paths under it resolve to "unknown".
UNKNOWN_CWD = "/$UNKNOWN_CWD"


def _after_cd(command: Command, ctx: Context) -> Context:
    """The context of the commands that follow a cd or pushd (in source order: a fair approximation)."""
    from .packs.filesystem import resolve

    target = command.argv[1:] and [w for w in command.argv[1:] if not w.startswith("-") or w == "-"]
    if not target:
        return replace(ctx, cwd=ctx.home)
    if target[0] == "-" or any(command.is_dynamic(i) for i in range(1, len(command.argv))):
        return replace(ctx, cwd=UNKNOWN_CWD)
    path, contents = resolve(target[0], ctx)
    return replace(ctx, cwd=path if path and not contents else UNKNOWN_CWD)


def remote_context(ctx: Context, host: str) -> Context:
    """Where `ssh HOST CMD` runs CMD: in the remote user's home, on a machine with no project of ours."""
    return replace(ctx, remote_host=host, cwd=ctx.home, project_dir=UNKNOWN_CWD, docker_host=None, docker_context=None)


def _reaches_a_later_layer(command: Command, deferred: frozenset[str]) -> bool:
    return (command.kind == "simple" and not command.opaque and not command.via and command.remote is None
            and command.argv[0] in deferred and not command.is_dynamic(0)
            and all(name != "PATH" for name, _ in command.assigns))


def _judge_all(seen: list[Command], policy: Policy, ctx: Context, deferred: frozenset[str] = frozenset()) -> list[Finding]:
    findings: list[Finding] = []
    local = ctx
    remote: dict[str, Context] = {}  # each host keeps its own cwd, as each ssh starts its own shell
    for command in seen:
        ctx = local if command.remote is None else remote.setdefault(command.remote, remote_context(local, command.remote))
        if command.kind == "simple" and not command.opaque and command.argv[0] in ("cd", "pushd", "popd"):
            ctx = _after_cd(command, ctx) if command.argv[0] != "popd" else replace(ctx, cwd=UNKNOWN_CWD)
            if command.remote is None:
                local = ctx
            else:
                remote[command.remote] = ctx
        if command.kind == "simple" and not _reaches_a_later_layer(command, deferred):
            findings.extend(judge_command(command, policy, ctx))
        elif command.kind == "error" and _could_hide_command(command, policy):
            findings.append(_core("parse.unsupported", command.argv, policy,
                                  "part of the text does not parse, and it names a guarded program or a wrapper"))
    findings.extend(_tamper_findings(seen, policy))
    return findings


def _could_hide_command(command: Command, policy: Policy) -> bool:
    """Whether text the parser could not read may run something we guard."""
    for word in command.argv:
        if "$" in word or "`" in word:
            return True
        name = program_name(word)
        if name in WRAPPERS or name in SHELLS or name in INTERPRETERS or _pack_for(word, policy) is not None:
            return True
    return False


def _tamper_findings(seen: list[Command], policy: Policy) -> list[Finding]:
    tampering = find_tampering(seen)
    if not tampering:
        return []
    guarded = next((c for c in seen if c.kind == "simple" and (c.opaque or _pack_for(c.argv[0], policy))), None)
    if guarded is None:
        return []  # tampering that reaches no guarded program: env -i make test
    target = guarded.argv[0] if not guarded.opaque else "a command only known at run time"
    return [_core("hook.tamper", command.argv, policy, f"{reason}, then runs {target}") for command, reason in tampering]
