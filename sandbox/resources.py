"""Where the files that ship with the package live: built-in profiles and shell hooks."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    # Installed wheels carry the files inside the package; a source checkout
    # (or an editable install) has them at the top of the repository.
    installed = _PACKAGE / "_data" / name
    return installed if installed.is_dir() else _PACKAGE.parent / name


def builtin_profiles_dir() -> Path:
    return _data_dir("profiles")


def shell_hooks_dir() -> Path:
    return _data_dir("shell-hooks")
