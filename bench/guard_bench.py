"""What the Docker API guard costs, against the daemon's own socket in the same run.

    python bench/guard_bench.py [--quick] [--only ping,json,ps,cp,logs,exec,rss]

A real session directory, the real broker (the guard asks it about every
change) and the real guard process, in front of the real engine. Each figure
is printed with its goal; `OVER GOAL` marks a miss. Containers are this run's
own (label wingman-bench) and are removed at the end.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from goals import report  # noqa: E402

try:
    from sandbox.broker.start import start_broker  # noqa: E402
except ImportError:
    from sandbox.broker import start_broker  # noqa: E402
from sandbox.guard.launch import start_guard, stop_guard  # noqa: E402
from sandbox.session.record import Session  # noqa: E402

DOCKER = "/usr/bin/docker"
DIRECT = "/run/docker.sock"
IMAGE = "wingman-test:latest"
RUN = f"wb{secrets.token_hex(3)}"
LABEL = f"wingman-bench={RUN}"


def docker(*args: str, host: str = DIRECT, stdout=subprocess.PIPE) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "DOCKER_HOST": f"unix://{host}", "HOME": "/tmp"}
    done = subprocess.run([DOCKER, *args], env=env, stdout=stdout, stderr=subprocess.PIPE)
    if done.returncode:
        raise SystemExit(f"docker {' '.join(args)} via {host}: {done.stderr.decode().strip()}")
    return done


def request_time(path: str, target: str) -> float:
    """One request on a fresh connection, as each CLI call makes it; seconds."""
    start = time.perf_counter()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(path)
        sock.sendall(f"GET {target} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n".encode())
        while sock.recv(65536):
            pass
    return time.perf_counter() - start


# The least a relay in Python costs for these requests: one thread, a daemon connection made
# ahead of time, the request read once and sent on, the answer copied back until the daemon
# closes (the requests say `Connection: close`); no parsing, no policy, no concurrency. Printed
# beside the guard's figures as their floor on this machine.
BARE_RELAY = r"""
import socket, sys
listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
listener.bind(sys.argv[1]); listener.listen(64)
def dial():
    daemon = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    daemon.connect(sys.argv[2])
    return daemon
spare = dial()
print("ready", flush=True)
while True:
    client, _ = listener.accept()
    daemon, spare = spare, None
    daemon.sendall(client.recv(65536))
    while data := daemon.recv(65536):
        client.sendall(data)
    client.close(); daemon.close()
    spare = dial()
"""


def p50(samples: list[float]) -> float:
    return statistics.median(samples)


def interleaved(count: int, direct, guarded) -> tuple[list[float], list[float]]:
    """Alternate the two so that noise from the machine's other work falls on both."""
    a, b = [], []
    for _ in range(count):
        a.append(direct())
        b.append(guarded())
    return a, b


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def exec_round_trips(host: str, container: str, count: int) -> list[float]:
    env = {"PATH": "/usr/bin:/bin", "DOCKER_HOST": f"unix://{host}", "HOME": "/tmp"}
    child = subprocess.Popen([DOCKER, "exec", "-i", container, "cat"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, bufsize=0)
    samples = []
    try:
        child.stdin.write(b"warm\n")
        child.stdout.readline()
        for i in range(count):
            line = f"ping {i}\n".encode()
            start = time.perf_counter()
            child.stdin.write(line)
            got = child.stdout.readline()
            samples.append(time.perf_counter() - start)
            assert got == line
    finally:
        child.stdin.close()
        child.wait()
    return samples


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def follow_streams_rss(guard: str, guard_pid: int, container) -> float:
    """The guard's resident memory in MB with fifty `logs -f` streams open through it."""
    ticker = container("ticker", "sh", "-c", "while true; do echo tick; sleep 0.05; done")
    streams = []
    request = f"GET /v1.41/containers/{ticker}/logs?follow=1&stdout=1&tail=0 HTTP/1.1\r\nHost: d\r\n\r\n".encode()
    stop = threading.Event()

    def reader(sock):
        while not stop.is_set():
            try:
                if not sock.recv(65536):
                    return
            except OSError:
                return

    for _ in range(50):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(guard)
        sock.sendall(request)
        streams.append(sock)
        threading.Thread(target=reader, args=(sock,), daemon=True).start()
    time.sleep(3)
    resident = rss_kb(guard_pid) / 1024
    stop.set()
    for sock in streams:
        sock.close()
    return resident


FIGURES = ("ping", "json", "ps", "cp", "logs", "exec", "rss")


def options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="What the Docker API guard costs, against the daemon's own socket.")
    parser.add_argument("--quick", action="store_true", help="fewer samples and smaller payloads")
    parser.add_argument("--only", default=",".join(FIGURES),
                        help="comma-separated figures to measure (default all): " + ",".join(FIGURES))
    args = parser.parse_args()
    args.only = set(args.only.split(","))
    unknown = args.only - set(FIGURES)
    if unknown:
        parser.error(f"unknown figures: {', '.join(sorted(unknown))}")
    return args


