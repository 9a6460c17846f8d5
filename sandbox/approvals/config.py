"""Where Wingman is and which keys to send: read once by the launcher, outside the session.

Keys come from the launcher's environment or from a key file; the session itself
never sees them (the launcher persists the settings in a private 0600 file).

Key file format (``approvals.wingman.key_file`` or ``<config dir>/wingman-keys``),
mode 0600, owned by the user, one ``NAME=VALUE`` a line, ``#`` comments, an
optional ``export`` prefix and optional quotes::

    WINGMAN_APPROVAL_REQUEST_KEY=...
    WINGMAN_APPROVAL_READ_KEY=...
    # or the legacy single key, sent as X-Wingman-Approval-Key:
    WINGMAN_APPROVAL_API_KEY=...

A key set in the environment wins over the same key in the file.
"""

from __future__ import annotations

import json
import os
import stat
import tempfile
import urllib.parse
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Mapping

URL_ENV = "WINGMAN_API_URL"
REQUEST_KEY_ENV = "WINGMAN_APPROVAL_REQUEST_KEY"
READ_KEY_ENV = "WINGMAN_APPROVAL_READ_KEY"
LEGACY_KEY_ENV = "WINGMAN_APPROVAL_API_KEY"
DECIDE_KEY_ENV = "WINGMAN_APPROVAL_DECIDE_KEY"  # only named in the curl hint; we never decide
KEY_NAMES = (REQUEST_KEY_ENV, READ_KEY_ENV, LEGACY_KEY_ENV)
KEY_FILE_NAME = "wingman-keys"

DEFAULT_POLL_SECONDS = 2.0
DEFAULT_TIMEOUT_SECONDS = 300.0
DEFAULT_DEPLOYMENT_ENV = "development"


class ApprovalConfigError(Exception):
    """The approval backend is misconfigured. The message never contains a key value."""


@dataclass(frozen=True)
class WingmanSettings:
    url: str
    request_key: str | None = field(default=None, repr=False)
    read_key: str | None = field(default=None, repr=False)
    legacy_key: str | None = field(default=None, repr=False)
    poll_seconds: float = DEFAULT_POLL_SECONDS
    timeout_seconds: float = DEFAULT_TIMEOUT_SECONDS
    deployment_env: str = DEFAULT_DEPLOYMENT_ENV
    reuse_seconds: float = 0.0
    # Fail fast when Wingman is down or hangs: a refusal within seconds beats a frozen terminal.
    connect_timeout_seconds: float = 3.0
    answer_timeout_seconds: float = 10.0

    def secrets(self) -> tuple[str, ...]:
        return tuple(k for k in (self.request_key, self.read_key, self.legacy_key) if k)

    def redact(self, text: str) -> str:
        """Defence in depth: whatever text we show or log, no key value survives in it."""
        for secret in sorted(self.secrets(), key=len, reverse=True):
            text = text.replace(secret, "[key hidden]")
        return text

    def to_json(self) -> str:
        """For the session's private 0600 settings file; this text holds the keys."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "WingmanSettings":
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise ApprovalConfigError(f"approval settings are not valid JSON ({type(exc).__name__})") from None
        if not isinstance(data, dict) or not isinstance(data.get("url"), str):
            raise ApprovalConfigError("approval settings lack the Wingman URL")
        known = {f.name for f in fields(cls)}
        try:
            settings = cls(**{k: v for k, v in data.items() if k in known})
        except TypeError:
            raise ApprovalConfigError("approval settings have the wrong shape") from None
        _check_settings(settings)
        return settings


def save_settings(path: Path, settings: WingmanSettings) -> None:
    """Write the settings to a new 0600 file, atomically: no moment where another user could read the keys."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".wingman-settings.")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(settings.to_json())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def read_settings(path: Path) -> WingmanSettings:
    path = Path(path)
    _check_private(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ApprovalConfigError(f"cannot read approval settings {path}: {exc.strerror}") from None
    return WingmanSettings.from_json(text)


def load_settings(approvals: Mapping, environ: Mapping[str, str], config_dir: Path) -> WingmanSettings | None:
    """The Wingman settings for a session, or None when no approval backend is configured (ask then means deny)."""
    approvals = approvals or {}
    backend = approvals.get("backend")
    if backend == "none":
        return None
    wingman = approvals.get("wingman") or {}
    url = (wingman.get("url") or environ.get(URL_ENV) or "").strip()
    if not url:
        if backend == "wingman":
            raise ApprovalConfigError(
                f"approvals.backend is wingman but no URL is set: add approvals.wingman.url to the profile or set {URL_ENV}")
        return None
    url = _check_url(url)

    keys = _keys_from_file(wingman.get("key_file"), Path(config_dir))
    for name in KEY_NAMES:
        value = (environ.get(name) or "").strip()
        if value:
            keys[name] = value
    for name, value in keys.items():
        _check_key(name, value)

    settings = WingmanSettings(
        url=url,
        request_key=keys.get(REQUEST_KEY_ENV),
        read_key=keys.get(READ_KEY_ENV),
        legacy_key=keys.get(LEGACY_KEY_ENV),
        poll_seconds=float(approvals.get("poll_seconds", DEFAULT_POLL_SECONDS)),
        timeout_seconds=float(approvals.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS)),
        deployment_env=str(wingman.get("deployment_env") or DEFAULT_DEPLOYMENT_ENV),
        reuse_seconds=float(approvals.get("reuse_seconds", 0) or 0),
    )
    _check_settings(settings)
    return settings


