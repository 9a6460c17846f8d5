"""Unwrap what runs other commands: sudo, env, xargs, find -exec, sh -c, eval, ssh...

expand(command) returns the commands that would really run, each marked with
the wrappers it was found in, plus the wrappers themselves (kind "wrapper") so
that tamper checks can see options like `env -i` or `bash --norc`.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import replace

from . import find_expr
from .shell import Command, Unparsable, parse_commands

MAX_NESTING = 6  # sh -c inside sh -c inside ...: deeper than this is refused

SHELLS = frozenset({"sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "busybox-sh", "fish", "rbash"})
INTERPRETERS = frozenset({"python", "python2", "python3", "node", "nodejs", "perl", "ruby", "php", "bun", "deno"})

# Wrapper -> (options that take a value, number of positional words before the command).
_SIMPLE_WRAPPERS: dict[str, tuple[frozenset[str], int]] = {
    "command": (frozenset(), 0),
    "builtin": (frozenset(), 0),
    "exec": (frozenset({"-a"}), 0),
    "nice": (frozenset({"-n", "--adjustment"}), 0),
    "ionice": (frozenset({"-c", "--class", "-n", "--classdata"}), 0),
    "nohup": (frozenset(), 0),
    "time": (frozenset({"-f", "--format", "-o", "--output"}), 0),
    "stdbuf": (frozenset({"-i", "-o", "-e", "--input", "--output", "--error"}), 0),
    "timeout": (frozenset({"-s", "--signal", "-k", "--kill-after"}), 1),
    "setsid": (frozenset(), 0),
    "chroot": (frozenset({"--userspec", "--groups"}), 1),
    "unbuffer": (frozenset(), 0),
    "caffeinate": (frozenset({"-t", "-w"}), 0),
    "taskset": (frozenset(), 1),
    "chrt": (frozenset(), 1),
    "numactl": (frozenset({"-C", "-N", "-m", "-i", "-p", "--physcpubind", "--cpunodebind", "--membind", "--interleave", "--preferred"}), 0),
    "strace": (frozenset({"-e", "-o", "-p", "-s", "-u", "-E"}), 0),
    "ltrace": (frozenset({"-e", "-o", "-p", "-s", "-u"}), 0),
    "fakeroot": (frozenset({"-l", "-s", "-i"}), 0),
    "proxychains": (frozenset({"-f"}), 0),
    "proxychains4": (frozenset({"-f"}), 0),
    "torsocks": (frozenset(), 0),
    "firejail": (frozenset(), 0),
    "unshare": (frozenset(), 0),
    "busybox": (frozenset(), 0),
    "doas": (frozenset({"-u", "-C"}), 0),
    "runuser": (frozenset({"-u", "-g", "-G", "--user", "--group", "--supp-group"}), 0),
    # A session started inside a session runs its command under its own, possibly looser, profile.
    "wingman-run": (frozenset({"--profile", "--assistant"}), 0),
    "flock": (frozenset({"-w", "--timeout", "-E", "--conflict-exit-code"}), 1),
}
_SUDO_VALUE = frozenset({"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-T", "-U", "-R", "--user", "--group",
                         "--host", "--prompt", "--close-from", "--chdir", "--role", "--type",
                         "--command-timeout", "--other-user", "--chroot"})
_SUDO_NO_COMMAND = frozenset({"-e", "--edit", "-l", "--list", "-v", "--validate", "-k", "-K", "--reset-timestamp",
                              "--remove-timestamp", "-V", "--version", "--help"})
_ENV_VALUE = frozenset({"-u", "--unset", "-C", "--chdir", "-S", "--split-string", "-P", "--default-signal",
                        "--ignore-signal", "--block-signal"})
# GNU and BSD xargs (-J, -R: BSD).
_XARGS_VALUE = frozenset({"-a", "--arg-file", "-d", "--delimiter", "-E", "-e", "--eof", "-I", "--replace", "-i",
                          "-J", "-R", "-S", "-L", "-l", "--max-lines", "-n", "--max-args", "-P", "--max-procs", "-s",
                          "--max-chars", "--process-slot-var"})
# GNU: a value only when attached (-i{}, --replace=R), never the next word.
_XARGS_OPTIONAL_VALUE = frozenset({"-i", "-e", "-l", "--replace", "--eof", "--max-lines"})
_WATCH_VALUE = frozenset({"-n", "--interval", "-d", "--differences", "-q", "--equexit"})
_WATCH_OPTIONAL_VALUE = frozenset({"-d", "--differences"})
_SSH_VALUE = frozenset("-" + c for c in "BbcDEeFIiJLlmOoPpQRSWw")
_PARALLEL_VALUE = frozenset({"-j", "--jobs", "-S", "--sshlogin", "-a", "--arg-file", "-d", "--delimiter", "-I",
                             "--replace", "--results", "--joblog", "--timeout", "--tmpdir", "--workdir", "-n", "-N",
                             "-L", "-P", "--max-procs", "-E", "--colsep", "-C", "--id", "--delay", "--retries",
                             "--memfree", "--load", "--halt", "--tag-string", "--basefile", "--return", "--env"})
_FIND_EXEC = frozenset({"-exec", "-execdir", "-ok", "-okdir"})
# zsh's precommand modifiers that take no options: the next word is the command (`- cmd` runs it as a login command).
_PRECOMMAND_MODIFIERS = frozenset({"noglob", "nocorrect", "-"})
# The dynamic loader runs the program named after its options: ld-linux-x86-64.so.2, ld.so, ld-2.31.so, ld64.so.2, ld-musl-*.so.1.
_DYNAMIC_LOADER = re.compile(r"ld(?:-.*)?\.so(?:\..*)?|ld64\.so(?:\..*)?")
_LOADER_VALUE = frozenset({"--library-path", "--preload", "--argv0", "--audit", "--inhibit-rpath",
                           "--glibc-hwcaps-prepend", "--glibc-hwcaps-mask"})
_LOADER_NO_PROGRAM_RUN = frozenset({"--list", "--verify", "--help", "--version", "--list-tunables", "--list-diagnostics"})

# Interpreter code that starts processes, and code we cannot read before it runs.
_SPAWN_HINT = re.compile(r"subprocess|os\.(?:system|popen|exec|spawn)|pty\.spawn|child_process|execSync|spawnSync|"
                         r"execFile|\bsystem\s*\(|\bsystem\s+['\"]|\bexec\s*\(|\bspawn\b|popen|Open3|`|\bqx\s*[\[{(/|'\"]|%x[\[{(]")
_DECODE_HINT = re.compile(r"b64decode|base64|atob\(|fromhex|decode\(|unpack\(|Buffer\.from|\beval\s*\(|\bexec\s*\(\s*[a-z_]")
_DOCKER_API_HINT = re.compile(r"docker\.sock|podman\.sock|\bimport\s+docker\b|\bfrom\s+docker\b|dockerode|\bdocker-api\b")
_STRING_LITERAL = re.compile(r"'((?:[^'\\]|\\.)*)'|\"((?:[^\"\\]|\\.)*)\"|`((?:[^`\\]|\\.)*)`", re.S)


def expand(command: Command, depth: int = 0) -> list[Command]:
    """The commands a command runs, itself included: wrappers are returned with kind "wrapper"."""
    if depth > MAX_NESTING:
        raise Unparsable(f"commands nested more than {MAX_NESTING} deep (sh -c in sh -c ...)")
    if command.kind != "simple" or command.opaque or not command.argv:
        return [command]
    name = command.name
    handler = _HANDLERS.get(name)
    if handler is None and _DYNAMIC_LOADER.fullmatch(name):
        handler = _loader
    if handler is None and name in _SIMPLE_WRAPPERS:
        handler = _simple_wrapper
    if handler is None and name.startswith("python"):
        handler = _interpreter
    if handler is None:
        return [command]
    inner = handler(command, depth)
    if inner is None:
        return [command]
    # find stays a judged command too (-delete); every other wrapper only runs what it wraps.
    out = [command if name == "find" else replace(command, kind="wrapper")]
    for child in inner:
        out.extend(expand(child, depth + 1))
    return out


# --- helpers ---------------------------------------------------------------

def _sub(parent: Command, start: int, argv_end: int | None = None, **changes) -> Command | None:
    """The command made of parent.argv[start:], run via parent."""
    end = len(parent.argv) if argv_end is None else argv_end
    if start >= end:
        return None
    argv = parent.argv[start:end]
    dynamic = tuple(parent.is_dynamic(i) for i in range(start, end))
    pattern = tuple(parent.is_pattern(i) for i in range(start, end))
    opaque = None
    if dynamic[0]:
        opaque = f"the command name {argv[0]} is only known when it runs"
    elif pattern[0]:
        opaque = f"the command name {argv[0]} is a pattern the shell expands"
    via = parent.via + (" ".join(parent.argv[:min(start, 3)]),)
    fields = dict(argv=argv, dynamic=dynamic, pattern=pattern, opaque=opaque, via=via, kind="simple")
    fields.update(changes)
    return replace(parent, **fields)


def _skip_options(argv, i: int, value_options: frozenset[str], optional_value: frozenset[str] = frozenset()) -> int:
    """Index of the first word after the options that start at argv[i]."""
    while i < len(argv):
        word = argv[i]
        if word == "--":
            return i + 1
        if not word.startswith("-") or word == "-":
            return i
        if word.startswith("--"):
            name = word.split("=", 1)[0]
            if "=" not in word and name in value_options and name not in optional_value:
                i += 1
        elif word[:2] in value_options and len(word) == 2 and word not in optional_value:
            i += 1
        elif len(word) > 2 and not word.startswith("--"):
            # A cluster like -nl or -n5: a value option inside takes the rest, or the next word.
            for k in range(1, len(word)):
                opt = "-" + word[k]
                if opt in value_options and opt not in optional_value:
                    if k == len(word) - 1:
                        i += 1
                    break
        i += 1
    return i


def _shell_text(parent: Command, text: str, via: str, dynamic: bool, depth: int, what: str) -> list[Command]:
    """Commands of a piece of shell text that a wrapper runs."""
    if dynamic:
        return [Command((via,), opaque=f"{what} is only known when it runs", via=parent.via + (via,))]
    try:
        found = parse_commands(text)
    except Unparsable as exc:
        raise Unparsable(f"{via}: {exc}") from None
    env = dict(parent.assigns)
    out = []
    for c in found:
        merged = dict(env)
        merged.update(c.assigns)
        out.append(replace(c, via=parent.via + (via,) + c.via, assigns=tuple(merged.items()),
                           remote=c.remote or parent.remote))
    return out


# --- wrappers --------------------------------------------------------------

def _simple_wrapper(command: Command, depth: int):
    name = command.name
    argv = command.argv
    value_options, positionals = _SIMPLE_WRAPPERS[name]
    if name == "command" and any(w in ("-v", "-V") for w in argv[1:2]):
        return []  # command -v NAME only looks the name up
    if name == "ionice" and any(w in ("-p", "--pid", "-P", "--pgid", "-u", "--uid") for w in argv[1:]):
        return []
    if name in ("taskset", "chrt") and any(w.startswith("-p") or w == "--pid" for w in argv[1:]):
        return []
    if name == "flock" and any(w in ("-c", "--command") for w in argv[1:]):
        at = next(i for i, w in enumerate(argv) if w in ("-c", "--command"))
        if at + 1 < len(argv):
            return _shell_text(command, argv[at + 1], "flock -c", command.is_dynamic(at + 1), depth, "the command of flock -c")
        return []
    i = _skip_options(argv, 1, value_options) + positionals
    if name == "time" and i < len(argv) and argv[i] == "-p":
        i += 1
    sub = _sub(command, i)
    return [sub] if sub else []


def _precommand(command: Command, depth: int):
    sub = _sub(command, 1)
    return [sub] if sub else []


def _loader(command: Command, depth: int):
    """`/lib64/ld-linux-x86-64.so.2 [OPTIONS] PROGRAM ARGS`: the loader runs PROGRAM as if started itself."""
    argv = command.argv
    i = _skip_options(argv, 1, _LOADER_VALUE)
    if any(w.split("=", 1)[0] in _LOADER_NO_PROGRAM_RUN for w in argv[1:i]):
        return []  # lists or checks the program's libraries; its code does not run
    sub = _sub(command, i)
    return [sub] if sub else []


def _sudo(command: Command, depth: int):
    argv = command.argv
    i = 1
    while i < len(argv):
        word = argv[i]
        if word == "--":
            i += 1
            break
        if not word.startswith("-"):
            break
        if word in _SUDO_NO_COMMAND:
            return []
        if word.startswith("--"):
            if "=" not in word and word in _SUDO_VALUE:
                i += 1
        else:
            for k in range(1, len(word)):
                opt = "-" + word[k]
                if opt in ("-e", "-l", "-v", "-k", "-K", "-V") and len(word) == 2:
                    return []
                if opt in _SUDO_VALUE:
                    if k == len(word) - 1:
                        i += 1
                    break
        i += 1
    assigns = dict(command.assigns)
    while i < len(argv) and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", argv[i]):
        key, _, value = argv[i].partition("=")
        assigns[key] = value
        i += 1
    sub = _sub(command, i, assigns=tuple(assigns.items()))
    return [sub] if sub else []


def _env(command: Command, depth: int):
    argv = command.argv
    i = 1
    assigns = dict(command.assigns)
    while i < len(argv):
        word = argv[i]
        if word == "--":
            i += 1
            break
        if word in ("-i", "--ignore-environment", "-"):
            assigns = {}
        elif word in ("-S", "--split-string") or word.startswith("--split-string=") or (word.startswith("-S") and len(word) > 2):
            text = word.split("=", 1)[1] if word.startswith("--split-string=") else (word[2:] if word.startswith("-S") and len(word) > 2 else (argv[i + 1] if i + 1 < len(argv) else ""))
            rest = " ".join(argv[i + 2:]) if not (word.startswith("-S") and len(word) > 2) and "=" not in word else " ".join(argv[i + 1:])
            return _shell_text(replace(command, assigns=tuple(assigns.items())), (text + " " + rest).strip(),
                               "env -S", False, depth, "the command of env -S")
        elif word.startswith("-") and not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", word):
            if word in _ENV_VALUE:
                if word in ("-u", "--unset") and i + 1 < len(argv):
                    assigns.pop(argv[i + 1], None)
                i += 1
        elif re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", word):
            key, _, value = word.partition("=")
            assigns[key] = value
        else:
            break
        i += 1
    sub = _sub(command, i, assigns=tuple(assigns.items()))
    return [sub] if sub else []


# What stands for input nobody has read yet, in a command xargs or parallel builds.
XARGS_INPUT = "${XARGS_INPUT}"
PARALLEL_INPUT = "${PARALLEL_INPUT}"


def _xargs_options(argv) -> tuple[int, str | None]:
    """(index of the command, the replace string of -I/-i/--replace/-J, if any)."""
    i, replace_with = 1, None
    while i < len(argv):
        word = argv[i]
        if word == "--":
            return i + 1, replace_with
        if not word.startswith("-") or word == "-":
            return i, replace_with
        if word.startswith("--"):
            name, eq, value = word.partition("=")
            if name == "--replace":
                replace_with = value if eq else "{}"
            elif not eq and name in _XARGS_VALUE and name not in _XARGS_OPTIONAL_VALUE:
                i += 1
            i += 1
            continue
        for k in range(1, len(word)):
            opt = "-" + word[k]
            rest = word[k + 1:]
            if opt == "-i":
                replace_with = rest or "{}"
                break
            if opt in ("-I", "-J"):
                if rest:
                    replace_with = rest
                elif i + 1 < len(argv):
                    i += 1
                    replace_with = argv[i]
                break
            if opt in _XARGS_VALUE and opt not in _XARGS_OPTIONAL_VALUE:
                if not rest:
                    i += 1
                break
            if opt in _XARGS_OPTIONAL_VALUE:
                break
        i += 1
    return i, replace_with


def _with_input(command: Command, start: int, placeholder: str | None, unknown: str) -> Command | None:
    """The command a template runs: its placeholder, or one more word at the end, is input (unknown)."""
    sub = _sub(command, start)
    if sub is None:
        return None
    words, dynamic = list(sub.argv), list(sub.dynamic)
    script = _script_index(sub)
    if placeholder:
        for k, word in enumerate(words):
            if placeholder in word and k == script:
                # sh -c 'rm -rf {}': judge the script, the placeholder standing for one unknown word.
                words[k] = word.replace(placeholder, f'"{unknown}"')
            elif placeholder in word:
                words[k] = word.replace(placeholder, unknown)
                dynamic[k] = True
    else:
        words.append(unknown)
        dynamic.append(True)
    opaque = f"the command name {words[0]} comes from input only known when it runs" if dynamic[0] else sub.opaque
    return replace(sub, argv=tuple(words), dynamic=tuple(dynamic), opaque=opaque, stdin=None, stdin_from="xargs")


def _script_index(command: Command) -> int | None:
    """Where the script of `sh -c SCRIPT` stands in a shell's argv, if it has one."""
    if command.name not in SHELLS:
        return None
    for k, word in enumerate(command.argv[1:], 1):
        if word.startswith("-") and not word.startswith("--") and "c" in word[1:]:
            return k + 1 if k + 1 < len(command.argv) else None
        if not word.startswith(("-", "+")):
            return None
    return None


