"""The refusal at the top of README.md is what the tool prints: its first example, run for real."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"
RAN = "# what the assistant ran"


def first_example() -> tuple[str, str]:
    """(the command the assistant ran, the block shown after it) from README's first code block."""
    block = re.search(r"^```\n(.*?)^```", README.read_text(), re.S | re.M).group(1)
    lines = block.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("$ ") and RAN in line)
    command = lines[at][2:].split(RAN)[0].strip()
    return command, "\n".join(lines[at + 1:]) + "\n"


def test_readme_refusal_is_the_tools_real_output(wingman_home, engine, tmp_path):
    command, shown = first_example()
    assert shown.startswith(f"wingman-run: refused: {command}\n")
    project = tmp_path / "project"  # no .wingman.yaml and no approval service: the default profile, as a new user has
    project.mkdir()
    result = wingman_home.run("--", "bash", "-c", command, cwd=project)
    assert result.returncode == 1
    # Nothing in this refusal varies between runs or machines, so the text must match as it is.
    assert result.stderr == shown, f"README says:\n{shown}\nthe tool printed:\n{result.stderr}"
