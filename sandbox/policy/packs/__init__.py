"""The rule packs, and the lookup from a program name to the pack that judges it."""

from __future__ import annotations

import fnmatch

from ..verdict import Rule, Verdict
from .base import Hit, Pack
from . import database, docker, filesystem, git, infra, kube, system

PACKS: dict[str, Pack] = {p.name: p for p in (
    docker.PACK, git.PACK, filesystem.PACK, kube.PACK, database.PACK, infra.PACK, system.PACK)}

# Packs that also judge the literal text a program reads on stdin (psql <<EOF, redis-cli <<< FLUSHALL).
STDIN_CLASSIFIERS = {database.PACK.name: database.classify_input}

# Rules that belong to the core rather than to one tool.
CORE_RULES: dict[str, Rule] = {
    "shell.opaque": Rule(
        "shell.opaque", "runs a command whose text cannot be known before it runs ($VAR, $(...), decoded or downloaded code)",
        "write the command out literally", Verdict.ASK, Verdict.DENY),
    "parse.unsupported": Rule(
        "parse.unsupported", "the command could not be parsed with confidence, so it is refused rather than guessed at",
        "split it into simpler commands", Verdict.DENY, Verdict.DENY),
    "hook.tamper": Rule(
        "hook.tamper", "disables or sidesteps the session's guards before reaching a guarded tool",
        "leave the session's hooks in place", Verdict.DENY, Verdict.DENY),
}

ALL_RULES: dict[str, Rule] = {**CORE_RULES}
for _pack in PACKS.values():
    ALL_RULES.update(_pack.rules)

BY_COMMAND: dict[str, Pack] = {name: pack for pack in PACKS.values() for name in pack.commands}


def known_rule(rule_id: str, glob: bool = False) -> bool:
    if glob:
        return any(fnmatch.fnmatchcase(r, rule_id) for r in ALL_RULES)
    return rule_id in ALL_RULES


def known_pack(name: str) -> bool:
    return name in PACKS


def pack_of_rule(rule_id: str) -> str | None:
    for pack in PACKS.values():
        if rule_id in pack.rules:
            return pack.name
    return None


__all__ = ["ALL_RULES", "BY_COMMAND", "CORE_RULES", "Hit", "PACKS", "Pack", "STDIN_CLASSIFIERS", "known_pack", "known_rule", "pack_of_rule"]
