"""The terminal path: a real interactive program driven through wingman-run under a pty."""

from __future__ import annotations

import sys

import pexpect

from conftest import WINGMAN_RUN

PROGRAM = r"""
import os, signal, sys, time
print("size", *os.get_terminal_size(), flush=True)
name = input("name? ")
print("hello", name, flush=True)
signal.signal(signal.SIGWINCH, lambda *_: print("resized", *os.get_terminal_size(), flush=True))
input("resize me ")
print("sleeping", flush=True)
try:
    time.sleep(30)
except KeyboardInterrupt:
    print("interrupted", flush=True)
sys.exit(int(input("status? ")))
"""


def test_interactive_program_through_a_pty(wingman_home):
    child = pexpect.spawn(WINGMAN_RUN, ["--", sys.executable, "-c", PROGRAM], env=wingman_home.env,
                          dimensions=(30, 100), encoding="utf-8", timeout=20)
    child.expect(r"size 100 30")
    child.expect("name\\? ")
    child.sendline("ada")
    child.expect("hello ada")
    child.expect("resize me ")
    child.setwinsize(40, 120)  # SIGWINCH reaches wingman-run, which passes the new size on
    child.expect("resized 120 40")
    child.sendline("")
    child.expect("sleeping")
    child.sendintr()  # Ctrl-C reaches the program, not wingman-run
    child.expect("interrupted")
    child.expect("status\\? ")
    child.sendline("5")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 5


def test_session_env_inside_the_pty(wingman_home):
    child = pexpect.spawn(WINGMAN_RUN, ["--", "sh", "-c", 'echo "session=$WINGMAN_SESSION"; command -v docker'],
                          env=wingman_home.env, encoding="utf-8", timeout=20)
    child.expect(r"session=\d{8}-\d{6}-[0-9a-f]{6}")
    child.expect(str(wingman_home.root / "run" / "sessions") + r"/[^/]+/bin/docker")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
