"""What the hooks look for in shell text, as data: regexes, words and globs, generated from the rule packs.

The shells match these before anything else (baked into the hook files); the
broker uses the same regexes for text too long for the shells' regex engines.
"""

from __future__ import annotations

import re

from ..policy.packs import BY_COMMAND
from ..session.record import GUARDED_PROGRAMS

# Text that disables or sidesteps the hooks, or carries a nested shell past them
# (extended regular expressions, matched once against a whole -c string or script).
TAMPER_PATTERNS = (
    r"BASH_ENV", r"ZDOTDIR", r"extdebug", r"functrace", r"set[[:space:]]+\+[oT]", r"trap.*DEBUG", r"TRAPDEBUG",
    r"__wingman", r"__WINGMAN", r"env[[:space:]]+-[iu]", r"--ignore-environment", r"--unset", r"--norc",
    r"--noprofile", r"--posix", r"--rcfile", r"--init-file", r"zsh[[:space:]]+-[a-z]*[fd]", r"[Nn][Oo]_?[Rr][Cc][Ss]",
    r"unsetopt", r"unfunction", r"enable[[:space:]]+-n", r"BASH_FUNC", r"(export|declare|typeset)[[:space:]]+-[a-z]*f",
)
# The same, as single words: one of them in a command sends it to the policy core.
TAMPER_WORDS = (
    "BASH_ENV", "ZDOTDIR", "extdebug", "functrace", "+T", "DEBUG", "TRAPDEBUG", "unsetopt", "unfunction",
    "--ignore-environment", "--unset", "--norc", "--noprofile", "--posix", "--rcfile", "--init-file", "NO_RCS",
    "no_rcs", "norcs", "NORCS", "enable",
)
# Fragments that text must hold for TAMPER_PATTERNS to match it (a superset, as globs):
# text that holds none of them, and no guarded name and no eval, source or `. `, is
# passed without compiling any regex. tests/test_hooks_prefilter.py keeps them in step.
TAMPER_FRAGMENTS = (
    "BASH_ENV", "ZDOTDIR", "extdebug", "functrace", "+[oT]", "DEBUG", "__[Ww][Ii][Nn][Gg][Mm][Aa][Nn]", "env",
    "--ignore-environment", "--unset", "--norc", "--noprofile", "--posix", "--rcfile", "--init-file", "zsh",
    "[Nn][Oo][Rr][Cc][Ss]", "[Nn][Oo]_[Rr][Cc][Ss]", "unsetopt", "unfunction", "enable", "BASH_FUNC", "export",
    "declare", "typeset",
)
# The same for WATCH_PATTERN, on text as the hooks see it (every line after a newline and a blank).
WATCH_FRAGMENTS = ("eval", "source", "[;&|({[:blank:]].[[:blank:]]")
# A word edge. "#" is not one: "#docker" is a comment, not a command.
_EDGE = "[^A-Za-z0-9_.#-]"
# What may come before a match on its line: nothing, or text that does not start a comment.
# The hooks put a newline and a blank before every line of the text they match.
_CODE_LINE = "\n[[:blank:]]*([^#[:blank:]\n][^\n]*)?"
# Words after which the shell runs text nobody can read before it starts.
WATCH_PATTERN = _CODE_LINE + f"({_EDGE}(eval|source)($|{_EDGE})|[;&|({{[:blank:]]\\.[[:blank:]])"


def guarded_programs() -> list[str]:
    """Every program a rule pack judges, plus the ones the session stubs."""
    return sorted(set(BY_COMMAND) | set(GUARDED_PROGRAMS))


def _ere_escape(word: str) -> str:
    return "".join("\\" + c if c in ".[]()*+?{}|^$\\" else c for c in word)


def judge_pattern() -> str:
    """Text worth a policy decision: it names a guarded program (as a word) or touches the hooks."""
    names = "|".join(_ere_escape(name) for name in guarded_programs())
    return _CODE_LINE + f"({_EDGE}({names})($|{_EDGE})|" + "|".join(TAMPER_PATTERNS) + ")"


_POSIX_CLASSES = {"[[:space:]]": r"\s", "[[:blank:]]": "[ \t]", "[:blank:]": " \t"}


def python_pattern(ere: str) -> str:
    """One of the hooks' extended regular expressions, for Python's re (which lacks POSIX classes)."""
    for posix, python in _POSIX_CLASSES.items():
        ere = ere.replace(posix, python)
    return ere


def hook_view(text: str) -> str:
    """The text as the hooks match it: quotes and backslashes dropped, every line after a newline and a blank."""
    plain = re.sub(r"[\\\"']", "", text)
    return "\n " + plain.replace("\n", "\n ")


def armed_words() -> str:
    return " ".join([*guarded_programs(), *TAMPER_WORDS])


# The hook's own names, in any case: a command that names them is always looked at.
_OWN_NAMES = "__[Ww][Ii][Nn][Gg][Mm][Aa][Nn]"


def _glob_escape(word: str, special: str) -> str:
    return "".join("\\" + c if c in special else c for c in word)


