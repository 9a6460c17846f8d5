"""Find, load and resolve profiles: built-in, the user's, and a project's .wingman.yaml."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from ..policy.packs import ALL_RULES, PACKS, known_pack, known_rule
from ..policy.profile import Policy, ProfileError, did_you_mean, merge, parse_profile_text, policy_from
from ..resources import builtin_profiles_dir

APP = "wingman-run"
PROJECT_FILE = ".wingman.yaml"
MAX_EXTENDS = 8


def user_config_dir() -> Path:
    return Path(os.environ.get("WINGMAN_CONFIG_DIR") or platformdirs.user_config_dir(APP))


@dataclass(frozen=True)
class ResolvedProfile:
    name: str
    sources: tuple[str, ...]  # the files read, the base first
    data: dict = field(default_factory=dict)
    project_dir: str = "/"

    @property
    def policy(self) -> Policy:
        return policy_from(self.data)

    @property
    def approvals(self) -> dict:
        return dict(self.data.get("approvals", {}))

    @property
    def scrub(self) -> list[str]:
        return list(self.data.get("env", {}).get("scrub", []))

    @property
    def audit_path(self) -> str | None:
        return self.data.get("audit", {}).get("path")


def find_project_profile(start: Path) -> Path | None:
    for directory in (start, *start.parents):
        candidate = directory / PROJECT_FILE
        if candidate.is_file():
            return candidate
    return None


def named_profiles() -> list[tuple[str, Path, str]]:
    """(name, path, origin) of every named profile, the user's shadowing built-in ones."""
    found: dict[str, tuple[str, Path, str]] = {}
    for origin, directory in (("built-in", builtin_profiles_dir()), ("user", user_config_dir() / "profiles")):
        if directory.is_dir():
            for path in sorted(directory.glob("*.yaml")):
                found[path.stem] = (path.stem, path, origin)
    return sorted(found.values())


def _lookup(name: str, skip: Path | None) -> Path:
    candidates = [user_config_dir() / "profiles" / f"{name}.yaml", builtin_profiles_dir() / f"{name}.yaml"]
    for path in candidates:
        if path.is_file() and path != skip:
            return path
    names = [found for found, _, _ in named_profiles()]
    raise ProfileError(name, None, f"no profile called '{name}'{did_you_mean(name, names)} (see: wingman-sandbox profiles)")


def _is_path(selector: str) -> bool:
    return "/" in selector or selector.endswith((".yaml", ".yml"))


def load_file(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProfileError(str(path), None, f"cannot read: {exc}") from None
    return parse_profile_text(text, str(path), known_rule=known_rule, known_pack=known_pack,
                              rule_names=ALL_RULES, pack_names=PACKS)


def _load_chain(path: Path, implicit_base: str | None) -> tuple[dict, list[str]]:
    """Load a profile and everything it extends; the base comes first in the sources."""
    chain: list[tuple[Path, dict]] = []
    current: Path | None = path
    seen: set[Path] = set()
    while current is not None:
        if current in seen or len(chain) >= MAX_EXTENDS:
            raise ProfileError(str(current), None, "profiles extend each other in a loop")
        seen.add(current)
        data = load_file(current)
        chain.append((current, data))
        parent = data.get("extends")
        if parent is None and current == path and implicit_base and current.stem != implicit_base:
            parent = implicit_base
        if parent is None:
            current = None
        elif _is_path(parent):
            current = (current.parent / parent).resolve()
            if not current.is_file():
                raise ProfileError(str(chain[-1][0]), None, f"extends '{parent}', which does not exist")
        else:
            current = _lookup(parent, skip=current)
    merged: dict = {}
    for _, data in reversed(chain):
        merged = merge(merged, {k: v for k, v in data.items() if k != "extends"})
    return merged, [str(p) for p, _ in reversed(chain)]


def resolve(selector: str | None, cwd: Path) -> ResolvedProfile:
    """The profile that applies: --profile if given, else the project's, else 'default'."""
    project_file = None
    if selector:
        path = Path(selector).expanduser() if _is_path(selector) else _lookup(selector, skip=None)
        if not path.is_file():
            raise ProfileError(selector, None, "no such profile file")
        name = selector
    else:
        project_file = find_project_profile(cwd)
        path = project_file or _lookup("default", skip=None)
        name = str(project_file) if project_file else "default"
    data, sources = _load_chain(path.resolve(), implicit_base="default")
    project_dir = Path(project_file.parent if project_file else cwd)
    if "project_dir" in data:
        project_dir = (Path(sources[-1]).parent / os.path.expanduser(data["project_dir"])).resolve()
    return ResolvedProfile(name, tuple(sources), data, str(project_dir))
