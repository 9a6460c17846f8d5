"""The stub's bash fast path may only ever allow what the policy core allows, with the same rule."""

from __future__ import annotations

import datetime
import itertools
import json
import random
import subprocess
import sys
import zlib

import pytest

from sandbox.policy import Context, Policy, Verdict, decide_argv
from sandbox.policy.packs.docker_grammar import COMPOSE_COMMANDS, GROUPS, SHORTCUTS, SINGLES
from sandbox.policy.profile import policy_from
from sandbox.stub.generate import classify_function, compose_function

WORDS = sorted({*SHORTCUTS, *SINGLES, *GROUPS, *COMPOSE_COMMANDS, "list", "remove", "ls", "rm", "prune", "-v", "--volumes",
                "-V", "--renew-anon-volumes", "-d", "-f", "x.yml", "-p", "proj", "--rmi", "all", "-H", "tcp://h:1",
                "--context", "prod", "-c", "--log-level", "error", "-l", "-D", "--config", "/tmp/c", "--help",
                "--", "-fv", "-tV", "-dV", "--format", "{{.Names}}", "victim", "-lerror", "--host=tcp://x", "--tls"})


def fast_path_verdicts(program: str, policy: Policy, argvs: list[list[str]], tmp_path=None) -> list[str | None]:
    """Run the generated __wr_classify over each argv in one bash; None where it defers.

    With tmp_path, compose's part is read from its own file, as the session's docker stub does.
    """
    compose_file = None
    if tmp_path is not None and program == "docker":
        compose_file = tmp_path / "compose-classifier.bash"
        compose_file.write_text(compose_function(policy) + "\n")
    script = classify_function(program, policy, str(compose_file) if compose_file else None) + r'''
while IFS= read -r -d '' line; do
  eval "set -- $line"
  __wr_rule=
  if __wr_classify "$@"; then printf '%s\n' "$__wr_rule"; else printf 'DEFER\n'; fi
done
'''
    payload = "".join(" ".join(_quote(a) for a in argv) + "\0" for argv in argvs)
    out = subprocess.run(["bash", "-c", script], input=payload, capture_output=True, text=True, check=True).stdout
    return [None if line == "DEFER" else line for line in out.splitlines()]


def _quote(word: str) -> str:
    return "'" + word.replace("'", "'\\''") + "'"


def _argvs(seed: int, count: int) -> list[list[str]]:
    rng = random.Random(seed)
    out = [[w] for w in WORDS]
    out += [list(pair) for pair in itertools.product(sorted(GROUPS), ["ls", "list", "rm", "remove", "prune", "stop", "inspect"])]
    for _ in range(count):
        out.append([rng.choice(WORDS) for _ in range(rng.randint(1, 6))])
    return out


PROFILES = {
    "default": policy_from({"level": "default"}),
    "strict": policy_from({"level": "strict"}),
    "tuned": policy_from({"rules": {"docker.compose.down": "allow", "docker.container.stop": "allow", "docker.container.ls": "deny"}}),
}


@pytest.mark.parametrize("profile", sorted(PROFILES))
@pytest.mark.parametrize("program", ["docker", "docker-compose"])
@pytest.mark.parametrize("compose_apart", [False, True], ids=["inline", "compose-file"])
def test_fast_path_never_allows_more_than_the_core(profile, program, compose_apart, tmp_path):
    policy = PROFILES[profile]
    argvs = _argvs(seed=zlib.crc32(f"{profile}/{program}".encode()), count=3000)
    fast = fast_path_verdicts(program, policy, argvs, tmp_path if compose_apart else None)
    assert len(fast) == len(argvs)
    ctx = Context()
    allowed_fast = 0
    for argv, rule in zip(argvs, fast):
        if rule is None:
            continue
        allowed_fast += 1
        decision = decide_argv([program, *argv], policy, ctx)
        assert decision.verdict is Verdict.ALLOW, (argv, rule, decision)
        assert decision.rule == rule, (argv, rule, decision.rule)
    assert allowed_fast > 50  # the fast path does take the everyday commands


def test_fast_path_takes_everyday_commands(tmp_path):
    policy = PROFILES["default"]
    everyday = [["ps"], ["ps", "-a"], ["logs", "firm-app"], ["--log-level", "error", "ps"], ["images"],
                ["container", "ls"], ["compose", "-f", "x.yml", "ps"], ["compose", "up", "-d"], ["run", "--rm", "x"],
                ["inspect", "--format", "{{.State.Status}}", "victim"], ["volume", "ls"], ["version"]]
    assert None not in fast_path_verdicts("docker", policy, everyday, tmp_path)
    risky = [["stop", "victim"], ["compose", "up", "-V"], ["compose", "up", "-dV"], ["-H", "tcp://x", "ps"],
             ["--context", "prod", "ps"], ["compose", "down"], ["system", "prune"], ["frobnicate"]]
    assert fast_path_verdicts("docker", policy, risky, tmp_path) == [None] * len(risky)


def _stub_text(tmp_path) -> str:
    from sandbox.session.record import Session
    from sandbox.stub.generate import render_stub

    session = Session(id="s", dir=str(tmp_path), created=0, cwd="/", project_dir="/", assistant="a", host="h",
                      profile_name="default", profile_sources=[], profile={}, audit_log=str(tmp_path / "a.jsonl"),
                      python=sys.executable, real={"docker": "/bin/true"}, docker_env={})
    return render_stub(session, "docker", PROFILES["default"], "/bin/bash")


def _function(text: str, name: str) -> str:
    start = text.index(f"{name}() {{")
    return text[start:text.index("\n}\n", start) + 3]


def test_stub_writes_utc_times_without_zone_files(tmp_path):
    stamps = [0, 951782400, 951868800, 1709164800, 1735689599, 1764477875, 4102444799]
    stamps += random.Random(7).sample(range(0, 4102444800), 200)
    script = _function(_stub_text(tmp_path), "__wr_utc") + 'for s; do __wr_utc "$s"; echo "$REPLY"; done'
    out = subprocess.run(["bash", "-c", script, "_", *map(str, stamps)], capture_output=True, text=True,
                         env={"TZ": "America/New_York"}, check=True).stdout.split()
    expected = [datetime.datetime.fromtimestamp(s, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") for s in stamps]
    assert out == expected


def test_stub_escapes_json_or_defers(tmp_path):
    script = _function(_stub_text(tmp_path), "__wr_escape") + r'''
for a; do if __wr_escape "$a"; then printf '"%s"\n' "$REPLY"; else echo DEFER; fi; done'''
    words = ['plain', 'a "quoted" \\ word', "tab\there", "two\nlines", "cr\r", "{{.Names}}", "x[y]*$HOME",
             "\x01ctl", "h\u00e9llo", "del\x7f"]
    out = subprocess.run(["bash", "-c", script, "_", *words], capture_output=True, text=True, check=True).stdout
    got = out.splitlines()
    for word, line in zip(words, got):
        if line == "DEFER":
            assert any(ord(c) < 32 and c not in "\t\n\r" or ord(c) >= 127 for c in word), word
        else:
            assert json.loads(line) == word
    assert got[:7] == [json.dumps(w) for w in words[:7]]
