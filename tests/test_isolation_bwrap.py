"""OS isolation with the real bubblewrap, the real guard and the real engine, as root and as an ordinary user."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pexpect
import pytest

import fixtures_engine
from guard_support import USER, Guard, as_user, ensure_user, make_session, own_container, state
from sandbox.session.isolation import IsolationUnavailable, bwrap_argv, isolate, macos_profile
from sandbox.session.record import Session

PATH = "/usr/bin:/bin"


@pytest.fixture(scope="module")
def root_session(engine, tmp_path_factory):
    directory = make_session(tmp_path_factory.mktemp("iso") / "session")
    with Guard(directory) as guard:
        yield Session.load(directory), guard


@pytest.fixture(scope="module")
def user_session(engine):
    ensure_user()
    root = Path(tempfile.mkdtemp(prefix="wmguard-"))
    try:
        directory = make_session(root / "session", owner=USER)
        with Guard(directory, user=USER) as guard:
            yield Session.load(directory), guard
    finally:
        shutil.rmtree(root, ignore_errors=True)


def inside(session, script: str, user: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run a shell script in the isolated session, as the launcher would start its command."""
    argv, note = isolate(["/bin/sh", "-c", script], session, "required", environ={"PATH": PATH, "HOME": os.path.expanduser("~")})
    assert os.path.basename(argv[0]) == "env" and argv[1] == "--ignore-signal=INT,QUIT,TERM,HUP"
    assert argv[2].endswith("bwrap") and note is None
    env = {"PATH": PATH, "HOME": "/tmp", "WINGMAN_SESSION_DIR": session.dir}
    return subprocess.run(as_user(argv, user), capture_output=True, text=True, timeout=timeout, env=env, cwd="/tmp")


RAW_STOP = """python3 - <<'EOF'
import socket
s = socket.socket(socket.AF_UNIX)
s.connect("{path}")
s.sendall(b"POST /v1.41/containers/{name}/stop HTTP/1.1\\r\\nHost: docker\\r\\nContent-Length: 0\\r\\n\\r\\n")
print(s.recv(65536).split(b"\\r\\n")[0].decode())
EOF"""


@pytest.mark.parametrize("who", ["root", "user"])
def test_every_spelling_of_the_socket_leads_to_the_guard(who, request):
    session, _guard = request.getfixturevalue(f"{who}_session")
    user = USER if who == "user" else None
    name = own_container(f"iso-{who}")
    script = "\n".join([
        f"docker ps --filter name={name} --format '{{{{.Names}}}}'",
        f"/usr/bin/docker stop {name}; echo stop=$?",
        f"cp /usr/bin/docker /tmp/d-$$ && /tmp/d-$$ kill {name}; echo copied=$?; rm -f /tmp/d-$$",
        RAW_STOP.format(path="/var/run/docker.sock", name=name),
        RAW_STOP.format(path="/run/docker.sock", name=name),
        f"curl -s --unix-socket /var/run/docker.sock -X POST http://d/v1.41/containers/{name}/pause; echo",
    ])
    result = inside(session, script, user)
    out = result.stdout
    assert out.splitlines()[0] == name, result.stderr  # reads reach the daemon through the guard
    assert "stop=1" in out and "copied=1" in out
    assert out.count("HTTP/1.1 403 Forbidden") == 2
    assert '{"message": "wingman-run: refused' in out  # curl's answer: the daemon's error format
    assert result.stderr.count("wingman-run: refused") == 2
    assert state(name) == "running"


def test_root_inside_cannot_bring_the_real_socket_back(root_session):
    session, _ = root_session
    name = own_container("iso-umount")
    script = "\n".join([
        "umount /run/docker.sock; echo umount=$?",
        "umount -l /run; echo umount_run=$?",
        "mount --bind /proc/1/root/run /mnt 2>/dev/null; echo mount=$?",
        f"/usr/bin/docker --host unix:///proc/1/root/run/docker.sock stop {name}; echo proc_root=$?",
        "grep CapEff /proc/self/status",
    ])
    result = inside(session, script)
    assert "umount=32" in result.stdout and "umount_run=32" in result.stdout and "mount=32" in result.stdout
    assert "proc_root=1" in result.stdout  # pid 1 is the sandbox's own: its root is the sandbox
    assert "CapEff:\t0000000000000000" in result.stdout
    assert state(name) == "running"


def test_root_inside_cannot_reach_the_kernels_or_the_engines_controls(root_session):
    """As root without capabilities the session still owns root's files: the ones that control the host are out of reach."""
    session, _ = root_session
    name = own_container("iso-controls")
    cid = subprocess.run([fixtures_engine.DOCKER, "inspect", "--format", "{{.Id}}", name], capture_output=True, text=True).stdout.strip()
    script = "\n".join([
        "echo '|/bin/true' > /proc/sys/kernel/core_pattern; echo core_pattern=$?",
        f"for f in /sys/fs/cgroup/freezer/docker/{cid}/freezer.state /sys/fs/cgroup/docker/{cid}/cgroup.freeze; do",
        "  [ -e \"$f\" ] && { echo FROZEN > \"$f\" || echo 1 > \"$f\"; echo freeze=$?; }",
        "done",
        "touch /sys/fs/cgroup/probe; echo sys=$?",
        "ls -A /var/lib/docker | wc -l",
    ])
    result = inside(session, script)
    assert "core_pattern=0" not in result.stdout and "sys=0" not in result.stdout, result.stdout + result.stderr
    assert "freeze=0" not in result.stdout
    assert result.stderr.count("Read-only file system") >= 2
    assert result.stdout.strip().splitlines()[-1] == "0"  # the engine's data is hidden
    assert open("/proc/sys/kernel/core_pattern").read().strip() != "|/bin/true"
    assert state(name) == "running"


