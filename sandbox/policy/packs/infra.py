"""The infra pack: terraform and pulumi destroy, cloud deletions and instance termination."""

from __future__ import annotations

from typing import Sequence

from ..context import Context
from .base import Hit, Pack, read_rule, risky_rule, work_rule

RULES = {
    "infra.read": read_rule("infra.read", "terraform plan, validate; cloud describe, list, get"),
    "infra.work": work_rule("infra.work", "terraform init, fmt; cloud calls that delete nothing"),
    "infra.terraform.destroy": risky_rule(
        "infra.terraform.destroy", "destroys infrastructure (terraform/tofu destroy, apply -destroy, state rm)",
        "terraform plan -destroy to see what would go"),
    "infra.terraform.apply": risky_rule(
        "infra.terraform.apply", "changes real infrastructure; a plan may replace or delete resources",
        "terraform plan, and let the user apply"),
    "infra.pulumi.destroy": risky_rule(
        "infra.pulumi.destroy", "destroys a pulumi stack's resources, or the stack", "pulumi preview --diff"),
    "infra.pulumi.up": risky_rule(
        "infra.pulumi.up", "changes real infrastructure; an update may replace or delete resources", "pulumi preview"),
    "infra.aws.s3_rm_recursive": risky_rule(
        "infra.aws.s3_rm_recursive", "deletes every object under a bucket prefix (aws s3 rm --recursive, sync --delete; gsutil rm -r, rsync -d; az ... delete-batch)",
        "list the objects first, or use --dryrun / -n"),
    "infra.aws.terminate": risky_rule(
        "infra.aws.terminate", "terminates EC2 instances and their instance-store data", "aws ec2 stop-instances, or ask the user"),
    "infra.cloud.overwrite": risky_rule(
        "infra.cloud.overwrite", "overwrites a secret, parameter, DNS record or restored database in place, with no history to go back to",
        "read the current value first, and let the user change it"),
    "infra.cloud.delete": risky_rule(
        "infra.cloud.delete", "deletes cloud resources (aws delete-*/remove-*, gcloud ... delete, az ... delete)",
        "describe or list the resource; let the user delete it"),
}

_TF_READS = frozenset({"plan", "validate", "show", "output", "fmt", "version", "graph", "providers", "console",
                       "state", "workspace", "get", "login", "logout", "metadata", "test"})


def _positional(argv: Sequence[str]) -> list[str]:
    return [a for a in argv[1:] if not a.startswith("-")]


def _terraform(argv: Sequence[str]) -> list[Hit]:
    words = _positional(argv)
    verb = words[0] if words else ""
    if verb == "destroy" or (verb in ("apply", "plan") and "-destroy" in argv and verb == "apply"):
        return [Hit("infra.terraform.destroy")]
    if verb == "state" and words[1:2] and words[1] in ("rm", "replace-provider", "push"):
        return [Hit("infra.terraform.destroy", "state " + " ".join(words[1:]))]
    if verb == "workspace" and words[1:2] == ["delete"]:
        return [Hit("infra.terraform.destroy", "workspace " + " ".join(words[1:]))]
    if verb in ("apply", "import", "taint", "untaint", "force-unlock", "refresh"):
        return [Hit("infra.terraform.apply")]
    return [Hit("infra.read" if verb in _TF_READS else "infra.work")]


def _pulumi(argv: Sequence[str]) -> list[Hit]:
    words = _positional(argv)
    verb = words[0] if words else ""
    if verb in ("destroy", "down") or (verb == "stack" and words[1:2] == ["rm"]) or (verb == "state" and words[1:2] == ["delete"]):
        return [Hit("infra.pulumi.destroy")]
    if verb in ("up", "update", "refresh", "import"):
        return [Hit("infra.pulumi.up")]
    return [Hit("infra.read")]


# Words of an operation name that destroy what they name: delete-*, batch-delete-*, bulk-delete,
# remove-*, terminate-*, deregister-*, purge-*, schedule-key-deletion...
_DESTROYING = frozenset({"delete", "deletion", "remove", "rm", "terminate", "deregister", "purge", "destroy", "drop",
                         "erase", "wipe", "discard", "rb"})
