"""Profiles: parse and validate YAML text into a Policy. Pure: text in, values or errors out."""

from __future__ import annotations

import difflib
import fnmatch
from dataclasses import dataclass, field
from typing import Any, Iterable

import yaml

from .verdict import VERDICT_NAMES, Rule, Verdict

LEVELS = ("default", "strict")
ISOLATION = ("auto", "required", "off")


class ProfileError(Exception):
    """A profile that cannot be used; names the file and line of every problem found in it."""

    def __init__(self, source: str, line: int | None, message: str):
        self.problems: list[tuple[str, int | None, str]] = [(source, line, message)]
        self.source, self.line, self.message = source, line, message
        super().__init__(self._text())

    @classmethod
    def of(cls, problems: list[tuple[str, int | None, str]]) -> "ProfileError":
        """One error carrying several problems, in the order of their lines."""
        ordered = sorted(problems, key=lambda p: (p[0], p[1] or 0))
        error = cls(*ordered[0])
        error.problems = ordered
        error.args = (error._text(),)
        return error

    def _text(self) -> str:
        lines = [f"{source}:{line}: {message}" if line else f"{source}: {message}" for source, line, message in self.problems]
        if len(lines) == 1:
            return lines[0]
        return f"{len(lines)} problems\n  " + "\n  ".join(lines)

    def __str__(self) -> str:
        return self._text()