@pytest.mark.parametrize("who", ["root", "user"])
def test_session_directory_is_read_only_and_its_sockets_still_connect(who, request):
    session, _guard = request.getfixturevalue(f"{who}_session")
    user = USER if who == "user" else None
    # A listener in the session directory, where the broker's socket lives.
    path = Path(session.dir) / "probe.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(4)
    os.chmod(path, 0o666)
    work = Path(tempfile.mkdtemp(prefix="wmguard-work-"))
    work.chmod(0o777)
    try:
        script = "\n".join([
            f"echo x > {session.dir}/session.json; echo record=$?",
            f"mkdir {session.dir}/bin2; echo mkdir=$?",
            f"echo hello > {work}/file && cat {work}/file",
            f"python3 -c 'import socket; s=socket.socket(socket.AF_UNIX); s.connect(\"{path}\"); print(\"connected\")'",
            "echo engines=$(ls -A /run/containerd /run/docker | grep -cv '^/run/\\|^$')",
        ])
        result = inside(session, script, user)
    finally:
        listener.close()
        path.unlink()
        shutil.rmtree(work)
    assert "record=0" not in result.stdout and "mkdir=1" in result.stdout, result.stderr
    assert result.stderr.count("Read-only file system") == 2
    assert "hello" in result.stdout and "connected" in result.stdout
    assert "engines=0" in result.stdout  # containerd's and dockerd's own directories are empty inside


def test_an_assistant_home_is_writable_but_the_files_carrying_our_hook_are_not(engine, tmp_path):
    from sandbox.assistants.setup import prepare

    directory = make_session(tmp_path / "session")
    user_home = tmp_path / "home"
    (user_home / ".gemini" / "tmp").mkdir(parents=True)
    session = Session.load(directory)
    env = {"HOME": str(user_home)}
    prepare(["gemini"], session, env, None)
    gemini_dir = Path(env["GEMINI_CLI_HOME"]) / ".gemini"
    settings = gemini_dir / "settings.json"
    before = settings.read_bytes()
    with Guard(directory):
        result = inside(session, "\n".join([
            f"echo '{{}}' > {gemini_dir}/projects.json.tmp && mv {gemini_dir}/projects.json.tmp {gemini_dir}/projects.json; echo state=$?",
            f"echo chat > {gemini_dir}/tmp/chat; echo linked=$?",
            f"echo '{{}}' > {settings}; echo overwrite=$?",
            f"echo '{{}}' > {gemini_dir}/s.tmp; mv {gemini_dir}/s.tmp {settings}; echo replace=$?",
            f"rm -f {settings}; echo remove=$?",
            f"echo x > {directory}/homes/new; echo beside=$?",
            f"ln {settings} {gemini_dir}/hard && echo '{{}}' > {gemini_dir}/hard; echo hardlink=$?",
            f"ln -sf /dev/null {settings}; echo symlink=$?",
            f"chmod 666 {settings}; echo chmod=$?",
            f"mv {gemini_dir} {gemini_dir}.old; echo move=$?",
            f"mv {gemini_dir.parent} {gemini_dir.parent}.old; echo move_home=$?",
        ]))
    assert "state=0" in result.stdout and "linked=0" in result.stdout, result.stdout + result.stderr
    for change in ("overwrite", "replace", "remove", "hardlink", "symlink", "chmod", "move", "move_home"):
        assert f"{change}=0" not in result.stdout, result.stdout + result.stderr
    assert settings.read_bytes() == before
    assert (user_home / ".gemini" / "tmp" / "chat").read_text() == "chat\n"  # the user's own, through the link
    assert "beside=0" in result.stdout  # the homes directory is the assistants' to write in


def test_guard_down_means_no_daemon_at_all(engine, tmp_path):
    directory = make_session(tmp_path / "session")
    guard = Guard(directory).start()
    session = Session.load(directory)
    guard.stop()  # the socket file stays, nobody listens
    name = own_container("iso-down")
    result = inside(session, "\n".join([
        "python3 -c 'import socket; s=socket.socket(socket.AF_UNIX); s.connect(\"/run/docker.sock\")' 2>&1 | tail -1",
        f"docker stop {name}; echo stop=$?",
    ]))
    assert "ConnectionRefusedError" in result.stdout
    assert "stop=1" in result.stdout
    assert state(name) == "running"