def _xargs(command: Command, depth: int):
    i, placeholder = _xargs_options(command.argv)
    # With no command, xargs runs echo.
    sub = _with_input(command, i, placeholder, XARGS_INPUT)
    return [sub] if sub else []


def _watch(command: Command, depth: int):
    argv = command.argv
    i = _skip_options(argv, 1, _WATCH_VALUE, _WATCH_OPTIONAL_VALUE)
    if i >= len(argv):
        return []
    if any(w in ("-x", "--exec") for w in argv[1:i]):
        sub = _sub(command, i)
        return [sub] if sub else []
    # watch hands its words, joined, to sh -c.
    dynamic = any(command.is_dynamic(k) for k in range(i, len(argv)))
    return _shell_text(command, " ".join(argv[i:]), "watch", dynamic, depth, "the command of watch")


def _find(command: Command, depth: int):
    argv = command.argv
    i = 1
    while i < len(argv) and argv[i] in ("-H", "-L", "-P") or (i < len(argv) and argv[i].startswith("-O")):
        i += 1
    if i < len(argv) and argv[i] == "-D":
        i += 2
    roots = []
    while i < len(argv) and not argv[i].startswith("-") and argv[i] not in ("(", "!", ","):
        roots.append(argv[i])
        i += 1
    roots = roots or ["."]
    out: list[Command] = []
    while i < len(argv):
        if argv[i] in _FIND_EXEC:
            start = i + 1
            end = start
            while end < len(argv) and argv[end] not in (";", "+"):
                end += 1
            selects = find_expr.selection(argv[:i])
            for root in roots:
                # {} stands for a path find reaches: with no name test, the root itself (and .git) too;
                # with one, a path under the root, so rm -rf {} is judged by where it points.
                found = {find_expr.EVERYTHING: root, find_expr.GIT: root.rstrip("/") + "/.git"}.get(
                    selects, root.rstrip("/") + "/{}")
                words = tuple(w.replace("{}", found) if "{}" in w else w for w in argv[start:end])
                sub = _sub(command, start, end)
                if sub is not None:
                    out.append(replace(sub, argv=words, stdin=None, stdin_from=None))
            i = end
        i += 1
    return out or None


