"""A scripted stand-in for the OpenAI Responses API, run as its own process on 127.0.0.1.

Codex CLI talks to it as a custom model provider (`wire_api = "responses"`,
`base_url = URL/v1`). The script is a list of shell commands: the answer to a
conversation that has seen K `function_call_output` items is a `function_call`
of Codex's shell tool running command K, streamed as the Responses API streams
it (response.created, response.output_item.added, response.output_item.done,
response.completed); once every command has had its output, a final message.
The shell tool is whichever of Codex's shell tools the request offers
(`exec_command` with `cmd` in Codex CLI 0.171, `shell_command`, or `shell`
with an argv). The step comes from the conversation itself, not a counter.

Every request body is recorded (JSON lines in --log, and GET /_test/requests),
so a test reads the outputs the CLI sent back for each call.

    python3 tests/openai_api.py --port-file FILE [--log FILE] [--script JSON] [--final TEXT]
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from stand_in import FINAL_TEXT, StandIn, command_line, read_json_body, serve
SHELL_TOOLS = ("exec_command", "shell_command", "shell")


class Script:
    def __init__(self, commands: list[str], final: str, log: Path | None):
        self.lock = threading.Lock()
        self.commands = list(commands)
        self.final = final
        self.log = log
        self.requests: list[dict] = []

    def record(self, path: str, body: dict) -> None:
        entry = {"path": path, "received": time.time(), "body": body}
        with self.lock:
            self.requests.append(entry)
            if self.log:
                with self.log.open("a") as handle:
                    handle.write(json.dumps(entry) + "\n")


def shell_tool(body: dict) -> str | None:
    """The shell tool this request offers, by Codex's names, or None."""
    names = {tool.get("name") for tool in body.get("tools") or [] if isinstance(tool, dict)}
    return next((name for name in SHELL_TOOLS if name in names), None)


def outputs_seen(body: dict) -> int:
    return sum(1 for item in body.get("input") or [] if isinstance(item, dict) and item.get("type") == "function_call_output")


def tool_arguments(tool: str, command: str) -> dict:
    if tool == "exec_command":
        return {"cmd": command}
    if tool == "shell_command":
        return {"command": command}
    return {"command": ["bash", "-lc", command]}


def next_item(script: Script, body: dict) -> dict:
    step = outputs_seen(body)
    tool = shell_tool(body)
    if tool and step < len(script.commands):
        return {"type": "function_call", "id": f"fc_{uuid.uuid4().hex[:16]}", "call_id": f"call_{step:02d}_{uuid.uuid4().hex[:12]}",
                "name": tool, "arguments": json.dumps(tool_arguments(tool, script.commands[step])), "status": "completed"}
    return {"type": "message", "id": f"msg_{uuid.uuid4().hex[:16]}", "role": "assistant", "status": "completed",
            "content": [{"type": "output_text", "text": script.final if tool else "ok", "annotations": []}]}


def stream(item: dict, model: str) -> bytes:
    response_id = "resp_" + uuid.uuid4().hex[:24]
    usage = {"input_tokens": 12, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 20,
             "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 32}
    base = {"id": response_id, "object": "response", "model": model, "status": "in_progress", "output": []}
    events = [
        ("response.created", {"type": "response.created", "response": base}),
        ("response.output_item.added", {"type": "response.output_item.added", "output_index": 0, "item": item}),
        ("response.output_item.done", {"type": "response.output_item.done", "output_index": 0, "item": item}),
        ("response.completed", {"type": "response.completed",
                                "response": base | {"status": "completed", "output": [item], "usage": usage}}),
    ]
    return b"".join(f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events)


def make_handler(script: Script):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def _send(self, status: int, data: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _json(self, status: int, payload: dict) -> None:
            self._send(status, json.dumps(payload).encode(), "application/json")

        def do_GET(self) -> None:
            if self.path == "/_test/requests":
                with script.lock:
                    self._json(200, {"requests": list(script.requests)})
                return
            self._json(200, {"object": "list", "data": [], "models": []})

        def do_POST(self) -> None:
            path = self.path.split("?", 1)[0]
            body = read_json_body(self)
            if path == "/_test/script":
                with script.lock:
                    script.commands = list(body.get("commands", []))
                    script.final = body.get("final") or script.final
                    script.requests.clear()
                self._json(200, {"ok": True})
                return
            script.record(path, body)
            if not path.endswith("/responses"):
                self._json(404, {"error": {"message": f"the stand-in does not serve {path}"}})
                return
            with script.lock:
                item = next_item(script, body)
            self._send(200, stream(item, body.get("model") or "test-model"), "text/event-stream")

    return Handler


def main(argv: list[str] | None = None) -> None:
    args, commands = command_line(__doc__.splitlines()[0], "openai_api", argv)
    script = Script(commands, args.final, Path(args.log) if args.log else None)
    serve(make_handler(script), args.port_file, "OPENAI_API")


if __name__ == "__main__":
    main()


# -- starting it, and reading what Codex sent back ---------------------------------------------

class OpenAiApi(StandIn):
    def __init__(self, commands=(), final: str = FINAL_TEXT):
        super().__init__(__file__, commands, final)

    def conversation(self) -> list[dict]:
        """The requests of the main conversation (those that offered a shell tool), in order."""
        return [r for r in self.requests() if r["path"].endswith("/responses") and shell_tool(r["body"])]

    def tool_results(self) -> list[dict]:
        """Every shell call's output Codex sent back, in order: {"command", "text"}."""
        turns = self.conversation()
        if not turns:
            return []
        calls, results = {}, []
        for item in turns[-1]["body"].get("input") or []:
            if item.get("type") == "function_call":
                arguments = json.loads(item.get("arguments") or "{}")
                command = arguments.get("cmd") or arguments.get("command")
                calls[item["call_id"]] = command[-1] if isinstance(command, list) else command
            elif item.get("type") == "function_call_output":
                output = item.get("output")
                if isinstance(output, dict):
                    output = output.get("content") or json.dumps(output)
                elif isinstance(output, list):
                    output = "\n".join(part.get("text", "") for part in output if isinstance(part, dict))
                results.append({"command": calls.get(item.get("call_id")), "text": output or ""})
        return results
