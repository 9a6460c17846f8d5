"""The filesystem pack: deletions outside the project, disk wipes, recursive permission changes.

Paths are judged where they point: relative to the session's cwd, `~` and
$HOME as the user's home. A path only known at run time ($DIR, $(...)) is
"unknown", which counts for recursive deletes only.
"""

from __future__ import annotations

import posixpath
import re
from typing import Sequence

from .. import find_expr
from ..context import Context
from ..verdict import Verdict
from .base import Hit, Pack, read_rule, risky_rule, work_rule

RULES = {
    "fs.rm.project": work_rule("fs.rm.project", "deletes files inside the project (or a temp dir)"),
    "fs.rm.root": risky_rule(
        "fs.rm.root", "deletes /, a system directory, the home directory or everything in one of them",
        "name the exact files to delete, inside the project", Verdict.DENY, Verdict.DENY),
    "fs.rm.project_root": risky_rule(
        "fs.rm.project_root", "deletes the whole project directory, or a directory that holds it",
        "delete the build outputs by name (dist/, build/, node_modules/)"),
    "fs.rm.git_dir": risky_rule(
        "fs.rm.git_dir", "deletes the repository's history (.git): every commit, branch and stash",
        "delete the build outputs by name; leave .git alone"),
    "fs.rm.remote": risky_rule(
        "fs.rm.remote", "deletes files on another machine (ssh host 'rm ...'), where the project's bounds mean nothing",
        "run it on that machine yourself, or ask the user"),
    "fs.rm.outside_project": risky_rule(
        "fs.rm.outside_project", "deletes files outside the project directory",
        "keep changes inside the project; ask the user to clean up elsewhere"),
    "fs.rm.unknown_target": risky_rule(
        "fs.rm.unknown_target", "deletes recursively a path only known when it runs ($VAR, $(...), xargs)",
        "write the path out, inside the project"),
    "fs.find": read_rule("fs.find", "find"),
    "fs.find.delete_outside_project": risky_rule(
        "fs.find.delete_outside_project", "find -delete outside the project directory",
        "find ... -print to list the files first; keep deletions inside the project"),
    "fs.dd": work_rule("fs.dd", "dd to a file"),
    "fs.dd.device": risky_rule(
        "fs.dd.device", "writes raw bytes over a disk or device (dd of=/dev/...)",
        "write to an image file instead", Verdict.DENY, Verdict.DENY),
    "fs.disk.format": risky_rule(
        "fs.disk.format", "formats, wipes or repartitions a disk (mkfs, wipefs, fdisk, diskutil erase...)",
        "leave disks to the user", Verdict.DENY, Verdict.DENY),
    "fs.disk.format_image": risky_rule(
        "fs.disk.format_image", "creates a filesystem; on anything but a scratch image it destroys data",
        "leave disks to the user"),
    "fs.shred": risky_rule(
        "fs.shred", "overwrites files so they can never be recovered", "rm inside the project, or ask the user"),
    "fs.chmod": work_rule("fs.chmod", "chmod/chown inside the project"),
    "fs.chmod.recursive_system": risky_rule(
        "fs.chmod.recursive_system", "changes owner or permissions of everything under /, a system directory or the home directory",
        "change the files that need it, by name", Verdict.DENY, Verdict.DENY),
    "fs.chmod.recursive_outside_project": risky_rule(
        "fs.chmod.recursive_outside_project", "changes owner or permissions recursively outside the project",
        "change the files that need it, by name"),
}

# Directories whose loss breaks the machine. Any top-level directory counts too.
SYSTEM_DIRS = frozenset({
    "/usr/bin", "/usr/sbin", "/usr/lib", "/usr/lib64", "/usr/local", "/usr/local/bin", "/usr/local/lib", "/usr/share",
    "/usr/include", "/var/lib", "/var/log", "/var/cache", "/var/spool", "/var/mail", "/var/db",
    "/private/etc", "/private/var", "/private/tmp", "/System/Library", "/Library/Application Support",
    "/opt/homebrew", "/usr/local/Cellar", "/etc/systemd", "/var/lib/docker",
})
TEMP_DIRS = ("/tmp", "/var/tmp", "/private/tmp", "/dev/shm", "/private/var/folders")
_GLOB = re.compile(r"[*?\[]")
_UNKNOWN = re.compile(r"\$|`")


