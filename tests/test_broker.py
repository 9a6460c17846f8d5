"""The session broker end to end: the scripts that used to break, a broker that goes away, and its channel.

Every shell runs beside a live session (its broker answering), on the real
engine, in bash and in zsh.
"""

from __future__ import annotations

import os
import socket
import subprocess

import pytest

from fixtures_engine import names
from sandbox.broker.protocol import request, unix_path
from sandbox.session.child import ChildSession
from sandbox.session.layout import BROKER_PORT, BROKER_SECRET, BROKER_SOCKET

SHELLS = ["bash", "zsh"]
OFF = "isolation: off\n"  # these tests look at the hooks and stubs; the guard has its own


@pytest.fixture()
def session(wingman_home, tmp_path):
    profile = tmp_path / "off.yaml"
    profile.write_text(OFF)
    live = ChildSession(wingman_home.env, cwd=tmp_path, options=["--profile", str(profile)])
    yield live
    live.end()


def run(session: ChildSession, *argv: str, cwd=None, timeout: float = 60) -> subprocess.CompletedProcess:
    return session.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def stub_argvs(home) -> list[list[str]]:
    return [e["argv"] for e in home.events() if e["event"] == "decision" and e["layer"] == "stub"]


def test_a_pyenv_style_shim_runs(session, tmp_path):
    """set -e, eval and words ending in / used to end such scripts with a bad array subscript."""
    shim = tmp_path / "python3"
    shim.write_text('#!/usr/bin/env bash\nset -e\n[ -n "$PYENV_DEBUG" ] && set -x\nprogram="${0##*/}"\n'
                    'export PYENV_ROOT="/tmp/"\neval "$(echo true)"\nls /tmp/ >/dev/null\necho "shim ran $program"\n')
    shim.chmod(0o755)
    result = run(session, str(shim))
    assert (result.returncode, result.stdout, result.stderr) == (0, "shim ran python3\n", "")
    interactive_like = run(session, "bash", "-c", "set -e; eval 'ls /tmp/ >/dev/null'; echo fine")
    assert (interactive_like.stdout, interactive_like.stderr) == ("fine\n", "")


@pytest.mark.parametrize("shell", SHELLS)
def test_wrappers_are_judged_by_what_they_run(shell, session, wingman_home, tmp_path, fixtures_intact, engine):
    """A wrapper function, a wrapper script and $ARGS reach the stub, which sees the real argv."""
    script = tmp_path / "dk.sh"
    script.write_text('#!/bin/bash\ndocker "$@"\n')
    script.chmod(0o755)
    split = "$ARGS" if shell == "bash" else "${=ARGS}"  # zsh splits a variable only when asked
    text = ('dk() { docker "$@"; }; dk ps -q >/dev/null && ./dk.sh images -q >/dev/null && ARGS="ps -a"; '
            f'docker {split} >/dev/null && echo ran')
    result = run(session, shell, "-c", text, cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "ran\n", "")
    assert stub_argvs(wingman_home) == [["docker", "ps", "-q"], ["docker", "images", "-q"], ["docker", "ps", "-a"]]
    # The same wrappers still cannot stop anything.
    refused = run(session, shell, "-c", names.apply(f'dk() {{ docker "$@"; }}; dk stop victim; ARGS="stop victim"; docker {split}'))
    assert refused.returncode != 0 and refused.stderr.count("wingman-run: refused: docker stop") == 2
    assert engine.snapshot() == fixtures_intact


