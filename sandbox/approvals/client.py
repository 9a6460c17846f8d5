"""Wingman's approval API over HTTP: file a request, read it back. Nothing else.

Every failure becomes a WingmanError whose message says what went wrong and how
to fix it; key values never appear in it. Answers are checked against the shapes
Wingman publishes: anything else is an error, never a guess.
"""

from __future__ import annotations

import http.client
import json
import socket
import ssl
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from .config import LEGACY_KEY_ENV, READ_KEY_ENV, REQUEST_KEY_ENV, URL_ENV, WingmanSettings

REQUEST_PATH = "/approvals/request"
REQUEST_KEY_HEADER = "X-Wingman-Approval-Request-Key"
READ_KEY_HEADER = "X-Wingman-Approval-Read-Key"
DECIDE_KEY_HEADER = "X-Wingman-Approval-Decide-Key"
LEGACY_KEY_HEADER = "X-Wingman-Approval-Key"

PENDING = "PENDING"
APPROVED_STATUSES = frozenset({"APPROVED", "AUTO_APPROVED"})
REFUSED_STATUSES = frozenset({"REJECTED", "AUTO_REJECTED", "EXPIRED"})
KNOWN_STATUSES = APPROVED_STATUSES | REFUSED_STATUSES | {PENDING}
MAX_BODY = 1 << 20


class WingmanError(Exception):
    """Wingman could not give a usable answer. `kind` sorts it: unreachable, auth, server, protocol."""

    def __init__(self, kind: str, message: str, *, transient: bool = False):
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.transient = transient  # worth another try while polling (network blip, 5xx)


@dataclass(frozen=True)
class Submitted:
    """Wingman's answer to a new request."""

    status: str  # PENDING, AUTO_APPROVED or AUTO_REJECTED
    request_id: str | None
    risk_level: str | None = None
    risk_reason: str | None = None
    deduped: bool = False
    reason: str | None = None  # why it was auto-rejected, in Wingman's words


@dataclass(frozen=True)
class RequestState:
    """One read of a request: its status and, once decided, who decided and their note."""

    request_id: str
    status: str
    risk_level: str | None = None
    decided_by: str | None = None
    note: str | None = None


