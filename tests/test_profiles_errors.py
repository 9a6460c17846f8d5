"""A profile means one thing: duplicate keys are refused, every problem is named at once with its line,
and a misspelt key, rule id, pack, verdict or profile name gets the nearest valid one suggested."""

from __future__ import annotations

import pytest

from sandbox.policy.packs import ALL_RULES, PACKS, known_pack, known_rule
from sandbox.policy.profile import ProfileError, parse_profile_text


def parse(text: str) -> dict:
    return parse_profile_text(text, "p.yaml", known_rule=known_rule, known_pack=known_pack,
                              rule_names=ALL_RULES, pack_names=PACKS)


def problems(text: str) -> list[tuple[int | None, str]]:
    with pytest.raises(ProfileError) as caught:
        parse(text)
    assert all(source == "p.yaml" for source, _, _ in caught.value.problems)
    return [(line, message) for _, line, message in caught.value.problems]


def test_a_rule_given_twice_is_refused_naming_both_lines():
    text = "rules:\n  docker.container.stop: allow\n  docker.container.rm: ask\n  docker.container.stop: deny\n"
    (found,) = problems(text)
    assert found[0] == 4
    assert "'rules.docker.container.stop' is given twice, on line 2 and line 4" in found[1]


@pytest.mark.parametrize("text, first, second, key", [
    ("level: default\nlevel: strict\n", 1, 2, "'level'"),
    ("packs:\n  git: false\n  git: true\n", 2, 3, "'packs.git'"),
    ("approvals:\n  timeout_seconds: 5\n  poll_seconds: 1\n  timeout_seconds: 50\n", 2, 4, "'approvals.timeout_seconds'"),
    ("rules:\n  docker.*: ask\nrules:\n  git.*: ask\n", 1, 3, "'rules'"),
])
def test_any_key_given_twice_is_refused(text, first, second, key):
    (found,) = problems(text)
    assert found == (second, f"{key} is given twice, on line {first} and line {second}: "
                             "keep one, the profile must mean one thing")


def test_every_problem_in_the_file_is_reported_at_once_in_line_order():
    text = ("level: lax\n"                         # 1
            "rulez:\n"                             # 2
            "  docker.container.stop: allow\n"     # 3
            "rules:\n"                             # 4
            "  docker.container.stopp: allow\n"    # 5
            "  docker.container.rm: maybe\n"       # 6
            "packs:\n"                             # 7
            "  dockr: false\n"                     # 8
            "approvals:\n"                         # 9
            "  timeout_seconds: soon\n")           # 10
    found = problems(text)
    assert [line for line, _ in found] == [1, 2, 5, 6, 8, 10]
    messages = "\n".join(message for _, message in found)
    assert "'level' must be one of: default, strict (got 'lax')" in messages
    assert "unknown key 'rulez' (did you mean 'rules'?)" in messages
    assert "no rule is called 'docker.container.stopp' (did you mean 'docker.container.stop'?)" in messages
    assert "unknown verdict 'maybe'" in messages
    assert "no rule pack is called 'dockr' (did you mean 'docker'?)" in messages
    assert "'approvals.timeout_seconds' must be a number of seconds" in messages


def test_the_message_names_each_problem_with_file_and_line():
    with pytest.raises(ProfileError) as caught:
        parse("levle: strict\nrules:\n  git.push.forse: deny\n")
    text = str(caught.value)
    assert text.startswith("2 problems\n")
    assert "p.yaml:1: unknown key 'levle' (did you mean 'level'?)" in text
    assert "p.yaml:3: 'rules': no rule is called 'git.push.forse'" in text


def test_a_misspelt_value_gets_the_nearest_choice():
    (found,) = problems("rules:\n  docker.container.stop: alow\n")
    assert found[1].endswith("(did you mean 'allow'?)")
    (found,) = problems("level: strikt\n")
    assert found[1].endswith("(did you mean 'strict'?)")
    (found,) = problems("approvals:\n  backend: wingmen\n")
    assert found[1].endswith("(did you mean 'wingman'?)")


def test_nothing_near_suggests_nothing():
    (found,) = problems("zzzzzz: 1\n")
    assert "did you mean" not in found[1] and "unknown key 'zzzzzz'" in found[1]


def test_a_single_problem_reads_as_before():
    with pytest.raises(ProfileError) as caught:
        parse("packs:\n  docker: sometimes\n")
    assert str(caught.value) == "p.yaml:2: 'packs.docker' must be true or false"


def test_a_valid_profile_still_loads():
    data = parse("level: strict\nrules:\n  docker.container.stop: allow\n  docker.*: ask\npacks:\n  git: false\n")
    assert data["level"] == "strict" and data["packs"] == {"git": False}
    assert set(data["rules"]) == {"docker.container.stop", "docker.*"}


def test_wingman_run_with_every_problem_starts_nothing(wingman_home, tmp_path):
    project = tmp_path / "proj"
    project.mkdir()
    profile = project / ".wingman.yaml"
    profile.write_text("rules:\n  docker.container.stop: allow\n  docker.container.stop: deny\nrulez: {}\n")
    marker = tmp_path / "ran"
    result = wingman_home.run("--", "touch", str(marker), cwd=project)
    assert result.returncode == 2
    assert not marker.exists()
    assert f"{profile}:3: 'rules.docker.container.stop' is given twice, on line 2 and line 3" in result.stderr
    assert f"{profile}:4: unknown key 'rulez' (did you mean 'rules'?)" in result.stderr
    assert "Nothing was started" in result.stderr and "Traceback" not in result.stderr


def test_a_misspelt_profile_name_gets_the_nearest_one(wingman_home, tmp_path):
    result = wingman_home.run("--profile", "strickt", "--", "touch", str(tmp_path / "ran"))
    assert result.returncode == 2 and not (tmp_path / "ran").exists()
    assert "no profile called 'strickt' (did you mean 'strict'?)" in result.stderr
