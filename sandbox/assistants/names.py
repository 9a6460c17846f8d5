"""Which assistant a command line starts, from the command's name, through npx or a full path."""

from __future__ import annotations

import os
from dataclasses import dataclass

# Command name -> adapter. `cursor` is the editor, `cursor-agent` its command-line agent: same hook format.
COMMANDS = {"claude": "claude", "codex": "codex", "gemini": "gemini", "cursor": "cursor", "cursor-agent": "cursor"}
ADAPTERS = ("claude", "codex", "gemini", "cursor")
# npm packages that install those commands, for `npx @anthropic-ai/claude-code` and `node .../cli.js`.
PACKAGES = {"@anthropic-ai/claude-code": "claude", "@openai/codex": "codex", "@google/gemini-cli": "gemini"}
# Runners that start a package's command: npx [options] PACKAGE ARGS...
RUNNERS = ("npx", "bunx", "pnpx")
# npx options that take a value (the rest are flags).
RUNNER_VALUE_OPTIONS = ("-p", "--package", "-c", "--call", "-w", "--workspace", "--registry", "--cache", "--prefix")


@dataclass(frozen=True)
class Recognised:
    adapter: str   # claude | codex | gemini | cursor
    command: str   # the name it was started by (claude, cursor, cursor-agent...)
    index: int     # where the assistant's program word sits in the command line: its options follow it


def package_name(word: str) -> str:
    """`@scope/name@1.2` -> `@scope/name`; `name@latest` -> `name`."""
    if word.startswith("@"):
        scope, _, rest = word.partition("/")
        return scope + "/" + rest.split("@", 1)[0]
    return word.split("@", 1)[0]


def _by_word(word: str) -> str | None:
    base = os.path.basename(word)
    if base in COMMANDS:
        return base
    name = package_name(word)
    for package, adapter in PACKAGES.items():
        if name == package:
            return adapter
        if f"/node_modules/{package}/" in word:  # node /usr/lib/node_modules/@openai/codex/bin/codex.js
            return adapter
    return None


def _first_operand(command: list[str], start: int, value_options=()) -> int | None:
    i = start
    while i < len(command):
        word = command[i]
        if word == "--":
            return i + 1 if i + 1 < len(command) else None
        if word in value_options:
            i += 2
            continue
        if word.startswith("-"):
            i += 1
            continue
        return i
    return None


def recognise(command: list[str], override: str | None = None) -> Recognised | None:
    """The assistant this command line starts, None for anything else (aider, a shell, a script)."""
    if not command:
        return None
    index = 0
    base = os.path.basename(command[0])
    if base in RUNNERS:
        found = _first_operand(command, 1, RUNNER_VALUE_OPTIONS)
        index = found if found is not None else 0
    elif base in ("node", "nodejs"):
        found = _first_operand(command, 1, ("-r", "--require", "--import", "--loader"))
        index = found if found is not None else 0
    name = _by_word(command[index])
    if override:
        adapter = COMMANDS.get(override, override)
        return Recognised(adapter, name or override, index)
    if name is None:
        return None
    return Recognised(COMMANDS.get(name, name), name, index)
