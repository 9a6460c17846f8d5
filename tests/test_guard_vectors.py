"""The evasion vectors, end to end through wingman-run on the real engine, with OS isolation on and off.

The session's command is a small Python driver (no hooked shell around it):
each vector runs in a bash that has no hooks and a PATH without the stubs, as
a determined process would arrange. With isolation on, each must leave its
target running and leave a `guard` event in the audit log; with isolation
off, the same vectors reach the daemon (the rows the README calls open).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

import pexpect
import pytest

import fixtures_engine
from conftest import WINGMAN_RUN
from guard_support import REPO, USER, as_user, ensure_user, own_container, state, user_python

BASE = fixtures_engine.BASE_IMAGE

# name -> bash text; {t} is the target container, {py} an interpreter with the Docker SDK.
VECTORS = {
    "copied-binary": "cp /usr/bin/docker $TMPDIR/d && $TMPDIR/d stop {t}",
    "symlinked-binary": "ln -sf /usr/bin/docker $TMPDIR/dl && $TMPDIR/dl stop {t}",
    "perl-exec": "perl -e 'exec \"/usr/bin/docker\", \"stop\", \"{t}\"'",
    "python-raw-socket": textwrap.dedent("""\
        {py} - <<'EOF'
        import socket
        s = socket.socket(socket.AF_UNIX)
        s.connect("/run/docker.sock")
        s.sendall(b"POST /containers/{t}/stop HTTP/1.1\\r\\nHost: docker\\r\\nContent-Length: 0\\r\\n\\r\\n")
        print(s.recv(4096).split(b"\\r\\n")[0].decode())
        EOF"""),
    "dash-script": "printf '/usr/bin/docker stop {t}\\n' > $TMPDIR/s.sh && dash $TMPDIR/s.sh",
    "curl-unix-socket": "curl -sf --unix-socket /var/run/docker.sock -X POST http://d/v1.41/containers/{t}/stop",
    "docker-sdk": "{py} -c \"import docker; docker.from_env().containers.get('{t}').stop(timeout=1)\"",
    "alias": "shopt -s expand_aliases\nalias d=/usr/bin/docker\nd stop {t}",
    "hash-p": "hash -p /usr/bin/docker d; d stop {t}",
    "glob": "/usr/b?n/dock[e]r stop {t}",
    "ansi-c-name": "$'\\x2fusr/bin/\\x64ocker' stop {t}",
}

DRIVER = textwrap.dedent("""\
    import json, os, subprocess, sys, tempfile
    vectors = json.loads(sys.argv[1])
    results = {}
    for name, script in vectors.items():
        tmp = tempfile.mkdtemp()
        env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/tmp"), "TMPDIR": tmp}  # no hooks, no stubs
        if os.environ.get("PYTHONPATH"):
            env["PYTHONPATH"] = os.environ["PYTHONPATH"]  # where the ordinary user finds the Docker SDK
        done = subprocess.run(["/bin/bash", "--norc", "--noprofile", "-c", script], env=env,
                              capture_output=True, text=True, timeout=60)
        results[name] = [done.returncode, done.stdout, done.stderr]
    print(json.dumps(results))
    """)


def session_env(root: Path, owner: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DOCKER_", "WINGMAN_")) and k not in ("BASH_ENV", "ZDOTDIR", "ENV")}
    env.update(WINGMAN_AUDIT_LOG=str(root / "audit.jsonl"), WINGMAN_RUNTIME_DIR=str(root / "run"),
               WINGMAN_CONFIG_DIR=str(root / "config"), PATH="/usr/bin:/bin")
    (root / "config").mkdir(parents=True, exist_ok=True)
    if owner:
        python, extra = user_python()
        env.update(extra, HOME=f"/home/{owner}", USER=owner)
        env.pop("XDG_RUNTIME_DIR", None)
    return env


def wingman_run(root: Path, argv: list[str], profile: str, owner: str | None = None, **kw) -> subprocess.CompletedProcess:
    (root / "profile.yaml").write_text(profile)
    env = session_env(root, owner)
    if owner:
        python, _ = user_python()
        command = as_user([*python, "-m", "sandbox.cli.run", "--profile", str(root / "profile.yaml"), "--", *argv], owner)
        subprocess.run(["chown", "-R", f"{owner}:{owner}", str(root)], check=True)
    else:
        command = [WINGMAN_RUN, "--profile", str(root / "profile.yaml"), "--", *argv]
    return subprocess.run(command, capture_output=True, text=True, env=env, cwd=str(root), timeout=300, **kw)


def container_id(name: str) -> str:
    return fixtures_engine.docker("inspect", "--format", "{{.Id}}", name).stdout.strip()


def events(root: Path) -> list[dict]:
    path = root / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def run_vectors(root: Path, isolation: str, owner: str | None = None) -> tuple[dict, dict[str, str], list[dict]]:
    targets = {name: own_container(f"vec-{owner or 'root'}-{isolation}-{i}") for i, name in enumerate(VECTORS)}
    python = user_python()[0][0] if owner else sys.executable
    scripts = {name: text.replace("{t}", targets[name]).replace("{py}", python) for name, text in VECTORS.items()}
    driver = root / "driver.py"
    driver.write_text(DRIVER)
    result = wingman_run(root, [python, str(driver), json.dumps(scripts)], f"isolation: {isolation}\n", owner)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout), targets, events(root)


@pytest.fixture()
def root_dir():
    root = Path(tempfile.mkdtemp(prefix="wmguard-vec-"))
    root.chmod(0o755)
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize("who", ["root", "user"])
def test_vectors_are_closed_behind_isolation(engine, root_dir, who):
    owner = None
    if who == "user":
        ensure_user()
        owner = USER
    results, targets, audit = run_vectors(root_dir, "required", owner)
    guard_events = [e for e in audit if e.get("layer") == "guard"]
    for name, target in targets.items():
        code, out, err = results[name]
        assert state(target) == "running", f"{name}: the target was stopped ({out}{err})"
        assert code != 0 or "403 Forbidden" in out, f"{name}: {code} {out} {err}"
        spellings = (target, container_id(target))  # the SDK calls containers by id
        assert any(any(s in " ".join(e.get("argv", [])) for s in spellings) and e.get("exit") == 1 for e in guard_events), \
            f"{name}: no refusal by the guard in the audit log"


def test_vectors_reach_the_daemon_without_isolation(engine, root_dir):
    # What `isolation: off` leaves open: the shell layers never see these programs.
    results, targets, audit = run_vectors(root_dir, "off")
    stopped = sorted(name for name, target in targets.items() if state(target) != "running")
    assert stopped == sorted(VECTORS), results
    assert not [e for e in audit if e.get("layer") == "guard"]


LOOK_ALIKE = textwrap.dedent("""\
    import os, socket, subprocess, sys, threading
    session = os.environ["WINGMAN_SESSION_DIR"]
    parent = os.path.dirname(session)
    os.rename(parent, parent + "-aside")  # the session directory is read-only; its parent is not
    os.makedirs(session)
    with open(os.path.join(session, "broker.secret"), "w") as secret:
        secret.write("planted\\n")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(os.path.join(session, "broker.sock"))
    listener.listen(16)
    asked = []
    def answer_yes():
        while True:
            client, _ = listener.accept()
            asked.append(client.recv(65536))
            client.sendall(b"exit\\x000\\x00")
            client.close()
    threading.Thread(target=answer_yes, daemon=True).start()
    done = subprocess.run(["/usr/bin/docker", "stop", "-t", "0", sys.argv[1]], capture_output=True, text=True)
    print(done.returncode, len(asked), done.stderr.strip().replace("\\n", " "))
    """)


def test_a_look_alike_broker_behind_moved_directories_is_never_asked(engine, root_dir):
    """A session moves its directory's parent aside and plants a broker that allows everything at the
    same path: the guard still asks the session's own broker, which refuses and audits."""
    target = own_container("vec-look-alike")
    driver = root_dir / "look_alike.py"
    driver.write_text(LOOK_ALIKE)
    result = wingman_run(root_dir, [sys.executable, str(driver), target], "isolation: required\n")
    code, asked, err = result.stdout.split(" ", 2)
    assert code != "0" and asked == "0", result.stdout + result.stderr
    assert "wingman-run: refused" in err and "docker.container.stop" in err
    assert state(target) == "running"
    guard = [e for e in events(root_dir) if e.get("layer") == "guard"]
    assert any(e["rule"] == "docker.container.stop" and e.get("exit") == 1 for e in guard), guard


