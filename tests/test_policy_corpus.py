"""The corpus: every case in tests/corpus/*.yaml, judged under the default profile."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from sandbox.policy import Context, Policy, decide_text

CORPUS = Path(__file__).parent / "corpus"
CONTEXT = Context(cwd="/work/project", project_dir="/work/project", home="/home/dev", docker_host=None, docker_context=None)
FILES = ("true_positives.yaml", "false_positive_traps.yaml", "bypass_attempts.yaml")


def _cases():
    for name in FILES:
        for index, case in enumerate(yaml.safe_load((CORPUS / name).read_text()), 1):
            label = case["command"].replace("\n", "⏎")
            label = label if len(label) <= 60 else label[:57] + "..."
            yield pytest.param(case, id=f"{name.split('.')[0]}:{index}:{label}")


CASES = list(_cases())


def test_corpus_is_large_enough():
    assert len(CASES) >= 300


def test_corpus_holds_every_public_vector():
    # The public vectors, copied into the repository as data.
    vectors_file = Path(__file__).parent / "data" / "vectors.yaml"
    commands = {case.values[0]["command"] for case in CASES}
    missing = [v["command"] for v in yaml.safe_load(vectors_file.read_text()) if v["command"] not in commands]
    assert not missing


@pytest.mark.parametrize("case", CASES)
def test_case(case):
    decision = decide_text(case["command"], Policy(), CONTEXT)
    assert decision.verdict.value == case["expect"], decision.to_json()
    if "rule" in case:
        assert decision.rule == case["rule"], decision.to_json()
