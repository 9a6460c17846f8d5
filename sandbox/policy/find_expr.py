r"""What a find expression selects, as far as a deletion guard cares.

`find . -delete` and `find . -exec rm -rf {} \;` reach every path under the root,
the root and .git included; `find . -name '*.pyc' -delete` only what the name test
lets through. Pure: argv in, answer out.
"""

from __future__ import annotations

import fnmatch
from typing import Sequence

# Tests that narrow the selection by name or path.
_NAME_TESTS = frozenset({"-name", "-iname", "-path", "-ipath", "-wholename", "-iwholename", "-regex", "-iregex",
                         "-lname", "-ilname"})
_NEGATIONS = frozenset({"!", "-not"})
_OR = frozenset({"-o", "-or", ","})
_ACTIONS = frozenset({"-delete", "-exec", "-execdir", "-ok", "-okdir"})

EVERYTHING = "everything"  # no name test: the root itself and all under it
GIT = "git"  # a name test that lets .git through
FILTERED = "filtered"


def selection(argv: Sequence[str]) -> str:
    """EVERYTHING, GIT or FILTERED: what the tests before the first action let through."""
    narrowed = pruned = False
    i = 1
    while i < len(argv):
        word = argv[i]
        if word in _ACTIONS:
            break
        if word in _OR:
            return _or_rest(argv, i) if narrowed or pruned else EVERYTHING
        if word in _NAME_TESTS and i + 1 < len(argv):
            pattern = argv[i + 1]
            negated = i > 1 and argv[i - 1] in _NEGATIONS
            if i + 2 < len(argv) and argv[i + 2] == "-prune":
                pruned = True
                i += 3  # `-path ./.git -prune -o ...` leaves .git out
                continue
            if not negated and _matches_git(word, pattern):
                return GIT
            if not negated and pattern.strip("*/.") != "":
                narrowed = True
            i += 2
            continue
        i += 1
    return FILTERED if narrowed else EVERYTHING


def _or_rest(argv: Sequence[str], at: int) -> str:
    # `-name '*.pyc' -o -delete`: an alternative without a name test lets everything through.
    rest = ["find"] + list(argv[at + 1:])
    return selection(rest)


def _matches_git(test: str, pattern: str) -> bool:
    if test in ("-regex", "-iregex"):
        return ".git" in pattern and "gitignore" not in pattern and "github" not in pattern
    name = pattern.rstrip("/").rsplit("/", 1)[-1]
    return name in (".git", ".git*", ".gi*", ".g*") or (test in ("-path", "-ipath", "-wholename", "-iwholename")
                                                         and fnmatch.fnmatchcase("./.git/x", pattern))