# GNU parallel's replacement strings: {} {.} {/} {//} {/.} {#} {%} and the numbered {1} {2.}...
_PARALLEL_REPLACEMENT = re.compile(r"\{\d*(?:\.|/|//|/\.|#|%)?\}")
_PARALLEL_SOURCES = (":::", "::::", ":::+", "::::+")
MAX_PARALLEL_ARGUMENTS = 32  # literal arguments judged one by one; more are judged as unknown input


def _parallel(command: Command, depth: int):
    """GNU parallel (and sem): the command is shell text; the arguments fill its replacement strings.

    With no command, every argument is itself a command line.
    """
    argv = command.argv
    i = _skip_options(argv, 1, _PARALLEL_VALUE)
    options = argv[1:i]
    end = next((k for k in range(i, len(argv)) if argv[k] in _PARALLEL_SOURCES), len(argv))
    template = argv[i:end]
    literal, values = _parallel_arguments(argv, end)
    if command.name == "sem" or "--semaphore" in options:
        literal, values = True, [""]
    dynamic = any(command.is_dynamic(k) for k in range(i, end)) or any(command.is_dynamic(k) for k in range(end, len(argv)))
    what = "the command of parallel"
    custom = next((argv[k + 1] for k in range(1, i - 1) if argv[k] in ("-I", "--replace")), None)
    if not template:
        if not literal:
            return [Command((command.name,), opaque="runs the command lines it reads from its input",
                            via=command.via + (command.name,))]
        out = []
        for value in values:
            out.extend(_shell_text(command, value, command.name, dynamic, depth, what))
        return out
    text = " ".join(shlex.quote(w) for w in template) if "-q" in options or "--quote" in options else " ".join(template)
    out = []
    for value in (values if literal else [None]):
        filled = value if value is not None else PARALLEL_INPUT
        quoted = shlex.quote(filled) if value is not None else filled
        if custom and custom in text:
            line = text.replace(custom, quoted)
        elif _PARALLEL_REPLACEMENT.search(text):
            line = _PARALLEL_REPLACEMENT.sub(lambda _m: quoted, text)
        else:
            line = f"{text} {quoted}" if value != "" else text
        out.extend(_shell_text(command, line, command.name, dynamic, depth, what))
    return out