def resolve(word: str, ctx: Context) -> tuple[str | None, bool]:
    """(absolute normalized path, whether it names a directory's contents by a glob). None: unknown."""
    for home in ("~", "$HOME", "${HOME}"):
        if word == home or word.startswith(home + "/"):
            word = ctx.home + word[len(home):]
            break
    for cwd in ("$PWD", "${PWD}"):
        if word == cwd or word.startswith(cwd + "/"):
            word = ctx.cwd + word[len(cwd):]
            break
    path = word if word.startswith("/") else posixpath.join(ctx.cwd, word)
    if _UNKNOWN.search(path) or word.startswith("~"):
        return None, False  # $X, $(...), ~user, or a cwd only known at run time
    contents = False
    if _GLOB.search(path):
        # Judge a glob by the directory it fans out from: `/*` empties /, `src/*.o` stays in src.
        parts = path.split("/")
        first = next(k for k, part in enumerate(parts) if _GLOB.search(part))
        path = "/".join(parts[:first]) or "/"
        contents = True
    path = posixpath.normpath(path)
    if path.startswith("//"):
        path = "/" + path.lstrip("/")
    return path, contents


def _inside(path: str, parent: str) -> bool:
    parent = parent.rstrip("/") or "/"
    return path == parent or path.startswith(parent + "/") or parent == "/"


def _is_system(path: str, ctx: Context) -> bool:
    home = posixpath.normpath(ctx.home)
    if path == "/" or path.count("/") == 1 or path in SYSTEM_DIRS:
        return True
    # The home directory and what holds it (/home, /Users).
    return _inside(home, path)


def _is_temp(path: str) -> bool:
    return any(path.startswith(t + "/") for t in TEMP_DIRS)


def _place(path: str | None, contents: bool, ctx: Context) -> str:
    """Where a path points: root, project_root, project, temp, outside, remote or unknown."""
    if ctx.remote_host is not None:
        # A remote command: its paths are the other machine's, and no project lives there.
        if path is not None and _is_system(path, ctx):
            return "root"
        return "remote"
    if path is None:
        return "unknown"
    project = posixpath.normpath(ctx.project_dir)
    if path == "/":
        return "root"
    if path != project and _inside(path, project):
        return "project"
    if path == project:
        return "project_root"
    if _is_system(path, ctx):
        return "root"
    if _inside(project, path):
        return "project_root"
    if _is_temp(path):
        return "temp"
    return "outside"


_RM_ORDER = ["fs.rm.project", "fs.rm.unknown_target", "fs.rm.outside_project", "fs.rm.remote", "fs.rm.git_dir",
             "fs.rm.project_root", "fs.rm.root"]


def _holds_git_dir(path: str | None, contents: bool) -> bool:
    """Whether a path is a .git directory or inside one (`.git`, `sub/.git`, `.git/objects`)."""
    return path is not None and ".git" in path.split("/")


def _rm(argv: Sequence[str], ctx: Context) -> list[Hit]:
    recursive = no_preserve = False
    targets: list[str] = []
    options_done = False
    for word in argv[1:]:
        if not options_done and word == "--":
            options_done = True
        elif not options_done and word.startswith("--"):
            recursive |= word == "--recursive"
            no_preserve |= word == "--no-preserve-root"
        elif not options_done and word.startswith("-") and word != "-":
            recursive |= "r" in word or "R" in word
        else:
            targets.append(word)
    if no_preserve:
        return [Hit("fs.rm.root", "--no-preserve-root")]
    if not targets:
        # Only xargs or find -exec ... + hand rm its operands: they are unknown here.
        return [Hit("fs.rm.unknown_target" if recursive else "fs.rm.project", "operands given at run time")]
    worst, touched = "fs.rm.project", []
    for word in targets:
        path, contents = resolve(word, ctx)
        place = _place(path, contents, ctx)
        rule = {"root": "fs.rm.root", "project_root": "fs.rm.project_root", "outside": "fs.rm.outside_project",
                "remote": "fs.rm.remote",
                "unknown": "fs.rm.unknown_target" if recursive else "fs.rm.project"}.get(place, "fs.rm.project")
        if rule in ("fs.rm.root", "fs.rm.project_root") and not recursive:
            # Without -r, rm cannot take a directory away: only the files a glob names.
            rule = "fs.rm.outside_project" if place == "root" else "fs.rm.project"
        if place == "project" and recursive and _holds_git_dir(path, contents):
            rule = "fs.rm.git_dir"  # rm .git/index.lock is fine; rm -rf .git is not
        if rule != "fs.rm.project":
            touched.append(word)
        if _RM_ORDER.index(rule) > _RM_ORDER.index(worst):
            worst = rule
    return [Hit(worst, " ".join(touched) or None)]