def test_job_control_and_the_terminal_work_inside(root_session):
    session, _ = root_session
    argv, _ = isolate(["/bin/bash", "--norc", "-i"], session, "required", environ={"PATH": PATH})
    child = pexpect.spawn(argv[0], argv[1:], env={"PATH": PATH, "PS1": "$ ", "TERM": "dumb"}, encoding="utf-8", timeout=20)
    try:
        child.expect_exact("$ ")
        child.sendline("sleep 100")
        child.expect_exact("sleep 100")
        time.sleep(0.5)  # the sleep is in the foreground by now
        child.sendcontrol("z")
        child.expect("Stopped")
        child.sendline("bg; jobs")
        child.expect(r"Running\s+sleep 100 &")
        child.sendline("kill %1; tty; echo cols=$(tput cols 2>/dev/null || stty size)")
        child.expect(r"/dev/pts/\d+")
        child.sendline("exit 7")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert child.exitstatus == 7


def test_required_without_bubblewrap_refuses_with_the_reason(root_session):
    session, _ = root_session
    with pytest.raises(IsolationUnavailable, match="bubblewrap .bwrap. is not installed on PATH"):
        isolate(["true"], session, "required", environ={"PATH": "/nonexistent"})
    with pytest.raises(IsolationUnavailable, match="not installed at WINGMAN_BWRAP"):
        isolate(["true"], session, "required", environ={"PATH": PATH, "WINGMAN_BWRAP": "/nonexistent/bwrap"})


def test_auto_without_bubblewrap_warns_once_and_names_what_stays_open(root_session):
    session, _ = root_session
    argv, note = isolate(["true"], session, "auto", environ={"PATH": "/nonexistent"})
    assert argv == ["true"]
    assert note.startswith("wingman-run: warning: no OS isolation") and "raw-socket" in note and "\n" not in note


def test_off_never_isolates(root_session):
    session, _ = root_session
    assert isolate(["true"], session, "off", environ={"PATH": PATH}) == (["true"], None)


def test_a_tcp_daemon_cannot_be_isolated(tmp_path):
    directory = make_session(tmp_path / "session", docker_env={"DOCKER_HOST": "tcp://10.0.0.1:2376"})
    session = Session.load(directory)
    with pytest.raises(IsolationUnavailable, match="Unix socket"):
        isolate(["true"], session, "required", environ={"PATH": PATH})
    argv, note = isolate(["true"], session, "auto", environ={"PATH": PATH})
    assert argv == ["true"] and "tcp://10.0.0.1:2376" in note


def test_bwrap_argv_order():
    argv = bwrap_argv("bwrap", ["cmd", "a"], "/s", ["/run/docker.sock"], ["/run/user/1/docker.sock"], ["/run/containerd"], "/w")
    # The session directory before the guard's bind (which lies over it), hidden paths before the guard too.
    assert argv.index("--ro-bind") < argv.index("--tmpfs") < argv.index("/run/user/1/docker.sock") < argv.index("/s/docker.sock")
    assert argv[-3:] == ["--", "cmd", "a"] and "--cap-drop" in argv and "--die-with-parent" in argv
    # Signals: bwrap ignores them (it would die and take the session with it), the command gets them back.
    assert argv[:3] == ["env", "--ignore-signal=INT,QUIT,TERM,HUP", "bwrap"]
    assert argv[-6:-3] == ["--", "env", "--default-signal=INT,QUIT,TERM,HUP"]


def test_macos_profile_denies_every_engine_socket_and_lets_the_guard_through():
    text = macos_profile('/Users/a "b"/run/s1', "/Users/a")
    assert text.count("(") == text.count(")")
    for path in ("/var/run/docker.sock", "/Users/a/.docker/run/docker.sock", "/Users/a/.orbstack/run/docker.sock"):
        assert f'(deny network-outbound (remote unix-socket (path-literal "{path}")))' in text
    assert 'colima/[^/]+/docker[.]sock$' in text
    assert '(allow network-outbound (remote unix-socket (path-literal "/Users/a \\"b\\"/run/s1/docker.sock")))' in text
    assert text.index("(allow default)") < text.index("(deny network-outbound")


def test_the_filesystem_is_laid_in_without_the_engines_mount_trees(tmp_path):
    """Binding / whole also binds the engines' container mounts, which come and go: bubblewrap then fails now and then."""
    from sandbox.session.isolation import root_binds

    hidden = str(tmp_path / "var" / "lib" / "docker")
    os.makedirs(hidden)
    options, pairs = root_binds([hidden]), []
    while options:  # (option, the path it lays in): --dir takes one argument, --bind and --symlink two
        width = 2 if options[0] == "--dir" else 3
        pairs.append((options[0], options[width - 1]))
        options = options[width:]
    assert ("--bind", "/") not in pairs and all(path != hidden for _, path in pairs)
    assert ("--dir", str(tmp_path)) in pairs and ("--dir", str(tmp_path / "var" / "lib")) in pairs
    assert all(not path.startswith(("/proc", "/sys", "/dev/")) for _, path in pairs)
    assert root_binds([]) == ["--bind", "/", "/"]
