"""wingman-sandbox doctor on this machine: its table is what the README claims, and a weakened profile fails it."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from conftest import REPO, WINGMAN_SANDBOX

README = REPO / "README.md"
SECTION = "## Monitor and doctor"


def doctor(home, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([WINGMAN_SANDBOX, "doctor", *args], cwd=cwd, env=home.env, capture_output=True, text=True,
                          timeout=120)


def readme_rows() -> dict[tuple[str, str, str], tuple[str, str]]:
    """(vector, example, shell) -> (layer, status), from the doctor table in the README's monitor section."""
    text = README.read_text()
    section = text[text.index(SECTION):]
    block = re.search(r"^```\n(VECTOR .*?)^```", section, re.S | re.M).group(1)
    rows = {}
    for line in block.splitlines()[1:]:
        if not line.strip():
            break
        cells = re.split(r"\s{2,}", line.strip())
        rows[(cells[0], cells[1], cells[2])] = (cells[3], cells[4])
    return rows


def test_the_doctors_table_here_is_the_one_in_the_readme(wingman_home, engine, tmp_path):
    result = doctor(wingman_home, tmp_path, "--json")
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["ok"] and report["environment"]["isolation"] == "on"
    assert report["seconds"] < 30
    found = {(r["title"], r["example"], r["shell"]): (r["layer"], r["status"]) for r in report["rows"]}
    claimed = readme_rows()
    assert found == claimed
    assert all(status in ("closed", "works", "n/a") for _, status in found.values())
    # Its objects are gone, whatever happened.
    leftovers = subprocess.run(["/usr/bin/docker", "ps", "-aq", "--filter", "label=wingman-doctor"],
                               capture_output=True, text=True).stdout.split()
    assert not [c for c in leftovers if c in result.stdout]


def test_a_weakened_profile_fails_the_doctor_with_that_row_shown(wingman_home, engine, tmp_path):
    (tmp_path / ".wingman.yaml").write_text("rules:\n  docker.container.stop: allow\n")
    result = doctor(wingman_home, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    stop_rows = [line for line in result.stdout.splitlines()
                 if line.startswith("destructive docker command") and "docker stop -t 0 x" in line]
    assert len(stop_rows) == 2 and all("open" in row and "README: closed" in row for row in stop_rows), result.stdout
    summary = next(line for line in result.stdout.splitlines() if "not as the README says" in line)
    assert "stop/bash" in summary and "stop/zsh" in summary
    assert "Traceback" not in result.stderr
