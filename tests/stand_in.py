"""A scripted stand-in for an assistant's model API, run as a real process, and read back over HTTP.

Each stand-in module (model_api, openai_api, gemini_api) is a small HTTP
server started as `python3 MODULE --port-file FILE --log FILE --script JSON
--final TEXT`; it writes its URL to the port file once it listens and records
every request, which GET /_test/requests returns.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from http.server import ThreadingHTTPServer
from pathlib import Path

FINAL_TEXT = "All done."
START_SECONDS = 20


# -- the server side: each stand-in module's main() ---------------------------------------------

def command_line(description: str, name: str, argv: list[str] | None) -> tuple[argparse.Namespace, list[str]]:
    """The options every stand-in takes, and its script: the commands the model asks for, in order."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--port-file", required=True, help="written with the base URL once listening")
    parser.add_argument("--log", help="every request body, one JSON line each")
    parser.add_argument("--script", default="[]", help="a JSON list of the commands to run, in order")
    parser.add_argument("--final", default=FINAL_TEXT, help="the text answer after the last command")
    args = parser.parse_args(argv)
    try:
        commands = json.loads(args.script)
        assert isinstance(commands, list) and all(isinstance(c, str) for c in commands)
    except (ValueError, AssertionError):
        sys.exit(f"{name}: --script must be a JSON list of strings")
    return args, commands


def read_json_body(request) -> dict:
    """A request handler's JSON body; one that is not JSON is kept as text, for the test to see."""
    length = int(request.headers.get("Content-Length") or 0)
    raw = request.rfile.read(length) if length else b""
    try:
        return json.loads(raw or b"{}")
    except ValueError:
        return {"_unparsed": raw.decode("utf-8", "replace")}


def serve(handler, port_file: str, label: str) -> None:
    """Listen on a free loopback port, write the URL to port_file (whole or absent), serve until stopped."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    url = f"http://127.0.0.1:{server.server_address[1]}"
    tmp = port_file + ".tmp"
    Path(tmp).write_text(url + "\n")
    os.replace(tmp, port_file)  # the starter polls for it
    print(f"{label} {url}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


# -- the test side: starting one and reading it back ---------------------------------------------


class StandIn:
    """One stand-in server process; stopped on leaving a `with` block."""

    def __init__(self, program: str, commands=(), final: str = FINAL_TEXT):
        self._tmp = tempfile.TemporaryDirectory(prefix="stand-in-")
        port_file = os.path.join(self._tmp.name, "url")
        self.log = Path(self._tmp.name) / "requests.jsonl"
        self._stderr = open(os.path.join(self._tmp.name, "stderr"), "w+b")
        self.process = subprocess.Popen(
            [sys.executable, program, "--port-file", port_file, "--log", str(self.log),
             "--script", json.dumps(list(commands)), "--final", final],
            stdout=subprocess.DEVNULL, stderr=self._stderr)
        deadline = time.monotonic() + START_SECONDS
        while not os.path.exists(port_file):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self._stderr.seek(0)
                why = self._stderr.read().decode(errors="replace")
                self.stop()
                raise RuntimeError(f"the stand-in {program} did not start: {why}")
            time.sleep(0.02)
        self.url = Path(port_file).read_text().strip()

    def _call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def requests(self) -> list[dict]:
        return self._call("GET", "/_test/requests")["requests"]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._stderr.close()
        self._tmp.cleanup()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
