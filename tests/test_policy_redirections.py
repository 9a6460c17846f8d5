"""A redirection may stand anywhere among a command's words; it never changes the verdict."""

from __future__ import annotations

import shlex

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.policy import Context, Policy, decide_text

CONTEXT = Context(cwd="/work/project", project_dir="/work/project", home="/home/dev")
POLICY = Policy()

COMMANDS = [
    ["rm", "-rf", "~"], ["rm", "-rf", "/"], ["rm", "-rf", "build"], ["rm", "-rf", ".git"], ["rm", "-f", "notes.txt"],
    ["git", "reset", "--hard"], ["git", "push", "--force", "origin", "main"], ["git", "status", "--short"],
    ["git", "checkout", "HEAD", "src/app.py"], ["git", "checkout", "-b", "feature"], ["git", "clean", "-fdx"],
    ["kubectl", "delete", "ns", "prod"], ["kubectl", "get", "pods", "-n", "prod"],
    ["docker", "stop", "victim"], ["docker", "ps", "-a"], ["docker", "volume", "rm", "keep-vol"],
    ["find", ".", "-delete"], ["find", ".", "-name", "*.pyc", "-delete"],
    ["aws", "ecr", "batch-delete-image", "--repository-name", "app"], ["gsutil", "rsync", "-d", "a", "gs://b"],
    ["helm", "uninstall", "web"], ["terraform", "destroy"], ["ls", "-la"],
    ["sudo", "rm", "-rf", "/"], ["timeout", "5", "docker", "kill", "victim"],
]
REDIRECTIONS = ["2>/dev/null", ">/dev/null", "&>/dev/null", ">&2", "2>&1", ">>log.txt", ">|out.txt", "3>/tmp/x",
                "2> /dev/null", "> out.txt", "1>&2"]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(argv=st.sampled_from(COMMANDS), redirection=st.sampled_from(REDIRECTIONS), data=st.data())
def test_a_redirection_anywhere_keeps_the_verdict(argv, redirection, data):
    words = [shlex.quote(w) if w != "~" else w for w in argv]
    plain = decide_text(" ".join(words), POLICY, CONTEXT)
    at = data.draw(st.integers(0, len(words)))
    text = " ".join(words[:at] + [redirection] + words[at:])
    redirected = decide_text(text, POLICY, CONTEXT)
    assert (redirected.verdict, redirected.rule) == (plain.verdict, plain.rule), (text, redirected.to_json())


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(argv=st.sampled_from(COMMANDS), redirections=st.lists(st.sampled_from(REDIRECTIONS), min_size=2, max_size=4),
       data=st.data())
def test_several_redirections_anywhere_keep_the_verdict(argv, redirections, data):
    words = [shlex.quote(w) if w != "~" else w for w in argv]
    plain = decide_text(" ".join(words), POLICY, CONTEXT)
    for redirection in redirections:
        at = data.draw(st.integers(0, len(words)))
        words = words[:at] + [redirection] + words[at:]
    text = " ".join(words)
    redirected = decide_text(text, POLICY, CONTEXT)
    assert (redirected.verdict, redirected.rule) == (plain.verdict, plain.rule), (text, redirected.to_json())
