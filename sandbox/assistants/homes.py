"""Session copies of an assistant's config directory: the user's entries linked in, one file replaced.

Some assistants read their hooks only from a fixed place under a home
directory. The session gives them a home of its own whose entries are links
to the user's, so history, credentials and caches are the user's own, and
what the assistant writes inside them lands in the user's files. The file
that carries our hook is a session copy. A new entry the assistant makes
beside the links, or a file it replaces by renaming over it, stays in the
session home and goes with it.
"""

from __future__ import annotations

import json
from pathlib import Path


class ConfigReadError(Exception):
    """A user's config file that exists but cannot be read as a JSON object."""


def link_entries(source: Path, target: Path, keep_out: set[str]) -> None:
    """Make target a directory whose entries link to source's, except the names in keep_out."""
    target.mkdir(parents=True, mode=0o700, exist_ok=True)
    if not source.is_dir():
        return
    for entry in source.iterdir():
        if entry.name not in keep_out:
            (target / entry.name).symlink_to(entry)


def strip_json_comments(text: str) -> str:
    """JSON with // and /* */ comments (as Gemini CLI and VS Code accept) as plain JSON; strings kept whole."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == '"':
            end = i + 1
            while end < n and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            out.append(text[i:end + 1])
            i = end + 1
        elif text.startswith("//", i):
            newline = text.find("\n", i)
            i = n if newline < 0 else newline
        elif text.startswith("/*", i):
            close = text.find("*/", i + 2)
            i = n if close < 0 else close + 2
            out.append(" ")
        else:
            out.append(char)
            i += 1
    return "".join(out)


def read_json_object(path: Path, comments: bool = False) -> dict | None:
    """The JSON object in path, None when there is no such file."""
    try:
        text = path.read_text()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigReadError(f"{path} cannot be read ({exc.strerror or exc})") from None
    try:
        data = json.loads(strip_json_comments(text) if comments else text)
    except ValueError as exc:
        raise ConfigReadError(f"{path} is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigReadError(f"{path} is not a JSON object")
    return data