# Operations that replace a value in place without keeping the old one.
_AWS_OVERWRITES = frozenset({("secretsmanager", "put-secret-value"), ("secretsmanager", "update-secret"),
                             ("ssm", "put-parameter"), ("rds", "restore-db-instance-to-point-in-time"),
                             ("dynamodb", "restore-table-from-backup")})
_AWS_GLOBAL_VALUE = frozenset({"--profile", "--region", "--output", "--endpoint-url", "--query", "--color",
                               "--cli-read-timeout", "--cli-connect-timeout", "--ca-bundle", "--cli-binary-format"})
_READ_VERBS = ("describe", "list", "get", "show", "ls", "cat", "du", "stat", "version", "help", "info", "search",
               "export", "view", "lookup", "check", "test", "validate", "whoami", "hash")


def _destroys(operation: str) -> bool:
    return any(part in _DESTROYING for part in operation.lower().split("-"))


def _aws(argv: Sequence[str]) -> list[Hit]:
    words, i = [], 1
    while i < len(argv):
        word = argv[i]
        if word.startswith("--"):
            if "=" not in word and word in _AWS_GLOBAL_VALUE:
                i += 1
        else:
            words.append(word)
        i += 1
    service, op = (words + ["", ""])[:2]
    if "--dryrun" in argv or "--dry-run" in argv or "help" in words[:3]:
        return [Hit("infra.read")]
    if service == "s3":
        if (op == "rm" and "--recursive" in argv) or (op == "rb" and "--force" in argv) or (op == "sync" and "--delete" in argv):
            return [Hit("infra.aws.s3_rm_recursive", " ".join(words[2:]) or None)]
        if op in ("rm", "rb"):
            return [Hit("infra.cloud.delete", " ".join(words[2:]) or None)]
        return [Hit("infra.read" if op == "ls" else "infra.work")]
    if op == "terminate-instances":
        return [Hit("infra.aws.terminate")]
    if _destroys(op):
        return [Hit("infra.cloud.delete", f"{service} {op}")]
    if (service, op) == ("route53", "change-resource-record-sets"):
        return _route53_changes(argv)
    if (service, op) in _AWS_OVERWRITES:
        if op == "put-parameter" and "--overwrite" not in argv:
            return [Hit("infra.work")]  # without --overwrite it only creates
        return [Hit("infra.cloud.overwrite", f"{service} {op}")]
    return [Hit("infra.read" if op.startswith(("describe", "list", "get")) else "infra.work")]


def _route53_changes(argv: Sequence[str]) -> list[Hit]:
    """A change batch that deletes or upserts records; one read from a file is unknown, so it asks too."""
    batch = next((argv[k + 1] for k in range(len(argv) - 1) if argv[k] == "--change-batch"), None)
    batch = batch or next((a.split("=", 1)[1] for a in argv if a.startswith("--change-batch=")), "")
    upper = batch.upper()
    if "DELETE" in upper:
        return [Hit("infra.cloud.delete", "route53 change-resource-record-sets DELETE")]
    if "UPSERT" in upper or not batch.lstrip().startswith(("{", "[", "Changes")):
        return [Hit("infra.cloud.overwrite", "route53 change-resource-record-sets " + (batch[:60] or "?"))]
    return [Hit("infra.work")]


def _short_flags(argv: Sequence[str]) -> set[str]:
    return {c for a in argv if a.startswith("-") and not a.startswith("--") for c in a[1:]}


_GSUTIL_GLOBAL_VALUE = frozenset({"-o", "-h", "-p", "-u"})


