"""The git pack: history rewrites and discarded work (push --force, reset --hard, clean -f...)."""

from __future__ import annotations

from typing import Sequence

from ..context import Context
from .base import Hit, Pack, read_rule, risky_rule, work_rule

# Global options that take the next word as their value (git --help).
_GLOBAL_VALUE = frozenset({"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--config-env", "--super-prefix",
                           "--exec-path", "--list-cmds", "--attr-source"})
_READS = frozenset({
    "status", "log", "diff", "show", "blame", "annotate", "grep", "shortlog", "describe", "ls-files", "ls-tree",
    "ls-remote", "rev-parse", "rev-list", "cat-file", "show-ref", "for-each-ref", "whatchanged", "reflog",
    "name-rev", "merge-base", "version", "help", "var", "count-objects", "fsck", "cherry", "range-diff",
    "check-ignore", "check-attr", "verify-commit", "verify-tag", "instaweb", "bugreport", "diff-tree", "diff-files",
    "diff-index",
})

RULES = {
    "git.read": read_rule("git.read", "git status, log, diff, show and other reads"),
    "git.work": work_rule("git.work", "git commit, add, fetch, pull, push, switch and other everyday work"),
    "git.push.force": risky_rule(
        "git.push.force", "force-pushes, replacing commits on the remote that others may have built on",
        "push a new branch, or git push --force-with-lease after the user agrees"),
    "git.push.delete": risky_rule(
        "git.push.delete", "deletes branches or tags on the remote (--delete, :ref, --mirror, --prune)",
        "leave remote branches to the user"),
    "git.reset.hard": risky_rule(
        "git.reset.hard", "discards every uncommitted change in the work tree and index",
        "git stash, or git reset --soft / --mixed which keep the changes"),
    "git.clean.force": risky_rule(
        "git.clean.force", "deletes untracked files for good (they were never committed, so git cannot bring them back)",
        "git clean -n to list what would go"),
    "git.checkout.discard": risky_rule(
        "git.checkout.discard", "overwrites uncommitted changes in the work tree with the committed version",
        "git stash, or git diff to see what would be lost"),
    "git.restore.worktree": risky_rule(
        "git.restore.worktree", "overwrites uncommitted changes in the work tree with the committed version",
        "git restore --staged only unstages; git stash keeps the changes"),
    "git.branch.force_delete": risky_rule(
        "git.branch.force_delete", "deletes a branch even when its commits are merged nowhere (-D)",
        "git branch -d, which refuses to drop unmerged work"),
    "git.stash.drop": risky_rule(
        "git.stash.drop", "drops stashed changes (drop, clear), which nothing else keeps",
        "git stash list / git stash show to look first"),
    "git.history.rewrite": risky_rule(
        "git.history.rewrite", "rewrites the whole history of the repository (filter-branch, filter-repo)",
        "work on a fresh clone, and let the user run it"),
    "git.worktree.force_remove": risky_rule(
        "git.worktree.force_remove", "removes a worktree even with uncommitted or untracked changes in it (--force)",
        "git worktree remove without --force, which refuses to drop changes"),
    "git.history.prune": risky_rule(
        "git.history.prune", "expires the reflog or prunes unreachable objects now, removing the way back to lost commits",
        "git gc without --prune=now"),
}


def _split(argv: Sequence[str]) -> tuple[str | None, list[str]]:
    i = 1
    while i < len(argv):
        word = argv[i]
        if not word.startswith("-"):
            return word, list(argv[i + 1:])
        if word in _GLOBAL_VALUE:
            i += 1
        i += 1
    return None, []


def _has_short(args: list[str], letter: str) -> bool:
    return any(a.startswith("-") and not a.startswith("--") and letter in a[1:] for a in args if a != "-")


def _has(args: list[str], *names: str) -> bool:
    return any(a in names or a.split("=", 1)[0] in names for a in args)


def _before_dashdash(args: list[str]) -> list[str]:
    return args[:args.index("--")] if "--" in args else args


# Options of checkout and switch that take a value, attached (-bname) or as the next word.
_CHECKOUT_SHORT_VALUE = frozenset("bB")
_SWITCH_SHORT_VALUE = frozenset("cC")
_CHECKOUT_LONG_VALUE = frozenset({"--orphan", "--conflict", "--pathspec-from-file", "--inter-hunk-context", "--unified"})
# A single checkout operand that is surely a path, not a branch: `.`, a glob, ./x, ../x, pathspec magic.
_PATH_LIKE = ("./", "../", ":/", ":(", "*")
# File name endings no branch name is likely to have.
_FILE_ENDINGS = (".py", ".js", ".ts", ".tsx", ".jsx", ".go", ".rs", ".java", ".c", ".h", ".cpp", ".rb", ".php",
                 ".md", ".txt", ".json", ".yaml", ".yml", ".toml", ".cfg", ".ini", ".lock", ".html", ".css", ".sh",
                 ".sql", ".xml", ".env")


def _parse_options(args: list[str], short_value: frozenset[str], long_value: frozenset[str]):
    """(short flags, long options, operands before --, operands after --) of a porcelain command."""
    shorts: set[str] = set()
    longs: set[str] = set()
    operands: list[str] = []
    i = 0
    while i < len(args):
        word = args[i]
        if word == "--":
            return shorts, longs, operands, args[i + 1:]
        if word.startswith("--"):
            name, eq, _value = word.partition("=")
            longs.add(name)
            if not eq and name in long_value:
                i += 1
        elif word.startswith("-") and word != "-":
            for k in range(1, len(word)):
                shorts.add(word[k])
                if word[k] in short_value:
                    if k == len(word) - 1:
                        i += 1  # the value is the next word
                    break  # the rest of the word is the value
        else:
            operands.append(word)
        i += 1
    return shorts, longs, operands, []


