"""The hooks' first glob never lets through text that their regexes would have looked at.

The shells skip the regexes (and every later cost) for text the prefilter glob
does not match; the glob must therefore match everything either regex matches.
"""

from __future__ import annotations

import re
import subprocess

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox.hooks.patterns import (
    TAMPER_WORDS, WATCH_PATTERN, FirstLook, guarded_programs, hook_view, judge_pattern, prefilter, python_pattern,
)

JUDGE = re.compile(python_pattern(judge_pattern()))
WATCH = re.compile(python_pattern(WATCH_PATTERN))
PIECES = [*guarded_programs(), *TAMPER_WORDS, "eval", "source", ".", "set +o", "set +T", "trap - DEBUG", "env -i",
          "env -u X", "zsh -f", "zsh -df", "NO_RCS", "norcs", "enable -n", "BASH_FUNC_x%%", "export -f", "typeset -f",
          "declare -fx", "__wingman_check", "__WINGMAN_ARMED", "--norc", "--posix", "echo", "ls", "x=1", "'", '"', "\\",
          "#", "\n", " ", "\t", ";", "&", "|", "(", ")", "{", "}", "$(", "`", "/usr/bin/", "a", "-", "_"]
TEXTS = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)

_CHECK = {
    "bash": 'p=$1; shift; for t; do if [[ $t == $p ]]; then echo 1; else echo 0; fi; done',
    "zsh": 'p=$1; shift; for t in "$@"; do if [[ $t == $~p ]]; then echo 1; else echo 0; fi; done',
}


def glob_matches(shell: str, texts: list[str]) -> list[bool]:
    out = subprocess.run([shell, "-c", _CHECK[shell], shell, prefilter(shell), *texts], capture_output=True,
                         text=True, check=True, env={"PATH": "/usr/bin:/bin"}).stdout.split()
    return [flag == "1" for flag in out]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(TEXTS, min_size=20, max_size=20))
def test_the_prefilter_matches_whatever_the_regexes_match(texts):
    views = [hook_view(t) for t in texts]
    looked_at = [bool(JUDGE.search(v) or WATCH.search(v)) for v in views]
    for shell in ("bash", "zsh"):
        matched = glob_matches(shell, views)
        missed = [t for t, regex, glob in zip(texts, looked_at, matched) if regex and not glob]
        assert not missed, (shell, missed)


def test_everyday_text_is_passed_by_the_prefilter():
    texts = [hook_view(t) for t in ("true", "echo hello world", "ls -la | head -3 > /dev/null", "cd src && make -j4",
                                    "npm test", "python3 -m pytest -q tests/")]
    for shell in ("bash", "zsh"):
        assert glob_matches(shell, texts) == [False] * len(texts), shell


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_the_brokers_linear_first_look_agrees_with_the_regexes(text):
    view = hook_view(text)
    assert FirstLook()(text) == (bool(WATCH.search(view)), bool(JUDGE.search(view)))


def test_the_first_look_is_linear_on_long_text():
    import time

    text = "".join(f"x_{i}=$(( {i} * 2 )); : \"$x_{i}\"\n" for i in range(4500))
    look = FirstLook()
    start = time.process_time()
    assert look(text) == (False, False)
    assert look(text + "docker ps\n") == (False, True)
    assert time.process_time() - start < 0.5  # the regexes took seconds of CPU on such text
