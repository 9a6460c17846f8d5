"""Nothing a session writes is lost at exit: many short sessions under a pty while every CPU is busy."""

from __future__ import annotations

import errno
import os
import pty
import select
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from conftest import WINGMAN_RUN

SESSIONS = 500
AT_ONCE = 4
DEADLINE_SECONDS = 420  # the whole stress run; it takes well under two minutes on an idle two-core machine
SCRIPT = 'echo "session=$WINGMAN_SESSION"; command -v docker; printf "last %s\\n" "$1"'


def run_under_pty(argv: list[str], env: dict, timeout: float) -> tuple[int, str]:
    """argv with a pty as stdin, stdout and stderr; everything it wrote, read until the kernel's end of file."""
    master, slave = pty.openpty()
    child = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    output = bytearray()
    ends = time.monotonic() + timeout
    try:
        while True:
            left = ends - time.monotonic()
            if left <= 0 or not select.select([master], [], [], left)[0]:
                child.kill()
                raise TimeoutError(f"no end of file after {timeout}s; read so far: {bytes(output)!r}")
            try:
                data = os.read(master, 65536)
            except OSError as error:
                if error.errno != errno.EIO:
                    raise
                data = b""
            if not data:
                break
            output += data
        return child.wait(timeout=max(1.0, ends - time.monotonic())), output.decode(errors="replace")
    finally:
        os.close(master)


def start_cpu_burners() -> list[subprocess.Popen]:
    burner = "while True: pass"
    return [subprocess.Popen([sys.executable, "-c", burner]) for _ in range(os.cpu_count() or 2)]


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.send_signal(signal.SIGKILL)
    for process in processes:
        process.wait()


def test_every_line_of_every_short_session_arrives_on_a_loaded_machine(wingman_home):
    stub_dir = str(wingman_home.root / "run" / "sessions")

    def one(number: int) -> str | None:
        status, output = run_under_pty([WINGMAN_RUN, "--", "sh", "-c", SCRIPT, "sh", str(number)], wingman_home.env,
                                       timeout=60)
        lines = output.replace("\r\n", "\n").splitlines()
        complete = (len(lines) == 3 and lines[0].startswith("session=") and len(lines[0]) > len("session=")
                    and lines[1].startswith(stub_dir) and lines[1].endswith("/bin/docker")
                    and lines[2] == f"last {number}")
        return None if status == 0 and complete else f"session {number}: status {status}, output {output!r}"

    burners = start_cpu_burners()
    started = time.monotonic()
    try:
        with ThreadPoolExecutor(AT_ONCE) as pool:
            failures = [failure for failure in pool.map(one, range(SESSIONS)) if failure]
    finally:
        stop(burners)
    took = time.monotonic() - started
    print(f"{SESSIONS} sessions under a pty, {len(burners)} CPU burners, {AT_ONCE} at a time: "
          f"{SESSIONS - len(failures)}/{SESSIONS} complete in {took:.0f}s")
    assert not failures, f"{len(failures)} of {SESSIONS} sessions lost output:\n" + "\n".join(failures[:10])
    assert took < DEADLINE_SECONDS


def test_output_and_status_without_a_pty_too(wingman_home):
    """The plain path (agents, pipes) keeps every byte and the exact status, signals as 128+N."""
    result = wingman_home.run("--", "sh", "-c", "seq 1 20000; printf end; exit 3")
    assert result.returncode == 3
    assert result.stdout == "".join(f"{n}\n" for n in range(1, 20001)) + "end"
    killed = wingman_home.run("--", "sh", "-c", "echo before; kill -TERM $$")
    assert (killed.returncode, killed.stdout) == (128 + 15, "before\n")


def test_status_of_a_signal_death_under_a_pty(wingman_home):
    status, output = run_under_pty([WINGMAN_RUN, "--", "sh", "-c", "echo before; kill -KILL $$"], wingman_home.env,
                                   timeout=30)
    assert status == 128 + 9
    assert output.replace("\r\n", "\n") == "before\n"


def test_large_output_right_before_exit_under_a_pty(wingman_home):
    status, output = run_under_pty([WINGMAN_RUN, "--", "sh", "-c", "seq 1 20000; printf end; exit 4"],
                                   wingman_home.env, timeout=60)
    assert status == 4
    assert output.replace("\r\n", "\n") == "".join(f"{n}\n" for n in range(1, 20001)) + "end"


def test_sigterm_and_sighup_reach_the_program_under_a_pty(wingman_home, tmp_path):
    for sig in (signal.SIGTERM, signal.SIGHUP):
        ready = tmp_path / f"ready-{sig}"
        script = f"trap 'echo caught; exit 9' {sig.name[3:]}; touch {ready}; while :; do sleep 0.1; done"
        master, slave = pty.openpty()
        child = subprocess.Popen([WINGMAN_RUN, "--", "sh", "-c", script], stdin=slave, stdout=slave, stderr=slave,
                                 env=wingman_home.env, start_new_session=True)
        os.close(slave)
        try:
            for _ in range(300):
                if ready.exists():
                    break
                time.sleep(0.1)
            assert ready.exists(), "the program did not start"
            child.send_signal(sig)
            assert child.wait(timeout=20) == 9
            output = b""
            while select.select([master], [], [], 5)[0]:
                try:
                    data = os.read(master, 4096)
                except OSError:
                    break
                if not data:
                    break
                output += data
            assert b"caught" in output
        finally:
            os.close(master)


def test_a_background_process_holding_the_pty_does_not_keep_the_session_open(wingman_home):
    # The program exits at once; what it left behind ignores the hangup and keeps the pty open for a while.
    script = "(trap '' HUP; exec sleep 8) & echo started; exit 6"
    started = time.monotonic()
    status, output = run_under_pty([WINGMAN_RUN, "--", "sh", "-c", script], wingman_home.env, timeout=30)
    assert (status, output.replace("\r\n", "\n")) == (6, "started\n")
    assert time.monotonic() - started < 7  # it did not wait for the sleep
