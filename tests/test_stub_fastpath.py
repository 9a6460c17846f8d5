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


