"""How fast the monitor reports a bypass: 20 unapproved stops, each from the daemon's event to the audit line.

    python bench/monitor_bench.py [--events N]

A real wingman-run session holds a shell open; outside it, the real docker
binary stops and starts a container of this run's own (label wingman-bench)
N times. For each report: its audit line's time minus the daemon's event time
(both from this machine's clock), and the wall time from `docker stop`
returning to the line being readable. The container is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from goals import report  # noqa: E402

GOAL_SECONDS = 2.0
DOCKER = os.environ.get("WINGMAN_TEST_DOCKER", "/usr/bin/docker")
IMAGE = "wingman-test:latest"


def epoch(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20)
    count = parser.parse_args().events
    wingman_run = Path(sys.executable).parent / "wingman-run"
    home = Path(tempfile.mkdtemp(prefix="wm-bench-", dir="/tmp"))
    audit_log = home / "audit.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "WINGMAN_"))}
    env.update(WINGMAN_AUDIT_LOG=str(audit_log), WINGMAN_RUNTIME_DIR=str(home / "run"),
               WINGMAN_CONFIG_DIR=str(home / "config"))
    plain = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    name = f"wingman-bench-{secrets.token_hex(3)}-monitor"
    started = subprocess.run([DOCKER, "run", "-d", "--name", name, "--label", "wingman-bench=1", "--network", "none",
                              IMAGE, "sleep", "1d"], capture_output=True, text=True, env=plain)
    if started.returncode:
        print(f"monitor bench: cannot start a container from {IMAGE}: {started.stderr.strip()}")
        return 2
    # The session reports on objects it knows: it looks at the container first.
    hold = f"docker inspect {name} >/dev/null; echo ready; exec sleep 600"
    session = subprocess.Popen([str(wingman_run), "--", "sh", "-c", hold], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL, cwd=home)
    try:
        session.stdout.readline()
        time.sleep(0.5)
        daemon_to_line, stop_to_line = [], []
        for _ in range(count):
            seen = len(_reports(audit_log, name))
            subprocess.run([DOCKER, "stop", "-t", "0", name], capture_output=True, env=plain)
            returned = time.time()
            while len(_reports(audit_log, name)) == seen and time.time() - returned < 10:
                time.sleep(0.005)
            found = time.time()
            new = _reports(audit_log, name)[seen:]
            if not new:
                print("monitor bench: a stop was not reported within 10 s")
                return 1
            daemon_to_line.append(epoch(new[0]["time"]) - epoch(new[0]["event_time"]))
            stop_to_line.append(max(0.0, found - returned))
            subprocess.run([DOCKER, "start", name], capture_output=True, env=plain)
    finally:
        session.terminate()
        session.wait(timeout=30)
        subprocess.run([DOCKER, "rm", "-f", name], capture_output=True, env=plain)
        subprocess.run(["chmod", "-R", "u+w", str(home)], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)
    med, top = statistics.median(daemon_to_line), max(daemon_to_line)
    report("monitor report, median", med, GOAL_SECONDS, "s", f"daemon event -> audit line, {count} stops")
    report("monitor report, max", top, GOAL_SECONDS, "s", f"wall from `docker stop` returning: median "
           f"{statistics.median(stop_to_line) * 1000:.0f} ms, max {max(stop_to_line) * 1000:.0f} ms")
    return 0


def _reports(path: Path, name: str) -> list[dict]:
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return []
    out = []
    for line in lines:
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if event.get("event") == "unapproved" and event.get("object") == name:
            out.append(event)
    return out


if __name__ == "__main__":
    sys.exit(main())
