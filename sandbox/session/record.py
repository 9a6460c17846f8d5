"""The session record: what a session was started with, saved once in its directory."""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import platformdirs

from .layout import SESSION_FILE, STUBS_DIR

APP = "wingman-run"
GUARDED_PROGRAMS = ("docker", "docker-compose", "podman")


def runtime_root() -> Path:
    chosen = os.environ.get("WINGMAN_RUNTIME_DIR")
    if chosen:
        return Path(chosen)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        return Path(platformdirs.user_runtime_dir(APP))


def stub_cache_root() -> Path:
    """Where compiled stubs are kept between sessions: the user's own files, like the installation."""
    return Path(platformdirs.user_cache_dir(APP)) / "stubs"


@dataclass
class Session:
    id: str
    dir: str
    created: float
    cwd: str
    project_dir: str
    assistant: str
    host: str
    profile_name: str
    profile_sources: list[str]
    profile: dict
    audit_log: str
    python: str
    real: dict[str, str] = field(default_factory=dict)  # program -> real binary path
    docker_env: dict[str, str] = field(default_factory=dict)  # what the stubs give the real docker

    @property
    def path(self) -> Path:
        return Path(self.dir)

    @property
    def shim_dir(self) -> Path:
        return self.path / STUBS_DIR

    def save(self) -> None:
        target = self.path / SESSION_FILE
        tmp = target.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1))
        os.chmod(tmp, 0o600)
        tmp.replace(target)

    @classmethod
    def load(cls, directory: Path) -> "Session":
        data = json.loads((Path(directory) / SESSION_FILE).read_text())
        return cls(**data)
