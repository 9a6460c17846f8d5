"""A scripted stand-in for the Anthropic Messages API, run as its own process on 127.0.0.1.

Claude Code talks to it through ANTHROPIC_BASE_URL. The script is a list of
shell commands: the answer to a conversation that has seen K tool results is
a `tool_use` block for `Bash` running command K, streamed as Claude's API
streams it (message_start, content_block_start, input_json_delta,
content_block_stop, message_delta with stop_reason tool_use, message_stop);
once every command has had its result, a final text answer. The step comes
from the conversation itself, not from a counter, so side requests Claude Code
makes (titles, summaries, token counts) and retries do not move the script.

Every request body is recorded (JSON lines in --log, and GET /_test/requests),
so a test reads the `tool_result` blocks the CLI sent back, with `is_error`.

    python3 tests/model_api.py --port-file FILE [--log FILE] [--script JSON] [--final TEXT]

Steering: POST /_test/script {"commands": [...], "final": "..."} replaces the
script; POST /_test/reset forgets the recorded requests.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from stand_in import FINAL_TEXT, StandIn, command_line, read_json_body, serve

MODEL = "claude-sonnet-4-5"


class Script:
    """The commands to run, the final answer, and every request body seen."""

    def __init__(self, commands: list[str], final: str, log: Path | None):
        self.lock = threading.Lock()
        self.commands = list(commands)
        self.final = final
        self.log = log
        self.requests: list[dict] = []

    def record(self, path: str, body: dict, received: float) -> dict:
        entry = {"path": path, "received": received, "answered": None, "body": body}
        with self.lock:
            self.requests.append(entry)
        return entry

    def finish(self, entry: dict) -> None:
        """The answer is out: note when (the CLI's tool call starts now) and log the request."""
        with self.lock:
            entry["answered"] = time.time()
            if self.log:
                with self.log.open("a") as handle:
                    handle.write(json.dumps(entry) + "\n")

    def replace(self, commands: list[str], final: str | None) -> None:
        with self.lock:
            self.commands = list(commands)
            if final is not None:
                self.final = final


def tool_results_seen(body: dict) -> int:
    """How many Bash calls this conversation has already had answered."""
    count = 0
    for message in body.get("messages", []):
        content = message.get("content")
        if message.get("role") == "user" and isinstance(content, list):
            count += sum(1 for block in content if isinstance(block, dict) and block.get("type") == "tool_result")
    return count


def offers_bash(body: dict) -> bool:
    return any(isinstance(tool, dict) and tool.get("name") == "Bash" for tool in body.get("tools") or [])


def next_block(script: Script, body: dict) -> dict:
    """The content block that answers this request: the next Bash call, or text."""
    step = tool_results_seen(body)
    if offers_bash(body) and step < len(script.commands):
        return {"type": "tool_use", "id": f"toolu_{step:02d}_{uuid.uuid4().hex[:16]}", "name": "Bash",
                "input": {"command": script.commands[step], "description": f"step {step + 1}"}}
    return {"type": "text", "text": script.final if offers_bash(body) else "ok"}


def sse(event: str, data: dict) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


def stream_events(block: dict, model: str) -> list[bytes]:
    message_id = "msg_" + uuid.uuid4().hex[:24]
    usage = {"input_tokens": 12, "output_tokens": 1, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    events = [sse("message_start", {"type": "message_start", "message": {
        "id": message_id, "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": usage}})]
    if block["type"] == "tool_use":
        start = {k: block[k] for k in ("type", "id", "name")} | {"input": {}}
        events.append(sse("content_block_start", {"type": "content_block_start", "index": 0, "content_block": start}))
        text = json.dumps(block["input"])
        for i in range(0, len(text), 40):  # in pieces, as the real API streams partial JSON
            events.append(sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                      "delta": {"type": "input_json_delta", "partial_json": text[i:i + 40]}}))
        stop_reason = "tool_use"
    else:
        events.append(sse("content_block_start", {"type": "content_block_start", "index": 0,
                                                  "content_block": {"type": "text", "text": ""}}))
        events.append(sse("content_block_delta", {"type": "content_block_delta", "index": 0,
                                                  "delta": {"type": "text_delta", "text": block["text"]}}))
        stop_reason = "end_turn"
    events.append(sse("content_block_stop", {"type": "content_block_stop", "index": 0}))
    events.append(sse("message_delta", {"type": "message_delta",
                                        "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                                        "usage": {"output_tokens": 20}}))
    events.append(sse("message_stop", {"type": "message_stop"}))
    return events


def whole_message(block: dict, model: str) -> dict:
    return {"id": "msg_" + uuid.uuid4().hex[:24], "type": "message", "role": "assistant", "model": model,
            "content": [block], "stop_reason": "tool_use" if block["type"] == "tool_use" else "end_turn",
            "stop_sequence": None, "usage": {"input_tokens": 12, "output_tokens": 20}}


def make_handler(script: Script):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # quiet: tests read the recorded requests instead
            pass

        def _json(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_HEAD(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            if self.path == "/_test/requests":
                with script.lock:
                    self._json(200, {"requests": list(script.requests)})
                return
            self._json(200, {})

        def do_POST(self) -> None:
            received = time.time()
            path = self.path.split("?", 1)[0]
            body = read_json_body(self)
            if path == "/_test/script":
                script.replace(body.get("commands", []), body.get("final"))
                self._json(200, {"ok": True})
                return
            if path == "/_test/reset":
                with script.lock:
                    script.requests.clear()
                self._json(200, {"ok": True})
                return
            entry = script.record(path, body, received)
            if path.endswith("/count_tokens"):
                self._json(200, {"input_tokens": 12})
                script.finish(entry)
                return
            if not path.endswith("/messages"):
                self._json(200, {})
                script.finish(entry)
                return
            with script.lock:
                block = next_block(script, body)
            model = body.get("model") or MODEL
            if not body.get("stream"):
                self._json(200, whole_message(block, model))
                script.finish(entry)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for event in stream_events(block, model):
                self.wfile.write(f"{len(event):x}\r\n".encode() + event + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            script.finish(entry)

    return Handler


def main(argv: list[str] | None = None) -> None:
    args, commands = command_line(__doc__.splitlines()[0], "model_api", argv)
    script = Script(commands, args.final, Path(args.log) if args.log else None)
    serve(make_handler(script), args.port_file, "MODEL_API")


if __name__ == "__main__":
    main()


# -- starting it, and running Claude Code against it (tests and benchmarks) ------------------

ASSISTANTS_DIR = Path(os.environ.get("WINGMAN_ASSISTANTS_DIR", "/opt/assistants"))


def assistant_binary(name: str) -> Path:
    """An assistant CLI installed by tests/assistants.sh (npm, under WINGMAN_ASSISTANTS_DIR)."""
    return ASSISTANTS_DIR / "node_modules" / ".bin" / name


class ModelApi(StandIn):
    """tests/model_api.py as a real process; the recorded requests read back over HTTP."""

    def __init__(self, commands: list[str] = (), final: str = FINAL_TEXT):
        super().__init__(__file__, commands, final)

    def script(self, commands: list[str], final: str | None = None) -> None:
        self._call("POST", "/_test/script", {"commands": list(commands), "final": final})
        self._call("POST", "/_test/reset", {})

    def conversation(self) -> list[dict]:
        """The requests of the main conversation (those that offered the Bash tool), in order."""
        return [r for r in self.requests() if r["path"].endswith("/messages") and offers_bash(r["body"])]

    def tool_results(self) -> list[dict]:
        """Every tool_result the CLI sent back, in order: {"command", "text", "is_error"}."""
        turns = self.conversation()
        if not turns:
            return []
        calls, results = {}, []
        for message in turns[-1]["body"].get("messages", []):
            content = message.get("content")
            if not isinstance(content, list):
                continue
            for block in content:
                if block.get("type") == "tool_use":
                    calls[block["id"]] = block.get("input", {}).get("command")
                elif block.get("type") == "tool_result":
                    results.append({"command": calls.get(block.get("tool_use_id")), "text": result_text(block),
                                    "is_error": bool(block.get("is_error"))})
        return results

    def call_latencies(self) -> list[float]:
        """Seconds from each tool_use answer out to the request carrying its result: one Bash call each."""
        turns = self.conversation()
        return [after["received"] - before["answered"] for before, after in zip(turns, turns[1:])
                if before.get("answered")]


def result_text(block: dict) -> str:
    content = block.get("content")
    if isinstance(content, list):
        return "\n".join(part.get("text", "") for part in content if isinstance(part, dict))
    return content or ""


def claude_home(directory: Path) -> Path:
    """A HOME Claude Code may write, with its first-run questions already answered."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / ".claude.json").write_text(json.dumps({"hasCompletedOnboarding": True, "numStartups": 1}))
    return directory


def claude_env(base: dict, home: Path, url: str) -> dict:
    """The environment Claude Code needs to talk to the stand-in and nothing else."""
    env = {k: v for k, v in base.items() if not k.startswith(("ANTHROPIC_", "CLAUDE_"))}
    env.update(HOME=str(home), ANTHROPIC_BASE_URL=url, ANTHROPIC_API_KEY="sk-ant-test-not-a-key",
               CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC="1", DISABLE_AUTOUPDATER="1",
               DISABLE_TELEMETRY="1", DISABLE_ERROR_REPORTING="1", SHELL=env.get("SHELL") or "/bin/bash")
    return env


def claude_argv(prompt: str = "Run the commands.") -> list[str]:
    # As root Claude Code refuses --dangerously-skip-permissions; allowing Bash is enough here.
    return [str(assistant_binary("claude")), "-p", prompt, "--allowedTools", "Bash"]