def _check_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ApprovalConfigError(f"Wingman URL must look like http://host:port, got {_safe_url(url)!r}")
    if parts.username or parts.password:
        # A password in the URL would end up in every message that shows the URL.
        raise ApprovalConfigError("Wingman URL must not hold credentials; put the keys in the key file instead")
    if parts.query or parts.fragment:
        raise ApprovalConfigError(f"Wingman URL must not have a query or fragment: {_safe_url(url)!r}")
    return url.rstrip("/")


def _safe_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        if parts.port:
            host += f":{parts.port}"
        return urllib.parse.urlunsplit((parts.scheme, host, parts.path, "", ""))
    return url


def _check_key(name: str, value: str) -> None:
    # A key with a newline or control character would let it forge HTTP headers.
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in value):
        raise ApprovalConfigError(f"{name} contains whitespace or control characters; fix its value")


def _check_settings(s: WingmanSettings) -> None:
    _check_url(s.url)
    for name in ("poll_seconds", "timeout_seconds", "connect_timeout_seconds", "answer_timeout_seconds"):
        value = getattr(s, name)
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
            raise ApprovalConfigError(f"approvals {name} must be a positive number")
    if not isinstance(s.reuse_seconds, (int, float)) or s.reuse_seconds < 0:
        raise ApprovalConfigError("approvals reuse_seconds must be zero or more")
    for key in s.secrets():
        if not isinstance(key, str):
            raise ApprovalConfigError("approval keys must be strings")


def _keys_from_file(configured: str | None, config_dir: Path) -> dict[str, str]:
    path = Path(os.path.expanduser(configured)) if configured else config_dir / KEY_FILE_NAME
    if not path.exists():
        if configured:
            raise ApprovalConfigError(f"approvals.wingman.key_file {path} does not exist")
        return {}
    _check_private(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ApprovalConfigError(f"cannot read key file {path}: {type(exc).__name__}") from None
    return parse_key_file(text, path)


def parse_key_file(text: str, path: Path | str = "key file") -> dict[str, str]:
    keys: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export "):].strip()
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not name:
            # Never echo the line: it may be a key pasted without its name.
            raise ApprovalConfigError(f"{path} line {number}: expected NAME=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        if name not in KEY_NAMES:
            raise ApprovalConfigError(f"{path} line {number}: unknown name {name}; expected one of {', '.join(KEY_NAMES)}")
        if value:
            keys[name] = value
    return keys


def _check_private(path: Path) -> None:
    try:
        info = path.stat()
    except OSError as exc:
        raise ApprovalConfigError(f"cannot read {path}: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise ApprovalConfigError(f"{path} is not a regular file")
    if info.st_mode & 0o077:
        raise ApprovalConfigError(
            f"{path} holds approval keys but other users can read it (mode {stat.S_IMODE(info.st_mode):04o}); "
            f"run: chmod 600 {path}")
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise ApprovalConfigError(f"{path} holds approval keys but belongs to another user; it must be yours")
