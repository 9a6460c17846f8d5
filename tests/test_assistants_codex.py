"""Real Codex CLI inside wingman-run, against the scripted Responses API and the real engine.

The user's own ~/.codex/config.toml names the stand-in as the model provider;
`codex exec` runs non-interactively. The model asks for shell calls; Codex's
own PreToolUse hook (added with -c for this launch, with its trust record)
asks the session's broker before any shell starts. What the model reads back
is the next request's function_call_output.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import WINGMAN_RUN
from fixtures_engine import container_state, docker, names
from assistants_support import installed_cli, running_target, shell_events_naming
from openai_api import OpenAiApi

TARGET = names.unique("codex-target")
KEY_ENV = "STAND_IN_OPENAI_KEY"


@pytest.fixture(scope="module")
def codex():
    return installed_cli("codex", "Codex CLI")


@pytest.fixture()
def target(engine):
    with running_target(TARGET):
        yield TARGET


@pytest.fixture()
def user_home():
    home = Path(tempfile.mkdtemp(prefix=f"{names.unique('codex-home')}-", dir=Path.home() / ".cache"))
    yield home
    shutil.rmtree(home, ignore_errors=True)


def user_config(home: Path, url: str) -> Path:
    """The user's own Codex config: the stand-in as their model provider."""
    path = home / ".codex" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        '# my Codex settings\nmodel = "stand-in-model"\nmodel_provider = "standin"\n'
        'check_for_update_on_startup = false\n\n'
        f'[model_providers.standin]\nname = "Stand-in"\nbase_url = "{url}/v1"\n'
        f'wire_api = "responses"\nenv_key = "{KEY_ENV}"\n')
    return path


def codex_env(base: dict, home: Path) -> dict:
    env = {k: v for k, v in base.items() if not k.startswith(("CODEX_", "OPENAI_"))}
    env.update(HOME=str(home), SHELL="/bin/bash", **{KEY_ENV: "sk-test-not-a-key"})
    return env


def run_codex(wingman_home, codex, home: Path, project: Path, timeout=240) -> subprocess.CompletedProcess:
    # Codex's own sandbox stays off (the session guards the engine); exec never asks for approval.
    argv = [str(codex), "exec", "--skip-git-repo-check", "-s", "danger-full-access", "Run the commands."]
    return subprocess.run([WINGMAN_RUN, "--", *argv], env=codex_env(wingman_home.env, home), cwd=project,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)


def test_codex_destructive_call_is_refused_before_any_shell_and_docker_ps_runs(codex, wingman_home, user_home, tmp_path, target):
    destructive = f"docker rm -f {target}"
    harmless = "docker ps --format '{{.Names}}'"
    project = tmp_path / "project"
    project.mkdir()
    before_container = docker("inspect", "--format", "{{.Id}} {{.State.StartedAt}}", target).stdout
    with OpenAiApi([destructive, harmless]) as api:
        config = user_config(user_home, api.url)
        config_before = config.read_bytes()
        result = run_codex(wingman_home, codex, user_home, project)
        assert result.returncode == 0, result.stdout + result.stderr
        results = api.tool_results()
        turns = api.conversation()
    # Codex used the provider from the user's own config, and sent back one output per call.
    assert turns and all(t["body"].get("model") == "stand-in-model" for t in turns)
    assert [r["command"] for r in results] == [destructive, harmless], results
    refused, ps = results
    # The model reads why: Codex's block message carries the refusal block with the rule.
    assert "blocked by PreToolUse hook" in refused["text"], refused
    assert "refused" in refused["text"] and "docker.container.rm" in refused["text"], refused["text"]
    events = wingman_home.events()
    judged = [e for e in events if e.get("layer") == "assistant" and e.get("command") == destructive]
    assert judged and judged[0]["verdict"] in ("ask", "deny") and judged[0]["rule"].startswith("docker.container.rm"), judged
    assert shell_events_naming(events, destructive) == [], f"a shell ran {destructive!r}"
    assert container_state(target) == "running"
    assert docker("inspect", "--format", "{{.Id}} {{.State.StartedAt}}", target).stdout == before_container
    # docker ps ran, through the session, and its output reached the model.
    assert "blocked" not in ps["text"] and target in ps["text"], ps
    assert [e for e in events if e.get("layer") == "assistant" and e.get("command") == harmless]
    # The user's config: byte for byte as it was.
    assert config.read_bytes() == config_before