@pytest.mark.parametrize("shell", SHELLS)
def test_a_large_script_naming_git_runs(shell, session, tmp_path):
    """Over 128 KiB used to be 'Argument list too long', and the refusal printed the whole script."""
    body = "".join(f"n_{i}=$(( {i} + 1 ))\n" for i in range(15000))
    script = tmp_path / "big.sh"
    script.write_text(f"#!/usr/bin/env {shell}\ngit --version >/dev/null\n{body}echo end\n")
    assert script.stat().st_size > 200 * 1024
    result = run(session, shell, str(script), cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (0, "end\n", "")


def test_docker_scout_is_judged_as_the_plugin_it_is(session, wingman_home):
    run(session, "bash", "-c", "docker scout quickview")  # the plugin may not be installed: its verdict counts
    decision = next(e for e in wingman_home.events() if e["event"] == "decision" and e["layer"] == "stub")
    assert (decision["verdict"], decision["rule"]) == ("allow", "docker.scout.quickview")


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("text", [
    "$(echo /usr/bin/docker) stop victim; echo after",
    "`echo /usr/bin/docker` stop victim; echo after",
    "x=$(/usr/bin/docker stop victim); echo after",
    "echo $(/usr/bin/docker stop victim); echo after",
    "trap '/usr/bin/docker stop victim' EXIT; echo after",
    "set -E; trap '/usr/bin/docker stop victim' ERR; false; echo after",
])
def test_a_refused_command_never_runs(shell, text, session, fixtures_intact, engine):
    """A refusal printed means nothing ran: substitutions and traps included."""
    result = run(session, shell, "-c", names.apply(text))
    assert "wingman-run: refused:" in result.stderr
    assert engine.snapshot() == fixtures_intact


@pytest.mark.parametrize("shell", SHELLS)
def test_the_broker_killed_mid_session(shell, session, fixtures_intact, engine):
    """The launcher is killed: the next guarded command is refused at once; others still run."""
    session.process.kill()
    session.process.wait()
    result = run(session, shell, "-c", names.apply("docker stop victim; /usr/bin/docker kill victim; echo plain"),
                 timeout=30)
    assert "plain" not in result.stdout or result.stderr.count("has no broker any more") >= 1
    assert f"the session {session.id} has no broker any more" in result.stderr
    assert run(session, shell, "-c", "echo still works").stdout == "still works\n"
    assert engine.snapshot() == fixtures_intact


def test_two_sessions_never_see_each_others_broker(wingman_home, tmp_path):
    profile = tmp_path / "off.yaml"
    profile.write_text(OFF)
    with ChildSession(wingman_home.env, cwd=tmp_path, options=["--profile", str(profile)]) as one, \
            ChildSession(wingman_home.env, cwd=tmp_path, options=["--profile", str(profile)]) as two:
        assert one.dir != two.dir
        assert (one.dir / BROKER_PORT).read_text() != (two.dir / BROKER_PORT).read_text()
        assert (one.dir / BROKER_SECRET).read_text() != (two.dir / BROKER_SECRET).read_text()
        run(one, "bash", "-c", "docker ps -q >/dev/null")
        assert one.broker_requests().get("stub") == 1
        assert two.broker_requests() == {}
        # One session's secret does not open the other's broker.
        port = int((two.dir / BROKER_PORT).read_text())
        assert _raw_answer(("127.0.0.1", port), (one.dir / BROKER_SECRET).read_text().strip()) == b""


def test_the_channel_answers_only_the_secret(session):
    port = int((session.dir / BROKER_PORT).read_text())
    secret = (session.dir / BROKER_SECRET).read_text().strip()
    assert _raw_answer(("127.0.0.1", port), secret) == b"exit\x000\x00"
    assert _raw_answer(("127.0.0.1", port), "0" * len(secret)) == b""
    assert _raw_answer(("127.0.0.1", port), "") == b""
    assert _raw_answer(str(session.dir / BROKER_SOCKET), secret) == b"exit\x000\x00"
    for name in (BROKER_SECRET, BROKER_PORT, BROKER_SOCKET):
        assert (session.dir / name).stat().st_mode & 0o077 == 0, name
    assert session.dir.stat().st_mode & 0o077 == 0


def test_the_unix_socket_refuses_another_user(session, tmp_path):
    """An ordinary user who somehow holds the secret still cannot ask on the session's socket."""
    user = "wingman-other"
    if subprocess.run(["id", user], capture_output=True).returncode:
        subprocess.run(["useradd", "--no-create-home", user], check=True)
    secret = (session.dir / BROKER_SECRET).read_text().strip()
    # The session directory is private: the other user cannot even reach the socket file.
    probe = subprocess.run(["runuser", "-u", user, "--", "python3", "-c",
                            f"import os; os.stat({str(session.dir / BROKER_SOCKET)!r})"],
                           capture_output=True, text=True)
    assert probe.returncode != 0 and "Permission denied" in probe.stderr, probe.stderr
    # Over loopback TCP the other user gets nothing without the secret.
    port = int((session.dir / BROKER_PORT).read_text())
    code = ("import socket; s=socket.create_connection(('127.0.0.1', %d)); "
            "s.sendall(b'guess\\0ping\\0' b'0\\0'); print(repr(s.recv(100)))" % port)
    tcp = subprocess.run(["runuser", "-u", user, "--", "python3", "-c", code], capture_output=True, text=True)
    assert tcp.stdout.strip() == "b''", tcp.stderr
    assert secret not in tcp.stdout


def _raw_answer(address, secret: str) -> bytes:
    family = socket.AF_UNIX if isinstance(address, str) else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        if isinstance(address, str):
            with unix_path(address) as short:
                sock.connect(short)
        else:
            sock.connect(address)
        sock.sendall(request(secret, "ping"))
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
        return data


@pytest.mark.parametrize("size", ["short", "long"])
def test_a_nul_byte_does_not_hide_a_name_in_a_script(size, session, tmp_path, fixtures_intact, engine):
    """bash drops NUL bytes as it reads a script, so `doc<NUL>ker` runs docker: the hook's own read
    (a short script) and the broker's plan (a long one) drop them too. (bash will not run a file
    with a NUL in its first line.)"""
    padding = "".join(f": line {i}\n" for i in range(200)) if size == "long" else ""
    script = tmp_path / "nul.sh"
    script.write_bytes(b"true -- a first line without the byte\n" + padding.encode()
                       + names.apply("/usr/bin/doc\0ker stop -t 0 victim\necho after=$?\n").encode())
    assert (script.stat().st_size > 1024) == (size == "long")
    result = run(session, "bash", str(script), cwd=tmp_path)
    assert names.apply("wingman-run: refused: /usr/bin/docker stop -t 0 victim") in result.stderr, result.stderr
    assert result.stdout == "after=1\n"
    assert engine.snapshot() == fixtures_intact


def test_a_script_edited_after_its_plan_is_planned_again(session, tmp_path, fixtures_intact, engine):
    """The broker keeps a long script's plan while the file is unchanged: an edit that keeps its
    size (and even its modification time) still makes it read the file again."""
    padding = "".join(f": line {i}\n" for i in range(200))
    script = tmp_path / "edited.sh"
    harmless = names.apply("/usr/bin/true   stop -t 0 victim\necho after=$?\n")
    risky = names.apply("/usr/bin/docker stop -t 0 victim\necho after=$?\n")
    assert len(harmless) == len(risky)
    script.write_text(padding + harmless)
    first = run(session, "bash", str(script), cwd=tmp_path)
    assert first.stdout == "after=0\n", first.stderr
    before = script.stat()
    script.write_text(padding + risky)
    os.utime(script, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert script.stat().st_size == before.st_size and script.stat().st_mtime_ns == before.st_mtime_ns
    second = run(session, "bash", str(script), cwd=tmp_path)
    assert names.apply("wingman-run: refused: /usr/bin/docker stop -t 0 victim") in second.stderr, second.stderr
    assert second.stdout == "after=1\n"
    assert engine.snapshot() == fixtures_intact


def test_the_hook_read_twice_costs_nothing_and_stays_in_force(session, tmp_path, fixtures_intact, engine):
    """A snapshot or script that sources the hook again: no errors, no second arming, checks still on."""
    again = tmp_path / "again.sh"
    again.write_text('hook=$(env | grep "^BASH_EN" | cut -d= -f2)\nsource "$hook"; source "$hook"\necho sourced\n')
    result = run(session, "bash", "-c", names.apply(f"source {again}; /usr/bin/docker stop victim; echo after=$?"))
    assert result.stdout == "sourced\nafter=1\n", result.stderr
    assert "readonly" not in result.stderr
    assert names.apply("wingman-run: refused: /usr/bin/docker stop victim") in result.stderr
    # The same name set in the environment is not the hook's own: the next shell arms as usual.
    spoofed = session.run(["env", f"__WINGMAN_SESSION={session.id}", "bash", "-c",
                           names.apply("/usr/bin/docker stop victim; echo after=$?")], capture_output=True, text=True)
    assert "wingman-run: refused:" in spoofed.stderr and spoofed.stdout == "after=1\n"
    assert engine.snapshot() == fixtures_intact


def test_a_refusal_names_objects_as_the_daemon_knows_them(session, engine):
    missing = names.unique("never-made")
    result = run(session, "bash", "-c", names.apply(f"docker stop {missing}; docker stop victim"))
    assert f"touches:  container {missing}, no such container" in result.stderr
    assert names.apply("touches:  container victim (id ") in result.stderr


def test_a_client_with_the_secret_cannot_write_an_allow_the_policy_would_not_give(session, wingman_home, engine,
                                                                                fixtures_intact):
    """The session can read the broker's secret: it can ask, never claim; the core judges every call."""
    asked = session.ask("stub", "1", "/", "", "docker", "kill", names.apply("victim"))
    assert asked.status == 1 and "wingman-run: refused: docker kill" in "".join(asked.values("err"))
    assert not asked.values("exec")
    claimed = session.ask("allowed", "1", "/", "docker.container.ls", "docker", "kill", names.apply("victim"))
    assert claimed.status == 2 and "does not know `allowed`" in "".join(claimed.values("err"))
    ended = session.ask("done", "some-decision-id", "0", "1")  # an end is recorded from the call's own connection only
    assert ended.status == 2 and "does not know `done`" in "".join(ended.values("err"))
    api = session.ask("api", "not-the-guards-token", "1", "POST", "/containers/x/kill", "docker.container.ls", "x",
                      "POST /containers/x/kill")
    assert api.status == 1 and "only the session's Docker API guard" in "".join(api.values("err"))
    decisions = [e for e in wingman_home.events() if e["event"] == "decision"]
    assert decisions and all(e["verdict"] != "allow" for e in decisions), decisions
    assert engine.snapshot() == fixtures_intact
