"""Split a command string into the simple commands it would run.

A first cut: splits the way a shell splits simple commands and the list
operators. The real grammar (subshells, substitutions, wrappers) replaces it.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    argv: tuple[str, ...]
    opaque: str | None = None  # why the command's name cannot be known before it runs


class Unparsable(Exception):
    pass


_OPERATORS = {"&&", "||", ";", "|", "&", ";;", "|&"}


def parse_commands(text: str) -> list[Command]:
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    try:
        tokens = list(lexer)
    except ValueError as exc:
        raise Unparsable(str(exc)) from None
    commands, current = [], []
    for token in tokens:
        if token in _OPERATORS:
            if current:
                commands.append(_command(current))
            current = []
        else:
            current.append(token)
    if current:
        commands.append(_command(current))
    return commands


def _command(words: list[str]) -> Command:
    while words and "=" in words[0] and words[0].split("=", 1)[0].isidentifier():
        words = words[1:]
    if words and ("$" in words[0] or "`" in words[0]):
        return Command(tuple(words), opaque=f"the command name {words[0]} is only known when it runs")
    return Command(tuple(words))