def _parallel_arguments(argv, end: int) -> tuple[bool, list[str]]:
    """(whether the arguments are known, the first group's values). Files and stdin are not known."""
    if end >= len(argv):
        return False, []
    if argv[end] not in (":::", ":::+"):
        return False, []
    values = []
    for word in argv[end + 1:]:
        if word in _PARALLEL_SOURCES:
            if word.startswith("::::"):
                return False, []
            continue
        values.append(word)
    if not values or len(values) > MAX_PARALLEL_ARGUMENTS:
        return False, []
    return True, values


def _shell(command: Command, depth: int):
    argv = command.argv
    i = 1
    text_index = None
    reads_stdin = False
    while i < len(argv):
        word = argv[i]
        if word == "--":
            i += 1
            break
        if word in ("-o", "+o", "-O", "+O", "--rcfile", "--init-file"):
            i += 2
            continue
        if word.startswith("--"):
            i += 1
            continue
        if word.startswith("-") or word.startswith("+"):
            if word in ("-", "+"):
                i += 1
                break
            if "c" in word[1:] and word[0] == "-":
                text_index = i + 1
            if "s" in word[1:] and word[0] == "-":
                reads_stdin = True
            i += 1
            continue
        break
    if text_index is not None:
        # -c: the first operand is the script, whatever options follow the flag.
        operand = i if i < len(argv) else None
        if operand is None:
            return []
        return _shell_text(command, argv[operand], command.name + " -c", command.is_dynamic(operand), depth,
                           f"the script of {command.name} -c")
    if i < len(argv) and not reads_stdin:
        if command.is_dynamic(i):
            return [Command((command.name,), opaque=f"the script {argv[i]} is only known when it runs",
                            via=command.via + (command.name,))]
        return None  # a script file: its commands reach the shell hooks and stubs when they run
    return _stdin_code(command, depth, command.name)


