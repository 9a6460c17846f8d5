"""The vectors the doctor tries, as data: what to run, on which throwaway object, and what the README says of it.

Placeholders: {c} a running container, {p} a stopped one (for prunes), {v} a
volume, {n} a network, {label} the doctor's label filter, {docker} the real
docker binary, {sock} the daemon's socket, {tmp} a scratch directory.

`closed_when` says when the README calls the row closed: "always" (stub and
shell hooks), "isolated" (only behind OS isolation and the guard; without it the
monitor must at least detect it), or None for the commands that must keep working.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Vector:
    key: str
    title: str
    command: str
    target: str | None      # c, p, v or n: the object it would change; None: must work
    closed_when: str | None
    shells: tuple[str, ...] = ("bash", "zsh")
    needs: str | None = None  # a program that must exist for the row to run

    def example(self, values: dict) -> str:
        return self.command.format(**values)


_RAW_STOP = ("python3 -c \"import socket; s=socket.socket(socket.AF_UNIX); s.connect('{sock}'); "
             "s.sendall(b'POST /containers/{c}/stop?t=0 HTTP/1.1\\\\r\\\\nHost: d\\\\r\\\\nContent-Length: 0\\\\r\\\\n\\\\r\\\\n'); "
             "print(s.recv(99))\"")
_BUILT_NAME = ("python3 -c \"import subprocess; subprocess.run(['{docker_dir}/do'+'cker', 'stop', '-t', '0', '{c}'])\"")

VECTORS: tuple[Vector, ...] = (
    Vector("stop", "destructive docker command", "docker stop -t 0 {c}", "c", "always"),
    Vector("rm", "destructive docker command", "docker rm -f {c}", "c", "always"),
    Vector("kill", "destructive docker command", "docker kill {c}", "c", "always"),
    Vector("restart", "destructive docker command", "docker restart -t 0 {c}", "c", "always"),
    Vector("volume-rm", "volume removal", "docker volume rm {v}", "v", "always", ("bash",)),
    Vector("network-rm", "network removal", "docker network rm {n}", "n", "always", ("bash",)),
    Vector("container-prune", "prune (label-scoped)", "docker container prune -f --filter label={label}", "p",
           "always", ("bash",)),
    Vector("volume-prune", "prune (label-scoped)", "docker volume prune -f --filter label={label}", "v",
           "always", ("bash",)),
    Vector("compose-down", "compose down -v", "docker compose -p {project} down -v", "c", "always", ("bash",),
           needs="compose"),
    Vector("full-path", "full path to the real binary", "{docker} stop -t 0 {c}", "c", "always"),
    Vector("command", "wrapper: command", "command docker stop -t 0 {c}", "c", "always"),
    Vector("env", "wrapper: env", "env docker stop -t 0 {c}", "c", "always"),
    Vector("nested", "nested shell", "bash -c '{docker} stop -t 0 {c}'", "c", "always"),
    Vector("interpreter", "interpreter, name built at run time", _BUILT_NAME, "c", "isolated"),
    Vector("raw-socket", "raw socket", _RAW_STOP, "c", "isolated"),
    Vector("copied", "copied binary", "cp {docker} {tmp}/d-$$ && {tmp}/d-$$ stop -t 0 {c}", "c", "isolated"),
    Vector("ps", "safe: must work", "docker ps", None, None),
    Vector("logs", "safe: must work", "docker logs {c}", None, None),
    Vector("inspect", "safe: must work", "docker inspect {c}", None, None),
    Vector("images", "safe: must work", "docker images", None, None),
)


def expected_closed(vector: Vector, isolated: bool) -> bool:
    """Whether the README calls this row closed on a machine where isolation is (or is not) on."""
    return vector.closed_when == "always" or (vector.closed_when == "isolated" and isolated)