def main() -> None:
    args = options()
    quick, only = args.quick, args.only
    root = Path(tempfile.mkdtemp(prefix="wingman-guard-bench-"))
    session_dir = root / "session"
    session_dir.mkdir(mode=0o700)
    session = Session(id=RUN, dir=str(session_dir), created=time.time(), cwd=str(root), project_dir=str(root),
                      assistant="bench", host=socket.gethostname(), profile_name="default", profile_sources=[],
                      profile={}, audit_log=str(root / "audit.jsonl"), python=sys.executable,
                      docker_env={"DOCKER_CONTEXT": "default"})
    session.save()
    server, _ = start_broker(session, 0)
    guard_process = start_guard(session, token=server.guard_token)  # the broker answers API questions from the guard alone
    guard = str(session_dir / "docker.sock")
    names = []
    try:
        def container(role: str, *command: str) -> str:
            name = f"{RUN}-{role}"
            docker("run", "-d", "--name", name, "--label", LABEL, "--network", "none", IMAGE, *(command or ("sleep", "1d")))
            names.append(name)
            return name

        idle = container("idle")
        print(f"guard bench (run {RUN}): guard vs direct socket, same run, interleaved")

        n = 100 if quick else 300
        if only & {"ping", "json"}:
            relay_path = str(root / "relay.sock")
            relay = subprocess.Popen([sys.executable, "-c", BARE_RELAY, relay_path, DIRECT], stdout=subprocess.PIPE)
            relay.stdout.readline()
        for figure, target in (("ping", "/_ping"), ("json", "/v1.41/containers/json")):
            if figure not in only:
                continue
            direct, through, bare = [], [], []
            for _ in range(n):  # interleaved, so that the machine's other work falls on all three
                direct.append(request_time(DIRECT, target))
                through.append(request_time(guard, target))
                bare.append(request_time(relay_path, target))
            ratio = p50(through) / p50(direct)
            report(f"GET {target.split('/')[-1]} p50", ratio, 1.5, "x", f"{p50(through)*1e3:.2f} ms vs {p50(direct)*1e3:.2f} ms")
            print(f"{'  a bare Python relay':<28} {p50(bare) / p50(direct):10.3f} x   (no goal: the floor of a relay "
                  f"in Python; {p50(bare)*1e3:.2f} ms)", flush=True)
        if only & {"ping", "json"}:
            relay.kill()
            relay.wait()

        if "ps" in only:
            runs = 10 if quick else 25
            direct, through = interleaved(runs, lambda: timed(lambda: docker("ps")), lambda: timed(lambda: docker("ps", host=guard)))
            report("docker ps", p50(through) / p50(direct), 1.2, "x", f"{p50(through)*1e3:.1f} ms vs {p50(direct)*1e3:.1f} ms")

        copies = 2 if quick else 3
        if "cp" in only:
            size = (50 if quick else 200) << 20
            payload = root / "payload"
            with open(payload, "wb") as handle:
                handle.write(os.urandom(1 << 20) * (size >> 20))
            direct, through = interleaved(copies, lambda: timed(lambda: docker("cp", str(payload), f"{idle}:/payload")),
                                          lambda: timed(lambda: docker("cp", str(payload), f"{idle}:/payload", host=guard)))
            report(f"docker cp in {size >> 20} MB", min(direct) / min(through), 0.9, "x", f"{size / min(through) / 1e6:.0f} MB/s vs {size / min(direct) / 1e6:.0f} MB/s", lower_is_better=False)
            out = root / "back"
            direct, through = interleaved(copies, lambda: timed(lambda: docker("cp", f"{idle}:/payload", str(out))),
                                          lambda: timed(lambda: docker("cp", f"{idle}:/payload", str(out), host=guard)))
            report(f"docker cp out {size >> 20} MB", min(direct) / min(through), 0.9, "x", f"{size / min(through) / 1e6:.0f} MB/s vs {size / min(direct) / 1e6:.0f} MB/s", lower_is_better=False)
            payload.unlink()
            out.unlink(missing_ok=True)

        if "logs" in only:
            log_bytes = (25 if quick else 100) * 1_000_000
            noisy = container("logs", "sh", "-c", f"busybox yes 0123456789abcdef0123456789abcdef0123456789abcdef0123456 | busybox head -c {log_bytes}")
            docker("wait", noisy)
            def logs(host):
                return lambda: timed(lambda: docker("logs", noisy, host=host, stdout=subprocess.DEVNULL))
            direct, through = interleaved(copies, logs(DIRECT), logs(guard))
            report(f"docker logs {log_bytes // 1_000_000} MB", min(direct) / min(through), 0.9, "x", f"{log_bytes / min(through) / 1e6:.0f} MB/s vs {log_bytes / min(direct) / 1e6:.0f} MB/s", lower_is_better=False)

        if "exec" in only:
            trips = 100 if quick else 300
            direct = exec_round_trips(DIRECT, idle, trips)
            through = exec_round_trips(guard, idle, trips)
            report("exec -i round trip", (p50(through) - p50(direct)) * 1e3, 1.0, "ms", f"+ on {p50(direct)*1e3:.2f} ms p50 direct")

        if "rss" in only:
            report("guard RSS, 50 streams", follow_streams_rss(guard, guard_process.pid, container), 40, "MB")
    finally:
        stop_guard(guard_process)
        server.close()
        if names:
            subprocess.run([DOCKER, "rm", "-f", *names], capture_output=True)
        subprocess.run(["rm", "-rf", str(root)])


if __name__ == "__main__":
    main()