def _stdin_code(command: Command, depth: int, via: str):
    """A shell reading its commands on stdin."""
    if command.stdin is not None:
        return _shell_text(command, command.stdin, via + " <<<", False, depth, "its input")
    if command.stdin_from in (None, "file"):
        return None
    return [Command((via,), opaque=f"runs code read from {command.stdin_from}",
                    via=command.via + (f"{command.stdin_from} | {via}",))]


def _eval(command: Command, depth: int):
    argv = command.argv
    dynamic = any(command.is_dynamic(k) for k in range(1, len(argv)))
    return _shell_text(command, " ".join(argv[1:]), "eval", dynamic, depth, "the text given to eval")


def _trap(command: Command, depth: int):
    """trap 'TEXT' SIGNALS...: TEXT runs later (at EXIT, on ERR...), where no hook sees it: judge it now."""
    argv = list(command.argv[1:])
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if len(argv) < 2 or argv[0] in ("-", "") or argv[0].startswith("-"):
        return []
    return _shell_text(command, argv[0], "trap", command.is_dynamic(command.argv.index(argv[0])), depth,
                       "the text a trap runs")


def _source(command: Command, depth: int):
    if len(command.argv) < 2:
        return []
    if command.is_dynamic(1) or command.argv[1] in ("/dev/stdin", "-"):
        if command.argv[1] in ("/dev/stdin", "-"):
            return _stdin_code(command, depth, command.name)
        return [Command((command.name,), opaque=f"sources {command.argv[1]}, only known when it runs",
                        via=command.via + (command.name,))]
    return None


