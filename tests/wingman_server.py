"""A Wingman-compatible approval server for tests, run as its own process on 127.0.0.1.

It speaks Wingman's published approval API: the same paths, key headers and
status values, the 422 AUTO_REJECTED answer to an instruction its validator
finds too thin, 403 for a quarantined worker, and `deduped` for an identical
pending request. Its validator is our own simplified stand-in for Wingman's
content check: the ten sections must each be a header at the start of a line
with real content under it.

It also keeps Wingman's claims ledger (`POST /log_claim`, `{"claim", "worker_id"}`
in, `{"status": "logged", "entry": ...}` out, no key, 400 without a claim).

Extra endpoints under /_test/ let a test steer it: decide, expire, quarantine,
list what was filed and the claims logged, and misbehave (500s, a body that is not JSON, JSON of the
wrong shape, slow answers).

    python3 tests/wingman_server.py --port-file FILE [--request-key K] [--read-key K]
        [--decide-key K] [--legacy-key K]

It prints `WINGMAN_TEST_SERVER http://127.0.0.1:<port>` on stdout once listening.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SECTIONS = (
    "DELIVERABLES", "SUCCESS_CRITERIA", "BOUNDARIES", "DEPENDENCIES", "MITIGATION",
    "TEST_PROCESS", "TEST_RESULTS_FORMAT", "RESOURCE_REQUIREMENTS", "RISK_ASSESSMENT", "QUALITY_METRICS",
)
PASS_SCORE = 60  # below this the instruction is auto-rejected as low quality
SECRET_PATTERN = re.compile(
    r"(?i)\b(api[_-]?key|password|passwd|secret|auth[_-]?token|access[_-]?token)\s*[=:]\s*['\"]?\S{8,}")
HEADER_PATTERN = re.compile(r"^[ \t]*(?:#+[ \t]*)?(" + "|".join(SECTIONS) + r")\b[ \t]*:?", re.I | re.M)


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat()


def score_instruction(text: str) -> dict:
    """Each section scores 0-10 by how much real content sits under its header; secrets reject outright."""
    found: dict[str, str] = {}
    headers = list(HEADER_PATTERN.finditer(text))
    for i, match in enumerate(headers):
        end = headers[i + 1].start() if i + 1 < len(headers) else len(text)
        name = match.group(1).upper()
        found.setdefault(name, text[match.end():end].strip())
    section_scores = {}
    for name in SECTIONS:
        words = len(found.get(name, "").split())
        section_scores[name] = 10 if words >= 8 else 5 if words >= 3 else 2 if words else 0
    total = sum(section_scores.values())
    weak = [n for n, s in section_scores.items() if s < 5]
    if SECRET_PATTERN.search(text):
        return {"overall_score": 0, "recommendation": "REJECT", "risk_level": "CRITICAL",
                "reasoning": "Code scanner found secrets or credentials; immediate reject.",
                "validator_scores": {"content_quality": total}}
    if total < PASS_SCORE:
        return {"overall_score": total, "recommendation": "REJECT", "risk_level": "HIGH",
                "reasoning": f"Total quality score: {total}/100. Weak sections: {', '.join(weak)}.",
                "validator_scores": {"content_quality": total}}
    return {"overall_score": total, "recommendation": "MANUAL_REVIEW", "risk_level": "MEDIUM",
            "reasoning": f"Total quality score: {total}/100. Manual review required.",
            "validator_scores": {"content_quality": total}}


def assess_risk(text: str, deployment_env: str) -> dict:
    lowered = text.lower()
    if deployment_env.lower() == "prd":
        return {"risk_level": "HIGH", "risk_reason": "Deployment environment is PRD"}
    if any(t in lowered for t in ("delete ", "rm -", "--force", "prune", "wipe")):
        return {"risk_level": "HIGH", "risk_reason": "High-risk keywords detected"}
    if any(t in lowered for t in ("stop", "kill", "restart", "deploy")):
        return {"risk_level": "MEDIUM", "risk_reason": "Medium-risk keywords detected"}
    return {"risk_level": "LOW", "risk_reason": "No high-risk indicators detected"}


class State:
    def __init__(self, keys: dict):
        self.keys = keys
        self.lock = threading.Lock()
        self.requests: dict[str, dict] = {}
        self.quarantined: dict[str, str] = {}
        self.mode = {"mode": "normal", "scope": "all", "delay": 0.0, "auto_approve": False}
        self.seen_headers: list[dict] = []
        self.claims: list[dict] = []


class Handler(BaseHTTPRequestHandler):
    server_version = "WingmanTest/1.0"
    state: State  # set on the class at startup

    def log_message(self, fmt, *args):  # keep test output clean
        pass

    # -- plumbing ------------------------------------------------------------------------------

    def _send(self, code: int, body, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json" if raw is None else "text/html")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _json(self) -> dict:
        length = int(self.headers.get("Content-Length") or 0)
        if not length:
            return {}
        try:
            data = json.loads(self.rfile.read(length))
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}

    def _authorized(self, role: str) -> bool:
        keys = self.state.keys
        header = {"request": "X-Wingman-Approval-Request-Key", "read": "X-Wingman-Approval-Read-Key",
                  "decide": "X-Wingman-Approval-Decide-Key"}[role]
        if keys.get(role):
            return (self.headers.get(header) or "").strip() == keys[role]
        # Like Wingman: the legacy single key guards reading and deciding, never filing.
        if role != "request" and keys.get("legacy"):
            return (self.headers.get("X-Wingman-Approval-Key") or "").strip() == keys["legacy"]
        return True

    def _misbehave(self, scope: str) -> bool:
        """Apply the test-chosen failure mode; True when the answer has been sent already."""
        mode = dict(self.state.mode)
        if mode["scope"] not in ("all", scope):
            return False
        if mode["delay"]:
            time.sleep(mode["delay"])
        if mode["mode"] == "error500":
            self._send(500, {"error": "database is locked"})
            return True
        if mode["mode"] == "garbage":
            self._send(200, None, raw=b"<html><body>502 Bad Gateway</body></html>")
            return True
        if mode["mode"] == "wrong_json":
            self._send(200, {"ok": True, "items": []})
            return True
        if mode["mode"] == "unauthorized":
            self._send(401, {"error": "Unauthorized"})
            return True
        return False

    # -- routes --------------------------------------------------------------------------------

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/health":
            return self._send(200, {"status": "healthy"})
        if path == "/_test/requests":
            with self.state.lock:
                return self._send(200, {"requests": list(self.state.requests.values())})
        if path == "/_test/headers":
            with self.state.lock:
                return self._send(200, {"headers": self.state.seen_headers})
        if path == "/_test/claims":
            with self.state.lock:
                return self._send(200, {"claims": list(self.state.claims)})
        self._remember_headers()
        if path == "/approvals/pending":
            if not self._authorized("read"):
                return self._send(401, {"error": "Unauthorized"})
            with self.state.lock:
                pending = [r for r in self.state.requests.values() if r["status"] == "PENDING"]
            return self._send(200, {"pending": pending, "count": len(pending)})
        match = re.fullmatch(r"/approvals/([^/]+)", path)
        if match:
            if not self._authorized("read"):
                return self._send(401, {"error": "Unauthorized"})
            if self._misbehave("poll"):
                return None
            with self.state.lock:
                request = self.state.requests.get(match.group(1))
            if not request:
                return self._send(404, {"error": "Not found"})
            return self._send(200, request)
        return self._send(404, {"error": "Not found"})

    def do_POST(self):
        path = self.path.split("?", 1)[0]
        body = self._json()
        if path.startswith("/_test/"):
            return self._control(path, body)
        self._remember_headers()
        if path == "/approvals/request":
            return self._file_request(body)
        if path == "/log_claim":
            return self._log_claim(body)
        match = re.fullmatch(r"/approvals/([^/]+)/(approve|reject)", path)
        if match:
            if not self._authorized("decide"):
                return self._send(401, {"error": "Unauthorized"})
            decision = "APPROVED" if match.group(2) == "approve" else "REJECTED"
            return self._decide(match.group(1), decision, body)
        return self._send(404, {"error": "Not found"})

    def _remember_headers(self):
        with self.state.lock:
            self.state.seen_headers.append({k: v for k, v in self.headers.items()})

    def _file_request(self, body: dict):
        if not self._authorized("request"):
            return self._send(401, {"error": "Unauthorized"})
        if self._misbehave("request"):
            return None
        instruction = str(body.get("instruction") or "").strip()
        worker_id = str(body.get("worker_id", "unknown"))
        task_name = str(body.get("task_name") or "").strip()
        deployment_env = str(body.get("deployment_env") or "").strip()
        state = self.state
        with state.lock:
            if worker_id in state.quarantined:
                return self._send(403, {
                    "needs_approval": False, "status": "AUTO_REJECTED", "rejection_reason": "WORKER_QUARANTINED",
                    "reason": f"Worker quarantined: {state.quarantined[worker_id]}",
                    "quarantined_at": now_iso(), "environment": deployment_env or "Unknown",
                    "message": "Release this worker via /release_worker before it files requests again"})
        if not instruction:
            return self._send(400, {"error": "Missing 'instruction' field"})
        validation = score_instruction(instruction)
        if validation["recommendation"] == "REJECT":
            record = self._store(worker_id, task_name, instruction, "CRITICAL", validation["reasoning"],
                                 "AUTO_REJECTED")
            return self._send(422, {"needs_approval": False, "status": "AUTO_REJECTED",
                                    "rejection_reason": "VALIDATION_FAILED", "request": record,
                                    "validation": validation})
        risk = assess_risk(f"{task_name}\n{instruction}", deployment_env)
        if state.mode["auto_approve"]:
            record = self._store(worker_id, task_name, instruction, risk["risk_level"], risk["risk_reason"],
                                 "AUTO_APPROVED")
            return self._send(200, {"needs_approval": False, "status": "AUTO_APPROVED", "request": record,
                                    "risk": risk, "validation": validation})
        fingerprint = hashlib.sha256(
            f"{worker_id}\n{task_name}\n{risk['risk_level']}\n{instruction}".encode()).hexdigest()
        with state.lock:
            for existing in state.requests.values():
                if existing["fingerprint"] == fingerprint and existing["status"] == "PENDING":
                    return self._send(200, {"needs_approval": True, "status": "PENDING", "request": existing,
                                            "risk": risk, "deduped": True})
        record = self._store(worker_id, task_name, instruction, risk["risk_level"], risk["risk_reason"], "PENDING")
        return self._send(200, {"needs_approval": True, "status": "PENDING", "request": record, "risk": risk,
                                "validation": validation})

    def _log_claim(self, body: dict):
        """Wingman's claims ledger: no key, 400 without a claim, the entry echoed back."""
        if "claim" not in body:
            return self._send(400, {"error": "Missing 'claim' field"})
        entry = {"timestamp": datetime.now().isoformat(), "worker_id": body.get("worker_id", "unknown"),
                 "claim": body.get("claim"), "status": "PENDING_VERIFICATION"}
        with self.state.lock:
            self.state.claims.append(entry)
        return self._send(200, {"status": "logged", "entry": entry})

    def _store(self, worker_id, task_name, instruction, risk_level, risk_reason, status) -> dict:
        record = {
            "request_id": str(uuid.uuid4()), "created_at": now_iso(), "status": status,
            "worker_id": worker_id, "task_name": task_name, "instruction": instruction,
            "risk_level": risk_level, "risk_reason": risk_reason,
            "fingerprint": hashlib.sha256(
                f"{worker_id}\n{task_name}\n{risk_level}\n{instruction}".encode()).hexdigest(),
            "decided_at": None, "decided_by": None, "decision_note": None,
        }
        with self.state.lock:
            self.state.requests[record["request_id"]] = record
        return dict(record)

    def _decide(self, request_id: str, decision: str, body: dict):
        decided_by = str(body.get("decided_by") or "").strip() or None
        note = str(body.get("note") or "").strip() or None
        with self.state.lock:
            record = self.state.requests.get(request_id)
            if not record:
                return self._send(404, {"error": "Not found"})
            if record["status"] == "PENDING":  # idempotent once decided, like Wingman
                record.update(status=decision, decided_at=now_iso(), decided_by=decided_by, decision_note=note)
            return self._send(200, dict(record))

    def _control(self, path: str, body: dict):
        state = self.state
        if path == "/_test/mode":
            with state.lock:
                state.mode = {"mode": body.get("mode", "normal"), "scope": body.get("scope", "all"),
                              "delay": float(body.get("delay", 0)), "auto_approve": bool(body.get("auto_approve"))}
            return self._send(200, state.mode)
        if path == "/_test/quarantine":
            with state.lock:
                state.quarantined[str(body.get("worker_id"))] = str(body.get("reason") or "too many rejections")
            return self._send(200, {"ok": True})
        match = re.fullmatch(r"/_test/(approve|reject|expire)/([^/]+)", path)
        if match:
            status = {"approve": "APPROVED", "reject": "REJECTED", "expire": "EXPIRED"}[match.group(1)]
            with state.lock:
                record = state.requests.get(match.group(2))
                if not record:
                    return self._send(404, {"error": "Not found"})
                record.update(status=status, decided_at=now_iso(), decided_by=body.get("decided_by"),
                              decision_note=body.get("note"))
                return self._send(200, dict(record))
        return self._send(404, {"error": "Not found"})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    for role in ("request", "read", "decide", "legacy"):
        parser.add_argument(f"--{role}-key")
    args = parser.parse_args(argv)
    Handler.state = State({role: getattr(args, f"{role}_key") for role in ("request", "read", "decide", "legacy")})
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    url = f"http://127.0.0.1:{server.server_address[1]}"
    if args.port_file:
        tmp = Path(args.port_file + ".tmp")
        tmp.write_text(url)
        tmp.replace(args.port_file)
    print(f"WINGMAN_TEST_SERVER {url}", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
