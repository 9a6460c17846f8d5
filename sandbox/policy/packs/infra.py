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
        "infra.aws.s3_rm_recursive", "deletes every object under an S3 prefix (rm --recursive, rb --force, sync --delete)",
        "aws s3 ls --recursive to list, or --dryrun"),
    "infra.aws.terminate": risky_rule(
        "infra.aws.terminate", "terminates EC2 instances and their instance-store data", "aws ec2 stop-instances, or ask the user"),
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


_DELETE_PREFIXES = ("delete", "remove", "terminate", "deregister", "purge", "destroy", "drop")


def _aws(argv: Sequence[str]) -> list[Hit]:
    words, i = [], 1
    while i < len(argv):
        word = argv[i]
        if word.startswith("--"):
            if "=" not in word and word in ("--profile", "--region", "--output", "--endpoint-url", "--query", "--color", "--cli-read-timeout"):
                i += 1
        else:
            words.append(word)
        i += 1
    service, op = (words + ["", ""])[:2]
    if "--dryrun" in argv or "--dry-run" in argv:
        return [Hit("infra.read")]
    if service == "s3":
        if (op == "rm" and "--recursive" in argv) or (op == "rb" and "--force" in argv) or (op == "sync" and "--delete" in argv):
            return [Hit("infra.aws.s3_rm_recursive", " ".join(words[2:]) or None)]
        if op in ("rm", "rb"):
            return [Hit("infra.cloud.delete", " ".join(words[2:]) or None)]
        return [Hit("infra.read" if op == "ls" else "infra.work")]
    if op == "terminate-instances":
        return [Hit("infra.aws.terminate")]
    if op.startswith(_DELETE_PREFIXES):
        return [Hit("infra.cloud.delete", f"{service} {op}")]
    return [Hit("infra.read" if op.startswith(("describe", "list", "get")) else "infra.work")]


def _verb_cli(argv: Sequence[str]) -> list[Hit]:
    """gcloud, az, doctl, gsutil: a command group path ending in a verb."""
    words = _positional(argv)
    name = argv[0].rsplit("/", 1)[-1]
    if name == "gsutil":
        if words[:1] in (["rm"], ["rb"]):
            return [Hit("infra.aws.s3_rm_recursive" if "-r" in argv or "-R" in argv else "infra.cloud.delete", " ".join(words[1:]) or None)]
        return [Hit("infra.read")]
    if name == "gcloud" and words[:2] == ["storage", "rm"]:
        return [Hit("infra.aws.s3_rm_recursive" if "--recursive" in argv or "-r" in argv else "infra.cloud.delete")]
    for word in words[:5]:
        if word.startswith(_DELETE_PREFIXES) or word in ("rm", "terminate"):
            return [Hit("infra.cloud.delete", " ".join(words))]
    if any(w in ("list", "describe", "show", "get") for w in words[:5]):
        return [Hit("infra.read")]
    return [Hit("infra.work")]


def classify(argv: Sequence[str], ctx: Context) -> list[Hit]:
    name = argv[0].rsplit("/", 1)[-1]
    if name in ("terraform", "tofu", "terragrunt"):
        return _terraform(argv)
    if name == "pulumi":
        return _pulumi(argv)
    if name == "aws":
        return _aws(argv)
    return _verb_cli(argv)


PACK = Pack(
    name="infra",
    description="terraform/tofu and pulumi destroy and apply; aws, gcloud, gsutil, az, doctl deletions",
    commands=frozenset({"terraform", "tofu", "terragrunt", "pulumi", "aws", "gcloud", "gsutil", "az", "doctl"}),
    rules=RULES,
    classify=classify,
)