def test_allowed_change_passes_the_guard_and_is_audited(engine, root_dir):
    target = own_container("vec-allowed")
    profile = "isolation: required\nrules:\n  docker.container.stop: allow\n"
    result = wingman_run(root_dir, ["/usr/bin/docker", "stop", "-t", "0", target], profile)
    assert result.returncode == 0, result.stderr
    assert state(target) == "exited"
    guard = [e for e in events(root_dir) if e.get("layer") == "guard"]
    assert any(e["rule"] == "docker.container.stop" and e["verdict"] == "allow" and target in e["argv"][1] for e in guard)


def test_privileged_container_is_held_back_even_when_run_is_allowed(engine, root_dir):
    name = fixtures_engine.names.unique("vec-priv")
    result = wingman_run(root_dir, ["/usr/bin/docker", "run", "--rm", "--name", name, "--label", fixtures_engine.LABEL,
                                    "--network", "none", "--privileged", BASE, "true"], "isolation: required\n")
    assert result.returncode != 0
    assert "docker.container.create.privileged" in result.stderr
    assert fixtures_engine.docker("inspect", name, check=False).returncode != 0  # never created


@pytest.mark.parametrize("options,rule", [
    (["-v", "/run/containerd:/c"], "docker_socket"),
    (["-v", "/var/lib/docker:/d:ro"], "host_mount"),
    (["-v", "/sys/fs/cgroup:/cg"], "host_mount"),
    (["--pid", "container:NAME", "--cap-add", "SYS_PTRACE"], "shared_pid"),
], ids=["containerd-dir", "docker-state", "cgroups", "shared-pid"])
def test_containers_that_could_stop_others_are_held_back(options, rule, engine, root_dir):
    victim = own_container("vec-pidvictim")
    name = fixtures_engine.names.unique("vec-reach")
    options = [o.replace("NAME", victim) for o in options]
    result = wingman_run(root_dir, ["/usr/bin/docker", "run", "--rm", "--name", name, "--label", fixtures_engine.LABEL,
                                    "--network", "none", *options, BASE, "true"], "isolation: required\n")
    assert result.returncode != 0
    assert f"docker.container.create.{rule}" in result.stderr
    assert fixtures_engine.docker("inspect", name, check=False).returncode != 0  # never created
    assert state(victim) == "running"