def _ssh(command: Command, depth: int):
    argv = command.argv
    i = _skip_options(argv, 1, _SSH_VALUE)
    if i + 1 >= len(argv):
        return None
    host = argv[i]
    dynamic = any(command.is_dynamic(k) for k in range(i + 1, len(argv)))
    # ssh joins its words into one line for the remote shell; what runs there is judged with
    # that host's paths (remote=host), never the local project's.
    found = _shell_text(replace(command, assigns=(), remote=host), " ".join(argv[i + 1:]), f"ssh {host}", dynamic,
                        depth, f"the remote command for {host}")
    return [replace(c, remote=c.remote or host) for c in found]


def _su(command: Command, depth: int):
    argv = command.argv
    for k, word in enumerate(argv[1:], 1):
        if word in ("-c", "--command") and k + 1 < len(argv):
            return _shell_text(command, argv[k + 1], "su -c", command.is_dynamic(k + 1), depth, "the command of su -c")
        if word.startswith("--command="):
            return _shell_text(command, word.split("=", 1)[1], "su -c", command.is_dynamic(k), depth, "the command of su -c")
    return None


def _script(command: Command, depth: int):
    argv = command.argv
    for k, word in enumerate(argv[1:], 1):
        if word in ("-c", "--command") and k + 1 < len(argv):
            return _shell_text(command, argv[k + 1], "script -c", command.is_dynamic(k + 1), depth, "the command of script -c")
    return None