def _looks_like_path(word: str) -> bool:
    return word == "." or word.startswith(_PATH_LIKE) or "*" in word or word.lower().endswith(_FILE_ENDINGS)


def _checkout(args: list[str]) -> list[Hit]:
    shorts, longs, operands, paths = _parse_options(args, _CHECKOUT_SHORT_VALUE, _CHECKOUT_LONG_VALUE)
    creates = bool(shorts & {"b", "B"}) or "--orphan" in longs
    if paths or "--pathspec-from-file" in longs:
        return [Hit("git.checkout.discard", " ".join(paths) or "--pathspec-from-file")]
    if "f" in shorts or longs & {"--force", "--theirs", "--ours", "--patch"} or "p" in shorts:
        return [Hit("git.checkout.discard", " ".join(operands) or None)]
    if not creates and len(operands) >= 2:
        # git checkout <tree-ish> <paths>: the paths are overwritten from the tree-ish.
        return [Hit("git.checkout.discard", " ".join(operands[1:]))]
    if not creates and operands and _looks_like_path(operands[0]):
        return [Hit("git.checkout.discard", operands[0])]
    return [Hit("git.work")]


def _switch(args: list[str]) -> list[Hit]:
    shorts, longs, operands, _ = _parse_options(args, _SWITCH_SHORT_VALUE, frozenset({"--orphan", "--conflict"}))
    if "f" in shorts or longs & {"--force", "--discard-changes"}:
        return [Hit("git.checkout.discard", " ".join(operands) or None)]
    return [Hit("git.work")]


def _asks_for_help(opts: list[str]) -> bool:
    return "--help" in opts or "-h" in opts


def classify(argv: Sequence[str], ctx: Context) -> list[Hit]:
    sub, args = _split(argv)
    if sub is None:
        return [Hit("git.read")]
    opts = _before_dashdash(args)
    if _asks_for_help(opts):
        return [Hit("git.read", "prints help")]
    if sub == "push":
        refs = [a for a in opts if not a.startswith("-")]
        if _has(opts, "--force", "--force-with-lease", "--force-if-includes") or _has_short(opts, "f") or any(r.startswith("+") for r in refs[1:]):
            return [Hit("git.push.force", " ".join(refs) or None)]
        if _has(opts, "--delete", "--mirror", "--prune") or _has_short(opts, "d") or any(r.startswith(":") for r in refs[1:]):
            return [Hit("git.push.delete", " ".join(refs) or None)]
        return [Hit("git.work")]
    if sub == "reset" and _has(opts, "--hard", "--merge", "--keep"):
        return [Hit("git.reset.hard")]
    if sub == "clean":
        dry = _has(opts, "--dry-run") or _has_short(opts, "n")
        if not dry and (_has(opts, "--force") or _has_short(opts, "f")):
            return [Hit("git.clean.force")]
        return [Hit("git.read" if dry else "git.work")]
    if sub == "checkout":
        return _checkout(args)
    if sub == "switch":
        return _switch(args)
    if sub == "worktree" and args[:1] == ["remove"] and (_has(opts, "--force") or _has_short(opts[1:], "f")):
        return [Hit("git.worktree.force_remove", " ".join(a for a in opts[1:] if not a.startswith("-")) or None)]
    if sub == "restore":
        staged_only = _has(opts, "--staged") or _has_short(opts, "S")
        worktree = _has(opts, "--worktree") or _has_short(opts, "W")
        if worktree or not staged_only:
            paths = [a for a in args if not a.startswith("-")]
            return [Hit("git.restore.worktree", " ".join(paths) or None)]
        return [Hit("git.work")]
    if sub == "branch":
        forced = _has(opts, "--force") or _has_short(opts, "f")
        deleting = _has(opts, "--delete") or _has_short(opts, "d")
        if _has_short(opts, "D") or (deleting and forced):
            names = [a for a in opts if not a.startswith("-")]
            return [Hit("git.branch.force_delete", " ".join(names) or None)]
        return [Hit("git.work" if deleting or forced or any(not a.startswith("-") for a in opts) else "git.read")]
    if sub == "stash" and args[:1] and args[0] in ("drop", "clear"):
        return [Hit("git.stash.drop")]
    if sub in ("filter-branch", "filter-repo"):
        return [Hit("git.history.rewrite")]
    if sub == "reflog" and args[:1] and args[0] in ("expire", "delete"):
        return [Hit("git.history.prune")]
    if sub in ("gc", "prune") and any(a in ("--prune=now", "--expire=now") or a == "--prune=all" for a in args):
        return [Hit("git.history.prune")]
    if sub == "stash" and (not args or args[0] in ("list", "show")):
        return [Hit("git.read" if args else "git.work")]
    return [Hit("git.read" if sub in _READS else "git.work")]


PACK = Pack(
    name="git",
    description="git: force pushes, hard resets, clean -f, discarded work-tree changes, worktree remove --force, branch -D, stash drop, history rewrites",
    commands=frozenset({"git"}),
    rules=RULES,
    classify=classify,
)