class WingmanClient:
    def __init__(self, settings: WingmanSettings):
        self.settings = settings
        parts = urllib.parse.urlsplit(settings.url)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port
        self._base_path = parts.path.rstrip("/")

    # -- the two calls -------------------------------------------------------------------------

    def submit(self, payload: dict) -> Submitted:
        headers = {}
        if self.settings.request_key:
            headers[REQUEST_KEY_HEADER] = self.settings.request_key
        if self.settings.legacy_key:
            headers[LEGACY_KEY_HEADER] = self.settings.legacy_key
        code, body = self._call("POST", REQUEST_PATH, headers, payload)
        return self._read_submitted(code, body)

    def fetch(self, request_id: str) -> RequestState:
        headers = {}
        if self.settings.read_key:
            headers[READ_KEY_HEADER] = self.settings.read_key
        if self.settings.legacy_key:
            headers[LEGACY_KEY_HEADER] = self.settings.legacy_key
        path = "/approvals/" + urllib.parse.quote(request_id, safe="")
        code, body = self._call("GET", path, headers, None)
        return self._read_state(code, body, request_id)

    # -- answers -------------------------------------------------------------------------------

    def _read_submitted(self, code: int, body: Any) -> Submitted:
        if code == 401:
            raise WingmanError("auth", self._redact(
                f"Wingman refused our request key (401 Unauthorized at {self._url(REQUEST_PATH)}). "
                f"Fix: set {REQUEST_KEY_ENV} to a key Wingman accepts, in the launcher's environment "
                f"or the wingman-keys file, then start the session again."))
        if code == 403 and isinstance(body, dict) and body.get("rejection_reason") == "WORKER_QUARANTINED":
            reason = _text(body.get("reason")) or "worker quarantined"
            hint = _text(body.get("message"))
            return Submitted("AUTO_REJECTED", None, reason=f"{reason}. {hint}".strip(" ."))
        if code == 403:
            raise WingmanError("auth", self._redact(
                f"Wingman answered 403 Forbidden at {self._url(REQUEST_PATH)}: this key may not file approval "
                f"requests. Fix: use a request key ({REQUEST_KEY_ENV}) that Wingman lists."))
        if code == 422:
            if not isinstance(body, dict) or body.get("status") != "AUTO_REJECTED":
                raise self._unexpected(code, body, REQUEST_PATH)
            request = body.get("request") if isinstance(body.get("request"), dict) else {}
            validation = body.get("validation") if isinstance(body.get("validation"), dict) else {}
            reason = _text(validation.get("reasoning")) or _text(body.get("rejection_reason")) or "validation failed"
            return Submitted("AUTO_REJECTED", _text(request.get("request_id")),
                             risk_level=_text(request.get("risk_level")), reason=reason)
        if code != 200:
            raise self._status_error(code, body, REQUEST_PATH)
        if not isinstance(body, dict):
            raise self._unexpected(code, body, REQUEST_PATH)
        status = body.get("status")
        request = body.get("request")
        if status not in (PENDING, "AUTO_APPROVED") or not isinstance(request, dict):
            raise self._unexpected(code, body, REQUEST_PATH)
        request_id = _text(request.get("request_id"))
        if not request_id:
            raise self._unexpected(code, body, REQUEST_PATH)
        risk = body.get("risk") if isinstance(body.get("risk"), dict) else {}
        return Submitted(
            status=status,
            request_id=request_id,
            risk_level=_text(risk.get("risk_level")) or _text(request.get("risk_level")),
            risk_reason=_text(risk.get("risk_reason")) or _text(request.get("risk_reason")),
            deduped=body.get("deduped") is True,
        )

    def _read_state(self, code: int, body: Any, request_id: str) -> RequestState:
        path = "/approvals/" + request_id
        if code in (401, 403):
            raise WingmanError("auth", self._redact(
                f"Wingman refused our read key ({code}) at {self._url(path)}. Fix: set {READ_KEY_ENV} "
                f"(or the legacy {LEGACY_KEY_ENV}) to a key Wingman accepts for reading approvals."))
        if code == 404:
            raise WingmanError("protocol", self._redact(
                f"Wingman no longer knows request {request_id} (404): it may have restarted with a new database. "
                f"Run the command again to file a new request."))
        if code != 200:
            raise self._status_error(code, body, path)
        if not isinstance(body, dict) or body.get("status") not in KNOWN_STATUSES:
            raise self._unexpected(code, body, path)
        if body.get("request_id") not in (None, request_id):
            raise self._unexpected(code, body, path)
        return RequestState(
            request_id=request_id,
            status=body["status"],
            risk_level=_text(body.get("risk_level")),
            decided_by=_text(body.get("decided_by")),
            note=_text(body.get("decision_note")),
        )

    def _status_error(self, code: int, body: Any, path: str) -> WingmanError:
        said = _said(body)
        if code == 404:
            return WingmanError("protocol", self._redact(
                f"nothing answers {self._url(path)} (404). Fix: point approvals.wingman.url or {URL_ENV} at "
                f"Wingman's API (the service that serves /approvals/request)."))
        if code == 400:
            return WingmanError("protocol", self._redact(f"Wingman called our request malformed (400){said}."))
        if code >= 500:
            return WingmanError("server", self._redact(
                f"Wingman failed with {code} at {self._url(path)}{said}. Fix: check Wingman's logs and "
                f"health, then run the command again."), transient=True)
        return self._unexpected(code, body, path)

    def _unexpected(self, code: int, body: Any, path: str) -> WingmanError:
        if body is _NOT_JSON:
            what = "a body that is not JSON"
        else:
            what = "JSON that is not an approval answer"
        return WingmanError("protocol", self._redact(
            f"Wingman answered {code} with {what} at {self._url(path)}. Fix: check that approvals.wingman.url "
            f"or {URL_ENV} points at Wingman's API and not another service."))

    # -- transport -----------------------------------------------------------------------------

    def _call(self, method: str, path: str, headers: dict, payload: dict | None) -> tuple[int, Any]:
        s = self.settings
        where = self.settings.url
        data = None
        headers = {"Accept": "application/json", "User-Agent": "wingman-run", **headers}
        if payload is not None:
            data = json.dumps(payload).encode("utf-8")
            headers["Content-Type"] = "application/json"
        conn_class = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
        conn = conn_class(self._host, self._port, timeout=s.connect_timeout_seconds)
        deadline = time.monotonic() + s.connect_timeout_seconds + s.answer_timeout_seconds
        try:
            try:
                conn.connect()
            except ConnectionRefusedError:
                raise WingmanError("unreachable", f"cannot reach Wingman at {where}: connection refused. "
                                   f"Fix: start Wingman, or point approvals.wingman.url or {URL_ENV} at it.",
                                   transient=True) from None
            except socket.gaierror:
                raise WingmanError("unreachable", f"cannot resolve the Wingman host in {where}. "
                                   f"Fix: correct approvals.wingman.url or {URL_ENV}.", transient=True) from None
            except (socket.timeout, TimeoutError):
                raise WingmanError("unreachable", f"no connection to Wingman at {where} within "
                                   f"{s.connect_timeout_seconds:g} s. Fix: check that Wingman runs and the "
                                   f"address is right.", transient=True) from None
            except ssl.SSLError as exc:
                raise WingmanError("unreachable", f"TLS failed with Wingman at {where} ({exc.reason}). "
                                   f"Fix: check the certificate or use the right scheme.") from None
            except OSError as exc:
                raise WingmanError("unreachable", f"cannot reach Wingman at {where}: {exc.strerror or exc}. "
                                   f"Fix: check that Wingman runs and the address is right.",
                                   transient=True) from None
            conn.sock.settimeout(s.answer_timeout_seconds)
            try:
                conn.request(method, self._base_path + path, body=data, headers=headers)
                response = conn.getresponse()
                raw = _read_limited(response, deadline)
            except (socket.timeout, TimeoutError):
                raise WingmanError("unreachable", f"Wingman at {where} accepted the connection but gave no "
                                   f"answer within {s.answer_timeout_seconds:g} s. Fix: check Wingman's health "
                                   f"and logs.", transient=True) from None
            except (http.client.HTTPException, OSError) as exc:
                raise WingmanError("unreachable", f"the connection to Wingman at {where} broke "
                                   f"({type(exc).__name__}). Fix: check Wingman's health and logs.",
                                   transient=True) from None
        finally:
            conn.close()
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            body = _NOT_JSON
        return response.status, body

    def _url(self, path: str) -> str:
        return self.settings.url + path

    def _redact(self, text: str) -> str:
        return self.settings.redact(text)


class _NotJson:
    def __repr__(self) -> str:
        return "<not JSON>"


_NOT_JSON = _NotJson()


def _read_limited(response: http.client.HTTPResponse, deadline: float) -> bytes:
    """Read the body, but give up at the deadline: a server trickling bytes must not hold us forever."""
    chunks = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError("answer took too long")
        chunk = response.read1(65536) if hasattr(response, "read1") else response.read(65536)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > MAX_BODY:
            return b"".join(chunks)  # truncated: will fail to parse as JSON, which is the right outcome
        chunks.append(chunk)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        return value[:500] or None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _said(body: Any) -> str:
    if isinstance(body, dict):
        error = _text(body.get("error"))
        if error:
            return f": {error[:200]}"
    return ""
