"""The kube pack: kubectl and helm deletions, drains, uninstalls and rollbacks."""

from __future__ import annotations

from typing import Sequence

from ..context import Context
from .base import Hit, Pack, read_rule, risky_rule, work_rule

# Options (of kubectl and helm) that take the next word as their value.
_VALUE_OPTIONS = frozenset({
    "-n", "--namespace", "--context", "--kubeconfig", "--cluster", "--user", "-s", "--server", "--token",
    "-l", "--selector", "-o", "--output", "-f", "--filename", "-c", "--container", "--as", "--as-group",
    "--kube-context", "--kube-apiserver", "--kube-token", "--repository-config", "--registry-config",
    "--field-selector", "--request-timeout", "--cache-dir", "--certificate-authority", "--client-certificate",
    "--client-key", "--version", "--values", "--set", "--set-string", "--set-file", "--timeout", "--revision",
    "-v", "--v", "-k", "--kustomize", "-p",
})
_KUBECTL_READS = frozenset({
    "get", "describe", "logs", "top", "explain", "api-resources", "api-versions", "version", "cluster-info",
    "diff", "events", "auth", "wait", "completion", "help", "kustomize",
})

RULES = {
    "kube.read": read_rule("kube.read", "kubectl get, describe, logs; helm list, status, template"),
    "kube.work": work_rule("kube.work", "kubectl apply, exec, port-forward; helm install, upgrade"),
    "kube.delete": risky_rule(
        "kube.delete", "deletes cluster resources (kubectl delete, apply --prune), and whatever data they hold",
        "kubectl get / describe to look; kubectl delete --dry-run=client to preview"),
    "kube.drain": risky_rule(
        "kube.drain", "drains or cordons a node, evicting the pods that run on it", "kubectl describe node"),
    "kube.scale": risky_rule(
        "kube.scale", "changes how many replicas run, possibly to zero", "kubectl get deploy to look"),
    "kube.rollout.restart": risky_rule(
        "kube.rollout.restart", "restarts or rolls back a workload's pods", "kubectl rollout status / history"),
    "kube.context.use": risky_rule(
        "kube.context.use", "switches the cluster every later kubectl talks to", "pass --context for one command"),
    "kube.helm.uninstall": risky_rule(
        "kube.helm.uninstall", "uninstalls a helm release and the resources it created", "helm status / helm list"),
    "kube.helm.rollback": risky_rule(
        "kube.helm.rollback", "rolls a helm release back to an older revision", "helm history"),
}


def _words(argv: Sequence[str]) -> list[str]:
    """The positional words: subcommand path and operands, options and their values left out."""
    out, i = [], 1
    while i < len(argv):
        word = argv[i]
        if word == "--":
            break
        if word.startswith("-"):
            if word in _VALUE_OPTIONS:
                i += 1
        else:
            out.append(word)
        i += 1
    return out


def _kubectl(argv: Sequence[str]) -> list[Hit]:
    words = _words(argv)
    if not words or "--help" in argv or "-h" in argv:
        return [Hit("kube.read")]
    verb, rest = words[0], words[1:]
    detail = " ".join(rest) or None
    if verb == "delete":
        if any(a.startswith("--dry-run") and not a.endswith("=none") for a in argv):
            return [Hit("kube.read")]
        return [Hit("kube.delete", detail)]
    if verb == "apply" and any(a == "--prune" or a.startswith("--prune=") for a in argv):
        return [Hit("kube.delete", "apply --prune")]
    if verb in ("drain", "cordon", "taint"):
        return [Hit("kube.drain", detail)]
    if verb == "scale" or (verb == "autoscale"):
        return [Hit("kube.scale", detail)]
    if verb == "rollout" and rest[:1] and rest[0] in ("restart", "undo", "pause"):
        return [Hit("kube.rollout.restart", detail)]
    if verb == "config" and rest[:1] and rest[0] in ("use-context", "use", "delete-context", "delete-cluster", "unset"):
        return [Hit("kube.context.use", detail)]
    if verb in ("replace", "apply") and any(a == "--force" for a in argv):
        return [Hit("kube.delete", f"{verb} --force deletes and recreates")]
    if verb == "adm" and rest[:1] and rest[0] in ("drain", "cordon", "taint"):
        return [Hit("kube.drain", " ".join(rest[1:]) or None)]
    if verb == "adm" and rest[:1] == ["prune"] and "--confirm" in argv:
        return [Hit("kube.delete", "adm " + " ".join(rest))]  # without --confirm it only lists
    if verb == "rollout" and rest[:1] and rest[0] in ("status", "history"):
        return [Hit("kube.read")]
    if verb in _KUBECTL_READS or (verb == "config" and rest[:1] and rest[0] in ("view", "get-contexts", "current-context")):
        return [Hit("kube.read")]
    if verb == "rollout" and rest[:1] and rest[0] in ("status", "history"):
        return [Hit("kube.read")]
    return [Hit("kube.work")]


def _helm(argv: Sequence[str]) -> list[Hit]:
    words = _words(argv)
    if not words:
        return [Hit("kube.read")]
    verb, rest = words[0], words[1:]
    if verb in ("uninstall", "delete", "del", "un"):
        if "--dry-run" in argv:
            return [Hit("kube.read")]
        return [Hit("kube.helm.uninstall", " ".join(rest) or None)]
    if verb == "rollback":
        return [Hit("kube.helm.rollback", " ".join(rest) or None)]
    if verb in ("upgrade", "install") and "--force" in argv:
        return [Hit("kube.delete", f"helm {verb} --force deletes and recreates resources")]
    if verb in ("list", "ls", "status", "get", "history", "hist", "template", "show", "inspect", "search", "lint",
                "version", "env", "help", "verify", "diff"):
        return [Hit("kube.read")]
    return [Hit("kube.work")]


def classify(argv: Sequence[str], ctx: Context) -> list[Hit]:
    name = argv[0].rsplit("/", 1)[-1]
    return _helm(argv) if name == "helm" else _kubectl(argv)


PACK = Pack(
    name="kube",
    description="kubectl, oc and helm: delete, drain, scale, rollout restart, uninstall, rollback",
    commands=frozenset({"kubectl", "oc", "helm", "k3s-kubectl", "microk8s.kubectl"}),
    rules=RULES,
    classify=classify,
)
