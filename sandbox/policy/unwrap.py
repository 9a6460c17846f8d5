"""Unwrap what runs other commands: sudo, env, xargs, find -exec, sh -c, eval, ssh...

expand(command) returns the commands that would really run, each marked with
the wrappers it was found in, plus the wrappers themselves (kind "wrapper") so
that tamper checks can see options like `env -i` or `bash --norc`.
"""

from __future__ import annotations

import re
from dataclasses import replace

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
    "flock": (frozenset({"-w", "--timeout", "-E", "--conflict-exit-code"}), 1),
}
_SUDO_VALUE = frozenset({"-u", "-g", "-h", "-p", "-C", "-D", "-r", "-t", "-T", "-U", "-R", "--user", "--group",
                         "--host", "--prompt", "--close-from", "--chdir", "--role", "--type",
                         "--command-timeout", "--other-user", "--chroot"})
_SUDO_NO_COMMAND = frozenset({"-e", "--edit", "-l", "--list", "-v", "--validate", "-k", "-K", "--reset-timestamp",
                              "--remove-timestamp", "-V", "--version", "--help"})
_ENV_VALUE = frozenset({"-u", "--unset", "-C", "--chdir", "-S", "--split-string", "-P", "--default-signal",
                        "--ignore-signal", "--block-signal"})
_XARGS_VALUE = frozenset({"-a", "--arg-file", "-d", "--delimiter", "-E", "-e", "--eof", "-I", "--replace", "-i",
                          "-L", "-l", "--max-lines", "-n", "--max-args", "-P", "--max-procs", "-s", "--max-chars",
                          "--process-slot-var"})
_XARGS_OPTIONAL_VALUE = frozenset({"-i", "-e", "-l"})  # GNU: only attached (-i{}), never the next word
_WATCH_VALUE = frozenset({"-n", "--interval", "-d", "--differences", "-q", "--equexit"})
_WATCH_OPTIONAL_VALUE = frozenset({"-d", "--differences"})
_SSH_VALUE = frozenset("-" + c for c in "BbcDEeFIiJLlmOoPpQRSWw")
_PARALLEL_VALUE = frozenset({"-j", "--jobs", "-S", "--sshlogin", "-a", "--arg-file", "-d", "--delimiter", "-I",
                             "--results", "--joblog", "--timeout", "--tmpdir", "--workdir", "-n", "-N", "-L",
                             "-P", "--max-procs", "-E", "--colsep", "-C"})
_FIND_EXEC = frozenset({"-exec", "-execdir", "-ok", "-okdir"})

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
    opaque = None
    if dynamic[0]:
        opaque = f"the command name {argv[0]} is only known when it runs"
    via = parent.via + (" ".join(parent.argv[:min(start, 3)]),)
    fields = dict(argv=argv, dynamic=dynamic, opaque=opaque, via=via, kind="simple")
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
        out.append(replace(c, via=parent.via + (via,) + c.via, assigns=tuple(merged.items())))
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


def _xargs(command: Command, depth: int):
    i = _skip_options(command.argv, 1, _XARGS_VALUE, _XARGS_OPTIONAL_VALUE)
    sub = _sub(command, i, stdin=None, stdin_from="xargs")
    # With no command, xargs runs echo.
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
            for root in roots:
                # {} stands for a path found under the root: keep that, so rm -rf {} is judged by where it points.
                words = tuple(w.replace("{}", root.rstrip("/") + "/{}") if "{}" in w else w for w in argv[start:end])
                sub = _sub(command, start, end)
                if sub is not None:
                    out.append(replace(sub, argv=words, stdin=None, stdin_from=None))
            i = end
        i += 1
    return out or None


def _parallel(command: Command, depth: int):
    argv = command.argv
    i = _skip_options(argv, 1, _PARALLEL_VALUE)
    end = next((k for k in range(i, len(argv)) if argv[k] in (":::", "::::", ":::+", "::::+")), len(argv))
    if i >= end:
        return []
    if end - i == 1 and " " in argv[i]:
        return _shell_text(command, argv[i], "parallel", command.is_dynamic(i), depth, "the command of parallel")
    sub = _sub(command, i, end)
    return [sub] if sub else []


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
    return _shell_text(replace(command, assigns=()), " ".join(argv[i + 1:]), f"ssh {host}", dynamic, depth,
                       f"the remote command for {host}")


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
    "sudo": _sudo, "env": _env, "xargs": _xargs, "watch": _watch, "find": _find, "parallel": _parallel,
    "eval": _eval, "source": _source, ".": _source, "ssh": _ssh, "su": _su, "script": _script,
    **{name: _shell for name in SHELLS},
    **{name: _interpreter for name in INTERPRETERS},
}

# Every program this module can look inside: named in the fail-closed check for unreadable text.
WRAPPERS = frozenset(_HANDLERS) | frozenset(_SIMPLE_WRAPPERS)