def _find(argv: Sequence[str], ctx: Context) -> list[Hit]:
    if "-delete" not in argv:
        return [Hit("fs.find")]
    selects = find_expr.selection(argv)
    roots = []
    for word in argv[1:]:
        if word.startswith("-") or word in ("(", "!"):
            if word in ("-H", "-L", "-P"):
                continue
            break
        roots.append(word)
    worst = "fs.find"
    project = posixpath.normpath(ctx.project_dir)
    for root in roots or ["."]:
        path, contents = resolve(root, ctx)
        place = _place(path, contents, ctx)
        if place == "root":
            return [Hit("fs.rm.root", f"find {root} -delete")]
        if place == "remote":
            return [Hit("fs.rm.remote", f"find {root} -delete on {ctx.remote_host}")]
        if place in ("outside", "unknown") or (place == "project_root" and path != project):
            worst = "fs.find.delete_outside_project"
        elif place == "project_root" and selects == find_expr.EVERYTHING:
            return [Hit("fs.rm.project_root", f"find {root} -delete reaches every file, .git included")]
        elif place in ("project", "project_root") and (selects == find_expr.GIT or _holds_git_dir(path, contents)):
            return [Hit("fs.rm.git_dir", f"find {root} -delete reaches .git")]
    return [Hit(worst, " ".join(roots) or None)]


_DEVICE = re.compile(r"^/dev/(?!null$|zero$|stdout$|stderr$|tty|fd/|random$|urandom$)")


def _dd(argv: Sequence[str], ctx: Context) -> list[Hit]:
    for word in argv[1:]:
        if word.startswith("of=") and _DEVICE.match(word[3:]):
            return [Hit("fs.dd.device", word[3:])]
    return [Hit("fs.dd")]


def _disk(argv: Sequence[str], ctx: Context) -> list[Hit]:
    name = argv[0].rsplit("/", 1)[-1]
    if name == "diskutil":
        verb = next((a for a in argv[1:] if not a.startswith("-")), "")
        if verb.lower().startswith(("erase", "zero", "secureerase", "partition", "reformat", "randomdisk")):
            return [Hit("fs.disk.format", " ".join(argv[1:]))]
        return [Hit("fs.find")]  # list, info: reads
    devices = [a for a in argv[1:] if _DEVICE.match(a)]
    if devices:
        return [Hit("fs.disk.format", " ".join(devices))]
    if name in ("fdisk", "sfdisk", "parted", "gdisk", "sgdisk") and any(a in ("-l", "--list", "print") for a in argv[1:]):
        return [Hit("fs.find")]
    return [Hit("fs.disk.format_image", " ".join(a for a in argv[1:] if not a.startswith("-")) or None)]


def _shred(argv: Sequence[str], ctx: Context) -> list[Hit]:
    devices = [a for a in argv[1:] if _DEVICE.match(a)]
    if devices:
        return [Hit("fs.disk.format", " ".join(devices))]
    return [Hit("fs.shred", " ".join(a for a in argv[1:] if not a.startswith("-")) or None)]


def _chmod(argv: Sequence[str], ctx: Context) -> list[Hit]:
    recursive = any(a == "--recursive" or (a.startswith("-") and not a.startswith("--") and "R" in a) for a in argv[1:])
    if not recursive:
        return [Hit("fs.chmod")]
    operands = [a for a in argv[1:] if not a.startswith("-")]
    worst = "fs.chmod"
    for word in operands[1:]:  # the first operand is the mode or owner
        place = _place(*resolve(word, ctx), ctx)
        if place == "root":
            return [Hit("fs.chmod.recursive_system", word)]
        if place in ("outside", "unknown", "remote"):
            worst = "fs.chmod.recursive_outside_project"
    return [Hit(worst)]


_DISK_TOOLS = frozenset({"mkfs", "mke2fs", "mkswap", "wipefs", "newfs", "diskutil", "fdisk", "sfdisk", "parted",
                         "gdisk", "sgdisk", "blkdiscard"} | {f"mkfs.{fs}" for fs in (
                             "ext2", "ext3", "ext4", "xfs", "btrfs", "vfat", "fat", "msdos", "ntfs", "exfat", "f2fs",
                             "apfs", "hfs", "hfsplus", "minix", "bfs", "cramfs")} | {f"newfs_{fs}" for fs in ("apfs", "hfs", "msdos", "exfat")})


def classify(argv: Sequence[str], ctx: Context) -> list[Hit]:
    name = argv[0].rsplit("/", 1)[-1]
    if name in ("rm", "unlink"):
        return _rm(argv, ctx)
    if name == "find":
        return _find(argv, ctx)
    if name == "dd":
        return _dd(argv, ctx)
    if name == "shred":
        return _shred(argv, ctx)
    if name in ("chmod", "chown", "chgrp"):
        return _chmod(argv, ctx)
    return _disk(argv, ctx)


PACK = Pack(
    name="filesystem",
    description="rm and find -delete outside the project or of system paths, dd to devices, mkfs, shred, recursive chmod/chown of /",
    commands=frozenset({"rm", "unlink", "find", "dd", "shred", "chmod", "chown", "chgrp"} | _DISK_TOOLS),
    rules=RULES,
    classify=classify,
)