def words_pattern() -> str:
    """A zsh glob (for $~) matching any text that holds an armed word (or the hook's names) anywhere.

    A cheap superset: the trap looks closer (word by word) only at what it matches. The bash hook
    builds a regex of the few words a plan arms itself, and looks words up when all are armed.
    """
    words = "|".join(_glob_escape(w, "*?[]()|<>^#~\\") for w in armed_words().split())
    return f"*({_OWN_NAMES}|{words})*"


def prefilter(shell: str) -> str:
    """One glob that matches all text either first-look regex could match (and more).

    Guarded names, eval and source count as whole words (as the regexes have them:
    "firm-app" does not name rm); the tamper and dot-source fragments anywhere.
    bash: an extended pattern for [[ == ]]; zsh: a pattern for $~.
    """
    names = [_glob_escape(name, "*?[]()|@!+\\ ") for name in guarded_programs()] + ["eval", "source"]
    fragments = [*TAMPER_FRAGMENTS, *WATCH_FRAGMENTS]
    if shell == "bash":
        edge = "[!A-Za-z0-9_.#-]"
        escaped = [f.replace(";", "\\;").replace("&", "\\&").replace("|", "\\|").replace("(", "\\(")
                   .replace("{", "\\{") for f in fragments]
        word = f"{edge}@({'|'.join(names)})@({edge}*|)"
        return "*@(" + "|".join([word, *(f + "*" for f in escaped)]) + ")"
    edge = "[^A-Za-z0-9_.#-]"
    word = f"{edge}({'|'.join(names)})({edge}*|)"
    escaped = [f.replace("(", "\\(").replace("|", "\\|") + "*" for f in fragments]
    return "*(" + "|".join([word, *escaped]) + ")"


class FirstLook:
    """What the shells' two first-look regexes say of a text, in one linear pass.

    The regexes backtrack over every line (a 150 KB script took Python 0.2 s);
    this reads the text's words once and runs the tamper regexes only on lines
    that hold one of their fragments. tests/test_hooks_prefilter.py checks it
    agrees with the regexes.
    """

    _DOT_SOURCE = re.compile(r"(?:^|[;&|({ \t])\.[ \t]", re.M)
    _EDGE = "A-Za-z0-9_.#-"
    # `. FILE` as a command: at the start of a line or after a separator (`test -d . ` is no source).
    _DOT_COMMAND = re.compile(r"(?:^|[;&|({])[ \t]*\.[ \t]", re.M)

    def __init__(self):
        self.names = tuple(guarded_programs())
        self.tamper = re.compile("|".join(python_pattern(p) for p in TAMPER_PATTERNS))
        self.fragments = re.compile("|".join(_fragment_regex(f) for f in TAMPER_FRAGMENTS))
        self._as_word: dict[str, re.Pattern] = {}

    def __call__(self, text: str) -> tuple[bool, bool]:
        """(watched: it runs text nobody can read up front, judged: it names a guarded program or touches the hooks)."""
        plain = text.replace("\\", "").replace('"', "").replace("'", "")
        watched = (self._word_on_a_code_line(plain, "eval") or self._word_on_a_code_line(plain, "source")
                   or any(_on_a_code_line(plain, m.start()) for m in self._DOT_SOURCE.finditer(plain)))
        # str.find first: most text holds none of the names, and that answer costs no regex.
        judged = any(name in plain and self._word_on_a_code_line(plain, name) for name in self.names)
        if not judged and self.fragments.search(plain):
            judged = any(self.tamper.search(line) for line in plain.split("\n")
                         if self.fragments.search(line) and not line.lstrip(" \t").startswith("#"))
        return watched, judged

    def sources(self, text: str) -> bool:
        """Whether the text runs a file's commands (source FILE, . FILE), which nobody reads up front."""
        plain = text.replace("\\", "").replace('"', "").replace("'", "")
        return self._word_on_a_code_line(plain, "source") or any(
            _on_a_code_line(plain, m.end() - 2) for m in self._DOT_COMMAND.finditer(plain))

    def _word_on_a_code_line(self, plain: str, word: str) -> bool:
        if word not in plain:
            return False
        pattern = self._as_word.get(word)
        if pattern is None:
            edge = self._EDGE
            pattern = self._as_word[word] = re.compile(f"(?<![{edge}]){re.escape(word)}(?![{edge}])")
        return any(_on_a_code_line(plain, m.start()) for m in pattern.finditer(plain))


def _on_a_code_line(text: str, position: int) -> bool:
    """Whether the line holding position is not a comment line."""
    start = text.rfind("\n", 0, position) + 1
    return not text[start:position + 1].lstrip(" \t").startswith("#")


def _fragment_regex(fragment: str) -> str:
    """A TAMPER_FRAGMENTS glob (literal text and [..] classes) as a regex."""
    out, i = [], 0
    while i < len(fragment):
        if fragment[i] == "[":
            end = fragment.index("]", i + 1)
            out.append(fragment[i:end + 1])
            i = end + 1
        else:
            out.append(re.escape(fragment[i]))
            i += 1
    return "".join(out)