# Option that introduces inline code, per interpreter.
_CODE_OPTIONS = {"node": ("-e", "--eval", "-p", "--print"), "nodejs": ("-e", "--eval", "-p", "--print"),
                 "perl": ("-e", "-E"), "ruby": ("-e",), "php": ("-r",), "bun": ("-e", "--eval", "-p", "--print"),
                 "deno": ("eval",)}


def _interpreter(command: Command, depth: int):
    argv = command.argv
    name = command.name
    code, code_dynamic = None, False
    for k, word in enumerate(argv[1:], 1):
        if name.startswith("python"):
            is_code = word == "-c" or bool(re.fullmatch(r"-[bBdEiIOqsSuvx]*c", word))
        elif name == "perl":
            is_code = bool(re.fullmatch(r"-[a-zA-DF-Z0-9]*[eE]", word))
        else:
            is_code = word in _CODE_OPTIONS.get(name, ())
        if is_code and k + 1 < len(argv):
            code, code_dynamic = argv[k + 1], command.is_dynamic(k + 1)
            break
        if not word.startswith("-"):
            break  # a script file comes first: what follows is its arguments
    if code is None:
        if command.stdin is not None and (len(argv) == 1 or argv[1:] == ("-",)):
            code = command.stdin
        elif command.stdin_from not in (None, "file") and len(argv) == 1:
            return [Command((name,), opaque=f"runs {name} code read from {command.stdin_from}",
                            via=command.via + (name,))]
        else:
            return None
    if code_dynamic:
        return [Command((name,), opaque=f"the {name} code is only known when it runs", via=command.via + (name,))]
    return scan_code(command, code, name)