def test_required_without_bubblewrap_exits_2_with_the_reason(engine, root_dir):
    marker = root_dir / "ran"
    (root_dir / "profile.yaml").write_text("isolation: required\n")
    env = {**session_env(root_dir), "WINGMAN_BWRAP": "/nonexistent/bwrap"}
    result = subprocess.run([WINGMAN_RUN, "--profile", str(root_dir / "profile.yaml"), "--", "touch", str(marker)],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2
    assert "isolation is required by the profile, and bubblewrap (bwrap) is not installed" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not marker.exists()


def test_auto_without_bubblewrap_warns_and_runs(engine, root_dir):
    (root_dir / "profile.yaml").write_text("isolation: auto\n")
    env = {**session_env(root_dir), "WINGMAN_BWRAP": ""}
    result = subprocess.run([WINGMAN_RUN, "--profile", str(root_dir / "profile.yaml"), "--", "true"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0
    assert result.stderr.startswith("wingman-run: warning: no OS isolation")


# -- everyday docker through the guard, in an isolated session

def test_everyday_commands_work_unchanged(engine, root_dir):
    name = own_container("vec-work", "sh", "-c", "i=0; while true; do echo line $i; i=$((i+1)); sleep 0.2; done")
    image = fixtures_engine.names.unique("vec-img") + ":1"
    (root_dir / "ctx").mkdir()
    (root_dir / "ctx" / "Dockerfile").write_text(f"FROM {BASE}\nRUN echo built > /built\n")
    (root_dir / "payload").write_bytes(os.urandom(3 << 20))
    script = "\n".join([
        f"set -e",
        f"docker build -q -t {image} --label {fixtures_engine.LABEL} {root_dir}/ctx >/dev/null",
        f"docker run --rm --name {fixtures_engine.names.unique('vec-once')} --network none {image} cat /built",
        f"echo hello-stdin | docker exec -i {name} cat",
        f"docker cp {root_dir}/payload {name}:/payload",
        f"docker cp {name}:/payload {root_dir}/payload.back",
        f"cmp {root_dir}/payload {root_dir}/payload.back && echo cp-ok",
        f"timeout 3 docker logs -f {name} | head -3 | wc -l",
        f"since=$(date +%s); docker pause {name} >/dev/null; docker unpause {name} >/dev/null",
        f"docker events --since $since --until $(($(date +%s)+1)) --filter container={name} --format '{{{{.Action}}}}' | tr '\\n' ' '",
        "echo",
        f"docker ps --filter name={name} --format '{{{{.Names}}}}'",
    ])
    result = wingman_run(root_dir, ["/bin/bash", "-c", script], "isolation: required\nrules:\n  docker.container.pause: allow\n")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:3] == ["built", "hello-stdin", "cp-ok"], result.stdout
    assert lines[3].strip() == "3"
    assert lines[4].split()[-2:] == ["pause", "unpause"]  # the stream may hold the cp events of the same second
    assert lines[5] == name
    guard = [e for e in events(root_dir) if e.get("layer") == "guard"]
    assert {e["rule"] for e in guard} >= {"docker.image.build", "docker.container.create", "docker.container.exec",
                                           "docker.container.cp", "docker.container.pause"}


def test_interactive_run_exec_and_attach_at_a_terminal(engine, root_dir):
    name = fixtures_engine.names.unique("vec-tty")
    (root_dir / "profile.yaml").write_text("isolation: required\n")
    env = session_env(root_dir)
    env.update(TERM="xterm", PS1="$ ")
    child = pexpect.spawn(WINGMAN_RUN, ["--profile", str(root_dir / "profile.yaml"), "--", "/bin/sh"], env=env,
                          encoding="utf-8", timeout=30, dimensions=(30, 100))
    try:
        child.expect_exact("$ ")
        child.sendline(f"docker run -it --name {name} --label {fixtures_engine.LABEL} --network none {BASE} sh")
        child.expect_exact("/ # ")
        child.sendline("echo $((6*7)); stty size")
        child.expect("42")
        child.expect("30 100")
        child.sendcontrol("p")
        child.sendcontrol("q")  # detach: the container keeps running
        child.expect_exact("$ ")
        child.sendline(f"docker exec -it {name} sh")
        child.expect_exact("/ # ")
        child.sendline("echo $((6*8))")
        child.expect("48")
        child.sendline("exit")
        child.expect_exact("$ ")
        child.sendline(f"docker attach {name}")
        child.sendline("echo attached-$((5*5))")
        child.expect("attached-25")
        child.sendline("exit 3")
        child.expect_exact("$ ")
        child.sendline("echo status=$?; exit")
        child.expect("status=3")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert state(name) == "exited"
