"""The launcher: scrubbing, exit status, missing commands, broken profiles."""

from __future__ import annotations

import json
import shutil

import pytest

from fixtures_engine import names


def test_docker_targets_and_keys_are_scrubbed_but_docker_still_works(wingman_home, engine):
    outside = {
        "DOCKER_HOST": "unix:///var/run/docker.sock",
        "DOCKER_CONTEXT": "default",
        "DOCKER_CERT_PATH": "/nonexistent",
        "WINGMAN_APPROVAL_REQUEST_KEY": "req-secret-123",
        "WINGMAN_APPROVAL_READ_KEY": "read-secret-456",
        "WINGMAN_APPROVAL_API_KEY": "legacy-secret-789",
    }
    script = 'env; echo "host=[$DOCKER_HOST] context=[$DOCKER_CONTEXT]"; docker ps --format "{{.Names}}"'
    result = wingman_home.run("--", "bash", "-c", script, env=outside)
    assert result.returncode == 0, result.stderr
    assert "host=[] context=[]" in result.stdout
    assert names["victim"] in result.stdout.split()
    for secret in ("req-secret-123", "read-secret-456", "legacy-secret-789", "/nonexistent"):
        assert secret not in result.stdout
    assert "WINGMAN_SESSION=" in result.stdout


def test_profile_can_name_more_variables_to_scrub(wingman_home, tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    (project / ".wingman.yaml").write_text("env:\n  scrub: [AWS_SECRET_ACCESS_KEY]\n")
    result = wingman_home.run("--", "sh", "-c", 'echo "[$AWS_SECRET_ACCESS_KEY]"', cwd=project,
                              env={"AWS_SECRET_ACCESS_KEY": "shh"})
    assert result.stdout.strip() == "[]"


def test_exit_status_and_stdin_pass_through(wingman_home):
    assert wingman_home.run("--", "sh", "-c", "exit 7").returncode == 7
    result = wingman_home.run("cat", input="typed input\n")
    assert result.stdout == "typed input\n"
    killed = wingman_home.run("--", "sh", "-c", "kill -TERM $$")
    assert killed.returncode == 128 + 15


def test_missing_command_is_127_with_one_line(wingman_home):
    result = wingman_home.run("--", "no-such-command-xyz", "arg")
    assert result.returncode == 127
    assert result.stderr.strip() == "wingman-run: no-such-command-xyz: command not found"


def test_unknown_option_is_a_usage_error(wingman_home):
    result = wingman_home.run("--frobnicate", "true")
    assert result.returncode == 2
    assert "unknown option --frobnicate" in result.stderr


BROKEN = {
    "bad-yaml": ("rules:\n  docker.container.stop: [allow\n", 2, "not valid YAML"),
    "unknown-key": ("level: default\nrulez:\n  docker.container.stop: allow\n", 2, "unknown key 'rulez'"),
    "wrong-type": ("approvals:\n  timeout_seconds: soon\n", 2, "approvals.timeout_seconds"),
    "unknown-verdict": ("rules:\n  docker.container.stop: maybe\n", 2, "unknown verdict"),
    "unknown-rule": ("rules:\n  docker.container.stopp: allow\n", 2, "no rule is called 'docker.container.stopp'"),
    "unknown-level": ("level: lax\n", 1, "'level' must be one of"),
    "extends-missing": ("extends: nonexistent\n", None, "no profile called 'nonexistent'"),
}


@pytest.mark.parametrize("case", sorted(BROKEN), ids=str)
def test_broken_profile_starts_nothing(case, wingman_home, tmp_path):
    text, line, expected = BROKEN[case]
    project = tmp_path / "proj"
    project.mkdir()
    profile = project / ".wingman.yaml"
    profile.write_text(text)
    marker = tmp_path / "ran"
    result = wingman_home.run("--", "touch", str(marker), cwd=project)
    assert result.returncode == 2
    assert not marker.exists()
    where = f"{profile}:{line}" if line else ""
    assert where in result.stderr
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert "Nothing was started" in result.stderr


def test_broken_profile_given_by_path_starts_nothing(wingman_home, tmp_path):
    profile = tmp_path / "mine.yaml"
    profile.write_text("packs:\n  docker: sometimes\n")
    result = wingman_home.run("--profile", str(profile), "--", "true")
    assert result.returncode == 2
    assert f"{profile}:2" in result.stderr and "must be true or false" in result.stderr


def test_project_profile_changes_the_verdict(wingman_home, tmp_path, engine, fixtures_intact):
    project = tmp_path / "proj"
    project.mkdir()
    (project / ".wingman.yaml").write_text("rules:\n  docker.container.ls: deny\n")
    result = wingman_home.run("--", "docker", "ps", cwd=project)
    assert result.returncode == 1
    assert "docker.container.ls (deny)" in result.stderr


def test_strict_profile_refuses_outright(wingman_home, engine, fixtures_intact):
    result = wingman_home.run("--profile", "strict", "--", "docker", "stop", names["victim"])
    assert result.returncode == 1
    assert "docker.container.stop (deny)" in result.stderr
    assert engine.snapshot() == fixtures_intact


def test_check_json_lists_commands(wingman_home):
    result = wingman_home.sandbox("check", "--json", "docker ps && docker --context prod system prune -af")
    payload = json.loads(result.stdout)
    assert payload["verdict"] == "deny"
    assert payload["rule"] == "docker.host.override"
    rules = [c["rule"] for c in payload["commands"]]
    assert "docker.container.ls" in rules and "docker.system.prune" in rules
    assert result.returncode == 1


def test_profiles_lists_and_names_the_applied_one(wingman_home, tmp_path):
    project = tmp_path / "proj"
    (project / "sub").mkdir(parents=True)
    (project / ".wingman.yaml").write_text("extends: strict\n")
    result = wingman_home.sandbox("profiles", cwd=project / "sub")
    assert "default" in result.stdout and "strict" in result.stdout
    assert f"applies here: {project / '.wingman.yaml'}" in result.stdout
    assert "level strict" in result.stdout


def test_audit_log_is_private(wingman_home, engine):
    assert wingman_home.run("--", "docker", "ps", "-q").returncode == 0
    assert wingman_home.audit_log.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("cc", [None, "false"], ids=["compiled", "no-compiler"])
def test_the_stub_kind_and_a_session_inside_a_session(cc, wingman_home, engine):
    """With a C compiler the session's stubs are the compiled program; without one (CC=false
    fails every build), bash scripts. Either way docker works, a refusal holds, and a session
    started inside the session finds the real docker, not the outer stub. (What the inner
    session runs is judged by the outer one first: tests/corpus/bypass_attempts.yaml.)"""
    from conftest import WINGMAN_RUN

    env = {"CC": cc} if cc else {}
    inner = ("docker ps --format {{.Names}}; "
             "grep -o \"\\\"docker\\\": \\\"[^\\\"]*\" \"$WINGMAN_SESSION_DIR/session.json\"")
    script = ("head -c 4 \"$(command -v docker)\" | od -An -c | tr -d ' \\n'; echo; "
              "docker ps --format '{{.Names}}'; docker stop victim; echo stop=$?; "
              f"{WINGMAN_RUN} -- sh -c '{inner}'")
    result = wingman_home.run("--", "bash", "-c", names.apply(script), env=env)
    lines = result.stdout.splitlines()
    assert (lines[0] == "177ELF") if cc is None else lines[0].startswith("#!/"), result.stderr  # ELF, or #!BASH
    assert lines.count(names["victim"]) == 2 and "stop=1" in lines, result.stderr
    assert result.stderr.count(names.apply("wingman-run: refused: docker stop victim")) == 1
    real = shutil.which("docker")
    assert f'"docker": "{real}' in lines, result.stdout  # the inner session's real docker
