"""Profiles: parse and validate YAML text into a Policy. Pure: text in, values or errors out."""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

import yaml

from .verdict import VERDICT_NAMES, Rule, Verdict

LEVELS = ("default", "strict")
ISOLATION = ("auto", "required", "off")


class ProfileError(Exception):
    """A profile that cannot be used; names the file and line."""

    def __init__(self, source: str, line: int | None, message: str):
        self.source, self.line, self.message = source, line, message
        where = f"{source}:{line}" if line else source
        super().__init__(f"{where}: {message}")


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


def parse_profile_text(text: str, source: str, known_rule: Any = None, known_pack: Any = None) -> dict:
    """Parse and validate one profile file; returns its data as plain values.

    known_rule(id) and known_pack(name) say whether a rule target exists, so a
    typo in a rule id is an error rather than a rule that never applies.
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
    return _check_mapping(node, SCHEMA, source, "", known_rule, known_pack)


def _line(node) -> int:
    return node.start_mark.line + 1


def _check_mapping(node, schema: dict, source: str, path: str, known_rule, known_pack) -> dict:
    if not isinstance(node, yaml.MappingNode):
        raise ProfileError(source, _line(node), f"{path or 'the profile'} must be a mapping of keys")
    out: dict[str, Any] = {}
    for key_node, value_node in node.value:
        key = key_node.value
        where = f"{path}.{key}" if path else key
        if key not in schema:
            expected = ", ".join(sorted(schema))
            raise ProfileError(source, _line(key_node), f"unknown key '{where}' (expected one of: {expected})")
        if key in out:
            raise ProfileError(source, _line(key_node), f"key '{where}' is given twice")
        out[key] = _check_value(value_node, schema[key], source, where, known_rule, known_pack)
    return out


def _scalar(node, source: str, where: str):
    if not isinstance(node, yaml.ScalarNode):
        raise ProfileError(source, _line(node), f"'{where}' must be a single value")
    return yaml.safe_load(yaml.serialize(node))


def _check_value(node, spec, source: str, where: str, known_rule, known_pack):
    if isinstance(spec, dict):
        return _check_mapping(node, spec, source, where, known_rule, known_pack)
    if spec == "strings":
        if not isinstance(node, yaml.SequenceNode):
            raise ProfileError(source, _line(node), f"'{where}' must be a list of names")
        items = [_scalar(item, source, where) for item in node.value]
        for item, item_node in zip(items, node.value):
            if not isinstance(item, str) or not item:
                raise ProfileError(source, _line(item_node), f"'{where}' items must be non-empty strings")
        return items
    if spec in ("rules", "packs"):
        if not isinstance(node, yaml.MappingNode):
            raise ProfileError(source, _line(node), f"'{where}' must be a mapping")
        out = {}
        for key_node, value_node in node.value:
            name = _scalar(key_node, source, where)
            value = _scalar(value_node, source, f"{where}.{name}")
            if spec == "rules":
                if not isinstance(name, str) or (known_rule and not _is_glob(name) and not known_rule(name)):
                    raise ProfileError(source, _line(key_node), f"'{where}': no rule is called '{name}' (see: wingman-sandbox rules)")
                if known_rule and _is_glob(name) and not known_rule(name, glob=True):
                    raise ProfileError(source, _line(key_node), f"'{where}': the pattern '{name}' matches no rule")
                if value not in VERDICT_NAMES:
                    raise ProfileError(source, _line(value_node), f"'{where}.{name}': unknown verdict {value!r} (expected allow, ask or deny)")
                out[name] = Verdict(value)
            else:
                if known_pack and not known_pack(name):
                    raise ProfileError(source, _line(key_node), f"'{where}': no rule pack is called '{name}'")
                if not isinstance(value, bool):
                    raise ProfileError(source, _line(value_node), f"'{where}.{name}' must be true or false")
                out[name] = value
        return out
    value = _scalar(node, source, where)
    if spec == "level":
        if value not in LEVELS:
            raise ProfileError(source, _line(node), f"'{where}' must be one of: {', '.join(LEVELS)} (got {value!r})")
    elif spec == "number":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ProfileError(source, _line(node), f"'{where}' must be a number of seconds, 0 or more (got {value!r})")
    elif spec == "isolation":
        value = "off" if value is False else value  # YAML 1.1 reads a bare `off` as false
        if value not in ISOLATION:
            raise ProfileError(source, _line(node), f"'{where}' must be one of: {', '.join(ISOLATION)} (got {value!r})")
    elif isinstance(spec, tuple):
        if value not in spec:
            raise ProfileError(source, _line(node), f"'{where}' must be one of: {', '.join(spec)} (got {value!r})")
    elif spec is str:
        if not isinstance(value, str) or not value:
            raise ProfileError(source, _line(node), f"'{where}' must be a non-empty string (got {value!r})")
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
