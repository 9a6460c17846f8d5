"""A scripted stand-in for the Gemini API (generateContent, streamGenerateContent), run on 127.0.0.1.

Gemini CLI talks to it through GOOGLE_GEMINI_BASE_URL (with the user's auth
type set to a Gemini API key, a fake one). The script is a list of shell
commands: the answer to a conversation that has seen K `functionResponse`
parts is a `functionCall` of `run_shell_command` running command K; once every
command has had its response, a final text. Streamed requests (`?alt=sse`) get
the answer as one server-sent event. Side requests that offer no shell tool
(routing, next-speaker checks) get a short JSON-or-text answer and do not move
the script.

Every request body is recorded (JSON lines in --log, and GET /_test/requests).

    python3 tests/gemini_api.py --port-file FILE [--log FILE] [--script JSON] [--final TEXT]
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler

from stand_in import FINAL_TEXT, StandIn, command_line, read_json_body, serve

TOOL = "run_shell_command"


def offers_shell(body: dict) -> bool:
    return any(isinstance(decl, dict) and decl.get("name") == TOOL
               for tool in body.get("tools") or [] if isinstance(tool, dict)
               for decl in tool.get("functionDeclarations") or [])


def parts(body: dict):
    for content in body.get("contents") or []:
        for part in content.get("parts") or [] if isinstance(content, dict) else []:
            if isinstance(part, dict):
                yield part


def responses_seen(body: dict) -> int:
    return sum(1 for part in parts(body) if "functionResponse" in part)


def answer(commands: list[str], final: str, body: dict) -> dict:
    step = responses_seen(body)
    if offers_shell(body) and step < len(commands):
        part = {"functionCall": {"id": f"call-{step:02d}", "name": TOOL,
                                 "args": {"command": commands[step], "description": f"step {step + 1}"}}}
    elif offers_shell(body):
        part = {"text": final}
    else:  # a side request: the next-speaker check and the router ask for JSON
        part = {"text": json.dumps({"reasoning": "done", "next_speaker": "user",
                                    "complexity_reasoning": "simple", "complexity_score": 1})}
    return {"candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": {"promptTokenCount": 12, "candidatesTokenCount": 20, "totalTokenCount": 32},
            "modelVersion": body.get("model") or "gemini-2.5-pro"}


def make_handler(state: dict):
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def _send(self, data: bytes, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            with lock:
                payload = {"requests": list(state["requests"])} if self.path == "/_test/requests" else {}
            self._send(json.dumps(payload).encode(), "application/json")

        def do_POST(self) -> None:
            body = read_json_body(self)
            path = self.path.split("?", 1)[0]
            entry = {"path": path, "received": time.time(), "body": body}
            with lock:
                state["requests"].append(entry)
                if state["log"]:
                    with open(state["log"], "a") as handle:
                        handle.write(json.dumps(entry) + "\n")
                result = answer(state["commands"], state["final"], body)
            if path.endswith(":countTokens"):
                self._send(json.dumps({"totalTokens": 12}).encode(), "application/json")
            elif path.endswith(":streamGenerateContent"):
                self._send(f"data: {json.dumps(result)}\r\n\r\n".encode(), "text/event-stream")
            else:
                self._send(json.dumps(result).encode(), "application/json")

    return Handler


def main(argv: list[str] | None = None) -> None:
    args, commands = command_line(__doc__.splitlines()[0], "gemini_api", argv)
    script = {"commands": commands, "final": args.final, "log": args.log, "requests": []}
    serve(make_handler(script), args.port_file, "GEMINI_API")


# -- starting it, and reading what Gemini CLI sent back --------------------------------------

class GeminiApi(StandIn):
    def __init__(self, commands=(), final: str = FINAL_TEXT):
        super().__init__(__file__, commands, final)

    def conversation(self) -> list[dict]:
        return [r for r in self.requests() if "GenerateContent" in r["path"] and offers_shell(r["body"])]

    def tool_results(self) -> list[dict]:
        """Every run_shell_command response Gemini CLI sent back, in order: {"command", "text", "is_error"}."""
        turns = self.conversation()
        if not turns:
            return []
        calls, results = [], []
        for part in parts(turns[-1]["body"]):
            if "functionCall" in part and part["functionCall"].get("name") == TOOL:
                calls.append((part["functionCall"].get("args") or {}).get("command"))
            elif "functionResponse" in part:
                response = part["functionResponse"].get("response")
                if not isinstance(response, dict):
                    response = {"output": str(response)}
                text = response.get("error") or response.get("output") or json.dumps(response)
                results.append({"command": calls[len(results)] if len(results) < len(calls) else None,
                                "text": text, "is_error": "error" in response})
        return results


if __name__ == "__main__":
    main()