def scan_code(parent: Command, code: str, language: str) -> list[Command] | None:
    """Commands that interpreter code starts, read from its string literals."""
    via = parent.via + (f"{language} code",)
    if _DOCKER_API_HINT.search(code):
        return [Command((language,), opaque=f"the {language} code talks to the Docker API directly", via=via)]
    if not _SPAWN_HINT.search(code):
        return None
    found: list[Command] = []
    group: list[str] = []
    last_end = None
    for m in list(_STRING_LITERAL.finditer(code)) + [None]:
        gap = code[last_end:m.start()] if m is not None and last_end is not None else None
        if gap is not None and group and gap.strip() == "":
            # 'dock' 'er' or 'dock''er': the language joins adjacent literals into one string.
            group[-1] += _unescape_literal(next(g for g in m.groups() if g is not None))
            last_end = m.end()
            continue
        if m is None or gap is None or re.fullmatch(r"[\s,\[\]()]*", gap) is None:
            if group:
                found.extend(_literal_commands(group, via))
            group = []
        if m is not None:
            group.append(_unescape_literal(next(g for g in m.groups() if g is not None)))
            last_end = m.end()
    if _DECODE_HINT.search(code):
        found.append(Command((language,), opaque=f"the {language} code builds the command it runs at run time", via=via))
    return found or None


def _unescape_literal(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), text)


def _literal_commands(group: list[str], via) -> list[Command]:
    if len(group) == 1:
        try:
            found = parse_commands(group[0])
        except Unparsable:
            return []
        return [replace(c, via=via + c.via) for c in found if c.kind == "simple"]
    argv = tuple(group)
    return [Command(argv, dynamic=tuple(False for _ in argv), via=via)]


_HANDLERS = {
    "sudo": _sudo, "env": _env, "xargs": _xargs, "watch": _watch, "find": _find, "parallel": _parallel, "sem": _parallel,
    **{name: _precommand for name in _PRECOMMAND_MODIFIERS},
    "eval": _eval, "trap": _trap, "source": _source, ".": _source, "ssh": _ssh, "su": _su, "script": _script,
    **{name: _shell for name in SHELLS},
    **{name: _interpreter for name in INTERPRETERS},
}

# Every program this module can look inside: named in the fail-closed check for unreadable text.
# A lone `-` is too common a word there (`cat -`); what it runs is a word of its own, checked anyway.
WRAPPERS = (frozenset(_HANDLERS) | frozenset(_SIMPLE_WRAPPERS)) - {"-"}