def did_you_mean(word: Any, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the nearest choice, or nothing when none is near."""
    if not isinstance(word, str):
        return ""
    near = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{near[0]}'?)" if near else ""


# The schema: key -> type, or a nested dict for a mapping with known keys.
# "verdict" is a verdict name, "rules" a map of rule id (or glob) -> verdict,
# "packs" a map of pack name -> bool, "strings" a list of strings.
SCHEMA: dict[str, Any] = {
    "extends": str,
    "description": str,
    "level": "level",
    "project_dir": str,
    "packs": "packs",
    "rules": "rules",
    "env": {"scrub": "strings"},
    "audit": {"path": str},
    # OS isolation of the session (the real Docker socket hidden behind the API guard).
    "isolation": "isolation",
    "approvals": {
        "backend": ("none", "wingman"),
        "timeout_seconds": "number",
        "poll_seconds": "number",
        "reuse_seconds": "number",
        "wingman": {"url": str, "deployment_env": str, "key_file": str},
    },
}


@dataclass(frozen=True)
class Policy:
    """What a resolved profile says: which packs run and what each rule's verdict is."""

    level: str = "default"
    packs: dict[str, bool] = field(default_factory=dict)
    rules: dict[str, Verdict] = field(default_factory=dict)

    def pack_enabled(self, name: str) -> bool:
        return self.packs.get(name, True)

    def verdict_for(self, rule: Rule) -> Verdict:
        if rule.id in self.rules:
            return self.rules[rule.id]
        # The most specific glob wins: the longest pattern that matches.
        matches = [p for p in self.rules if _is_glob(p) and fnmatch.fnmatchcase(rule.id, p)]
        if matches:
            return self.rules[max(matches, key=len)]
        return rule.verdict_at(self.level)


def _is_glob(pattern: str) -> bool:
    return any(c in pattern for c in "*?[")


def parse_profile_text(text: str, source: str, known_rule: Any = None, known_pack: Any = None, *,
                       rule_names: Iterable[str] = (), pack_names: Iterable[str] = ()) -> dict:
    """Parse and validate one profile file; returns its data as plain values.

    known_rule(id) and known_pack(name) say whether a rule target exists, so a
    typo in a rule id is an error rather than a rule that never applies;
    rule_names and pack_names are what a misspelling is compared with. Every
    problem in the file is reported at once, in one ProfileError.
    """
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        # Name the line where the broken construct starts; the problem may only show at the end.
        start, mark = getattr(exc, "context_mark", None), getattr(exc, "problem_mark", None)
        line = (start or mark).line + 1 if (start or mark) else None
        problem = getattr(exc, "problem", None) or str(exc)
        context = f"{exc.context}, " if getattr(exc, "context", None) else ""
        found = f" (at line {mark.line + 1})" if start and mark and mark.line != start.line else ""
        raise ProfileError(source, line, f"not valid YAML: {context}{problem}{found}") from None
    if node is None:
        return {}
    checker = _Checker(source, known_rule, known_pack, tuple(rule_names), tuple(pack_names))
    data = checker.mapping(node, SCHEMA, "")
    if checker.problems:
        raise ProfileError.of(checker.problems)
    return data


def _line(node) -> int:
    return node.start_mark.line + 1


class _Invalid(Exception):
    """One value is wrong; it is noted and the check goes on with the next key."""


class _Checker:
    def __init__(self, source: str, known_rule, known_pack, rule_names: tuple, pack_names: tuple):
        self.source, self.known_rule, self.known_pack = source, known_rule, known_pack
        self.rule_names, self.pack_names = rule_names, pack_names
        self.problems: list[tuple[str, int | None, str]] = []

    def note(self, node, message: str) -> None:
        self.problems.append((self.source, _line(node), message))

    def invalid(self, node, message: str) -> _Invalid:
        self.note(node, message)
        return _Invalid()

    def unique_keys(self, pairs, where: str):
        """The (key, key node, value node) of a mapping; a key given twice is a problem naming both lines."""
        first: dict = {}
        for key_node, value_node in pairs:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key in first:
                name = f"{where}.{key}" if where else key
                self.note(key_node, f"'{name}' is given twice, on line {_line(first[key])} and line {_line(key_node)}: "
                                    "keep one, the profile must mean one thing")
                continue
            first[key] = key_node
            yield key, key_node, value_node

    def mapping(self, node, schema: dict, path: str) -> dict:
        if not isinstance(node, yaml.MappingNode):
            self.note(node, f"{path or 'the profile'} must be a mapping of keys")
            return {}
        out: dict[str, Any] = {}
        for key, key_node, value_node in self.unique_keys(node.value, path):
            where = f"{path}.{key}" if path else key
            if key not in schema:
                expected = ", ".join(sorted(schema))
                self.note(key_node, f"unknown key '{where}'{did_you_mean(key, schema)} (expected one of: {expected})")
                continue
            try:
                out[key] = self.value(value_node, schema[key], where)
            except _Invalid:
                pass
        return out

    def scalar(self, node, where: str):
        if not isinstance(node, yaml.ScalarNode):
            raise self.invalid(node, f"'{where}' must be a single value")
        return yaml.safe_load(yaml.serialize(node))

    def one_of(self, node, where: str, value, choices) -> None:
        if value not in choices:
            raise self.invalid(node, f"'{where}' must be one of: {', '.join(choices)} (got {value!r})"
                                     f"{did_you_mean(value, choices)}")

    def value(self, node, spec, where: str):
        if isinstance(spec, dict):
            return self.mapping(node, spec, where)
        if spec == "strings":
            if not isinstance(node, yaml.SequenceNode):
                raise self.invalid(node, f"'{where}' must be a list of names")
            items = []
            for item_node in node.value:
                try:
                    item = self.scalar(item_node, where)
                except _Invalid:
                    continue
                if not isinstance(item, str) or not item:
                    self.note(item_node, f"'{where}' items must be non-empty strings")
                    continue
                items.append(item)
            return items
        if spec in ("rules", "packs"):
            if not isinstance(node, yaml.MappingNode):
                raise self.invalid(node, f"'{where}' must be a mapping")
            out = {}
            for _, key_node, value_node in self.unique_keys(node.value, where):
                try:
                    name = self.scalar(key_node, where)
                    value = self.scalar(value_node, f"{where}.{name}")
                    out[name] = self.rule(key_node, value_node, where, name, value) if spec == "rules" \
                        else self.pack(key_node, value_node, where, name, value)
                except _Invalid:
                    pass
            return out
        value = self.scalar(node, where)
        if spec == "level":
            self.one_of(node, where, value, LEVELS)
        elif spec == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise self.invalid(node, f"'{where}' must be a number of seconds, 0 or more (got {value!r})")
        elif spec == "isolation":
            value = "off" if value is False else value  # YAML 1.1 reads a bare `off` as false
            self.one_of(node, where, value, ISOLATION)
        elif isinstance(spec, tuple):
            self.one_of(node, where, value, spec)
        elif spec is str:
            if not isinstance(value, str) or not value:
                raise self.invalid(node, f"'{where}' must be a non-empty string (got {value!r})")
        return value

    def rule(self, key_node, value_node, where: str, name, value) -> Verdict:
        known = self.known_rule
        if not isinstance(name, str) or (known and not _is_glob(name) and not known(name)):
            self.note(key_node, f"'{where}': no rule is called '{name}'{did_you_mean(name, self.rule_names)} "
                                "(see: wingman-sandbox rules)")
        elif known and _is_glob(name) and not known(name, glob=True):
            self.note(key_node, f"'{where}': the pattern '{name}' matches no rule")
        if value not in VERDICT_NAMES:
            raise self.invalid(value_node, f"'{where}.{name}': unknown verdict {value!r} (expected allow, ask or deny)"
                                           f"{did_you_mean(value, VERDICT_NAMES)}")
        return Verdict(value)

    def pack(self, key_node, value_node, where: str, name, value) -> bool:
        if self.known_pack and not self.known_pack(name):
            self.note(key_node, f"'{where}': no rule pack is called '{name}'{did_you_mean(name, self.pack_names)}")
        if not isinstance(value, bool):
            raise self.invalid(value_node, f"'{where}.{name}' must be true or false")
        return value


def merge(base: dict, override: dict) -> dict:
    """Merge a profile over the one it extends: mappings merge, everything else replaces."""
    out = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def policy_from(data: dict) -> Policy:
    rules = {name: Verdict(value) for name, value in data.get("rules", {}).items()}
    return Policy(level=data.get("level", "default"), packs=dict(data.get("packs", {})), rules=rules)
