"""Properties of the policy core, checked on generated commands (hypothesis)."""

from __future__ import annotations

import shlex
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.policy import Context, Policy, Verdict, decide_text

CONTEXT = Context(cwd="/work/project", project_dir="/work/project", home="/home/dev")
POLICY = Policy()
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

DESTRUCTIVE = [
    ["stop", "victim"], ["kill", "victim"], ["rm", "-f", "victim"], ["container", "rm", "-fv", "victim"],
    ["container", "remove", "victim"], ["restart", "victim"], ["volume", "rm", "keep-vol"], ["network", "rm", "keep-net"],
    ["rmi", "spare"], ["image", "prune", "-a"], ["system", "prune", "-af", "--volumes"], ["container", "prune", "-f"],
    ["compose", "down", "-v"], ["volume", "prune", "-f"],
]
# Global options that keep the session's daemon (so only the subcommand decides).
GLOBALS = [["--log-level", "error"], ["--log-level=debug"], ["-D"], ["--debug"], ["--config", "/tmp/cfg"],
           ["-H", "unix:///var/run/docker.sock"], ["--context", "default"], ["--tls"], ["-l", "warn"]]
WRAPPERS = [
    "sudo {}", "sudo -u root -E {}", "doas {}", "env {}", "env -u FOO {}", "env A=1 {}", "command {}", "builtin {}",
    "exec {}", "nice -n 5 {}", "ionice -c3 {}", "nohup {}", "timeout 10 {}", "timeout -s KILL 5 {}", "time {}",
    "stdbuf -oL {}", "watch -n 2 {}", "xargs {}", "xargs -r -n1 {}", "xargs -I{{}} {}", "setsid {}",
    "sh -c {q}", "bash -c {q}", "zsh -c {q}", "dash -c {q}", "ksh -c {q}", "bash -lc {q}", "eval {q}",
    "echo {q} | sh", "bash <<< {q}", "ssh prod {q}", "find . -exec {} \\;", "parallel {} ::: a b",
    "python3 -c {py}", "node -e {js}", "(cd /tmp && {})", "echo $({})", "{{ {}; }}",
]


def quote_name(word: str, style: int) -> str:
    """The same word, quoted one of the ways a shell removes again."""
    return [
        word,
        f'"{word}"',
        f"'{word}'",
        word[0] + "\\" + word[1:],
        f"'{word[:2]}'{word[2:]}",
        f'{word[:3]}"{word[3:]}"',
        "$'" + "".join(f"\\x{ord(c):02x}" for c in word) + "'",
        "/usr/bin/" + word,
        "\\" + word,
    ][style]


@st.composite
def destructive_docker(draw):
    argv = draw(st.sampled_from(DESTRUCTIVE))
    options = draw(st.lists(st.sampled_from(GLOBALS), max_size=3))
    name = quote_name(draw(st.sampled_from(["docker", "podman"])), draw(st.integers(0, 8)))
    words = [name] + [w for opt in options for w in opt] + argv
    return " ".join(w if w == name else shlex.quote(w) for w in words)


@FAST
@given(command=destructive_docker(), wrapper=st.sampled_from(WRAPPERS + ["{}"]))
def test_destructive_docker_is_never_allowed(command, wrapper):
    text = wrapper.format(command, q=shlex.quote(command),
                          py=shlex.quote(f"import os; os.system({command!r})"),
                          js=shlex.quote(f"require('child_process').execSync({command!r})"))
    decision = decide_text(text, POLICY, CONTEXT)
    assert decision.verdict != Verdict.ALLOW, (text, decision.to_json())


NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1, max_size=20).filter(
    lambda s: s[0].isalnum())
FORMATS = st.lists(st.sampled_from(["{{.Names}}", "{{.State.Status}}", "{{json .}}", "table", "\\t", " ", "rm",
                                    "stop", "kill", "{{.ID}}", "prune", "--volumes", "-f", ";", "|", "&&", "$(x)"]),
                   min_size=1, max_size=6).map("".join)


@st.composite
def harmless_docker_read(draw):
    verb = draw(st.sampled_from(["ps", "logs", "inspect", "container ls", "container inspect", "container logs",
                                 "images", "volume ls", "network inspect"]))
    words = ["docker", *verb.split()]
    if draw(st.booleans()) and verb not in ("logs", "container logs"):
        words += ["--format", draw(FORMATS)]
    if verb in ("logs", "container logs"):
        words += draw(st.sampled_from([[], ["-f"], ["--tail", "100"], ["--since", "10m"]]))
    if verb in ("logs", "inspect", "container inspect", "container logs", "network inspect"):
        words += [draw(NAMES)]
    if verb == "ps":
        words += draw(st.sampled_from([[], ["-a"], ["-q"], ["--filter", "name=rm-worker"]]))
    return " ".join(shlex.quote(w) for w in words)


@FAST
@given(command=harmless_docker_read())
def test_harmless_docker_reads_are_allowed(command):
    decision = decide_text(command, POLICY, CONTEXT)
    assert decision.verdict == Verdict.ALLOW, (command, decision.to_json())


@FAST
@given(command=harmless_docker_read(), data=st.text(min_size=0, max_size=40).filter(lambda s: "\x00" not in s))
def test_data_after_echo_is_never_judged(command, data):
    text = f"echo {shlex.quote(command + ' ' + data)}"
    decision = decide_text(text, POLICY, CONTEXT)
    assert decision.verdict == Verdict.ALLOW, (text, decision.to_json())


@settings(max_examples=500, deadline=None)
@given(text=st.text(max_size=400) | st.text(alphabet="$(){}[]<>|&;'\"`\\ \n\tabcdox-=*?!#~", max_size=400))
def test_junk_never_raises_and_is_quick(text):
    start = time.perf_counter()
    decision = decide_text(text, POLICY, CONTEXT)
    assert decision.verdict in (Verdict.ALLOW, Verdict.ASK, Verdict.DENY)
    assert time.perf_counter() - start < 0.1


@settings(max_examples=50, deadline=None)
@given(depth=st.integers(100, 10_000), opener=st.sampled_from(["$(", "`", "<(", "(", "{ ", "\"$("]))
def test_deep_nesting_is_refused_quickly(depth, opener):
    # Substitutions nest inside a word; groups and nested shells at the start of a statement.
    prefix = "echo " if opener in ("$(", "`", "<(", "\"$(") else ""
    text = prefix + opener * depth + "docker stop victim"
    start = time.perf_counter()
    decision = decide_text(text, POLICY, CONTEXT)
    assert time.perf_counter() - start < 0.1
    assert decision.verdict != Verdict.ALLOW


@settings(max_examples=20, deadline=None)
@given(depth=st.integers(1, 12), shell=st.sampled_from(["sh", "bash", "zsh", "eval"]))
def test_nested_shells_are_judged_or_refused(depth, shell):
    text = "docker stop victim"
    for _ in range(depth):
        text = f"{shell} -c {shlex.quote(text)}" if shell != "eval" else f"eval {shlex.quote(text)}"
    decision = decide_text(text, POLICY, CONTEXT)
    assert decision.verdict != Verdict.ALLOW
    assert decision.rule == ("docker.container.stop" if depth <= 6 else "parse.unsupported")
