"""One line per benchmark figure, with its goal, and `OVER GOAL` when it misses; and the
floors printed beside some figures.

    from goals import report
    report("docker ps via stub", 1.12, 1.25, "x", "median 21.3 ms against 19.0 ms")

The figures never fail a run: machines differ. tests/run-all.sh collects the
OVER GOAL lines at the end so they are not lost among the rest.
"""

from __future__ import annotations

import shutil
from pathlib import Path

OVER = "OVER GOAL"


def missed(value: float, goal: float, lower_is_better: bool = True) -> bool:
    return value > goal if lower_is_better else value < goal


def report(label: str, value: float, goal: float, unit: str, detail: str = "", lower_is_better: bool = True) -> str:
    """Print the figure against its goal; returns the line printed."""
    bound = "<=" if lower_is_better else ">="
    line = f"{label:<28} {value:10.3f} {unit:<3} (goal {bound} {goal:g} {unit})"
    if detail:
        line += f"  {detail}"
    if missed(value, goal, lower_is_better):
        line += f"  {OVER}"
    print(line, flush=True)
    return line


def exec_only_stub(directory: Path, program: str) -> Path:
    """DIRECTORY/NAME: a stub that only starts bash and execs PROGRAM, the floor of any stub written in bash."""
    stub = directory / Path(program).name
    stub.write_text(f"#!{shutil.which('bash')} -p\nexec {program} \"$@\"\n")
    stub.chmod(0o755)
    return stub