def _gsutil(argv: Sequence[str]) -> list[Hit]:
    i = 1
    while i < len(argv) and argv[i].startswith("-"):
        i += 2 if argv[i] in _GSUTIL_GLOBAL_VALUE else 1
    verb = argv[i] if i < len(argv) else ""
    args = list(argv[i + 1:])
    flags = _short_flags(args)
    targets = " ".join(a for a in args if not a.startswith("-")) or None
    if verb == "rsync":
        if "d" in flags and "n" not in flags:
            return [Hit("infra.aws.s3_rm_recursive", f"rsync -d {targets or ''}".strip())]
        return [Hit("infra.read" if "n" in flags else "infra.work")]
    if verb in ("rm", "rb"):
        recursive = flags & {"r", "R", "a"} or any("**" in a for a in args)
        return [Hit("infra.aws.s3_rm_recursive" if recursive else "infra.cloud.delete", targets)]
    if verb == "iam" and args[:1] == ["ch"] and "d" in flags:
        return [Hit("infra.cloud.delete", "iam ch -d")]
    return [Hit("infra.read" if verb in _READ_VERBS or not verb else "infra.work")]


def _verb_cli(argv: Sequence[str]) -> list[Hit]:
    """gcloud, az, doctl: a command group path ending in a verb, then the operands."""
    words = _positional(argv)
    name = argv[0].rsplit("/", 1)[-1]
    if any(a in ("--help", "-h") for a in argv[1:]):
        return [Hit("infra.read")]
    if name == "gcloud" and words[:2] == ["storage", "rm"]:
        return [Hit("infra.aws.s3_rm_recursive" if "--recursive" in argv or "-r" in argv or "-R" in argv else "infra.cloud.delete")]
    if name == "gcloud" and words[:2] == ["storage", "rsync"]:
        if any(a.startswith("--delete-unmatched-destination-objects") for a in argv) and "--dry-run" not in argv:
            return [Hit("infra.aws.s3_rm_recursive", "storage rsync --delete-unmatched-destination-objects")]
        return [Hit("infra.work")]
    if name == "az" and "sync" in words[:4] and _flag_value(argv, "--delete-destination") in ("true", "prompt"):
        return [Hit("infra.aws.s3_rm_recursive", " ".join(words[:4]) + " --delete-destination")]
    if name == "az" and any(w.endswith("delete-batch") for w in words[:5]):
        return [Hit("infra.aws.s3_rm_recursive", " ".join(words[:5]))]
    # The group path comes first; the first verb we know decides, before any operand can mislead.
    for word in words[:6]:
        if _destroys(word):
            return [Hit("infra.cloud.delete", " ".join(words))]
        if word in ("restore", "restore-backup", "import") and name == "gcloud" and "sql" in words[:2]:
            return [Hit("infra.cloud.overwrite", " ".join(words))]
        if word.split("-")[0] in _READ_VERBS:  # list, get-credentials; not `versions`
            return [Hit("infra.read")]
        if word in ("create", "add", "deploy", "update", "set", "start", "ssh", "scp", "cp", "run", "connect", "login"):
            return [Hit("infra.work")]
    return [Hit("infra.work")]


def _flag_value(argv: Sequence[str], flag: str) -> str | None:
    for k, word in enumerate(argv):
        if word == flag:
            return argv[k + 1].lower() if k + 1 < len(argv) else "true"
        if word.startswith(flag + "="):
            return word.split("=", 1)[1].lower()
    return None


def classify(argv: Sequence[str], ctx: Context) -> list[Hit]:
    name = argv[0].rsplit("/", 1)[-1]
    if name in ("terraform", "tofu", "terragrunt"):
        return _terraform(argv)
    if name == "pulumi":
        return _pulumi(argv)
    if name == "aws":
        return _aws(argv)
    if name == "gsutil":
        return _gsutil(argv)
    return _verb_cli(argv)


PACK = Pack(
    name="infra",
    description="terraform/tofu and pulumi destroy and apply; aws, gcloud, gsutil, az, doctl deletions and in-place overwrites",
    commands=frozenset({"terraform", "tofu", "terragrunt", "pulumi", "aws", "gcloud", "gsutil", "az", "doctl"}),
    rules=RULES,
    classify=classify,
)
