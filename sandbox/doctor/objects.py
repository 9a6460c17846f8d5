"""The doctor's throwaway objects: made for the run, labelled, put back after each try, removed at the end.

Made with the real docker binary outside any session; never an object of the user's.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass

from ..monitor.engine import Daemon, get_json

LABEL_KEY = "wingman-doctor"


class NoImage(Exception):
    """No image present here can run a container that stays up."""


@dataclass
class Objects:
    docker: str
    daemon: Daemon
    prefix: str   # wingman-doctor-<hex>-<shell>
    image: str = ""

    @property
    def label(self) -> str:
        return f"{LABEL_KEY}={self.prefix}"

    def names(self) -> dict[str, str]:
        return {"c": f"{self.prefix}-c", "p": f"{self.prefix}-p", "v": f"{self.prefix}-v", "n": f"{self.prefix}-n",
                "project": self.prefix}

    def _docker(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([self.docker, *args], capture_output=True, text=True, timeout=30)

    # -- making -----------------------------------------------------------------------------------

    def make_all(self, images: list[str]) -> None:
        for image in images:
            self.image = image
            if self._make_container():
                break
        else:
            raise NoImage("no image present here runs `sleep` (the doctor pulls nothing)")
        self._make_parked()
        self._docker("volume", "create", "--label", self.label, self.names()["v"])
        self._docker("network", "create", "--label", self.label, self.names()["n"])

    def _make_container(self) -> bool:
        name = self.names()["c"]
        self._docker("rm", "-f", name)
        made = self._docker("run", "-d", "--name", name, "--label", self.label, "--network", "none",
                            "--label", f"com.docker.compose.project={self.prefix}", self.image, "sleep", "3600")
        return made.returncode == 0 and self.state("c") is not None and self.state("c")[1]

    def _make_parked(self) -> None:
        self._docker("create", "--name", self.names()["p"], "--label", self.label, "--network", "none", self.image,
                     "sleep", "3600")

    # -- state, and putting things back ------------------------------------------------------------

    def state(self, target: str):
        """What a try could change, comparable before and after; None when the object is gone."""
        name = self.names()[target]
        if target in ("c", "p"):
            found = get_json(self.daemon, f"/containers/{name}/json")
            if not isinstance(found, dict):
                return None
            status = found.get("State") or {}
            return (found.get("Id"), bool(status.get("Running")) and not status.get("Paused"), status.get("StartedAt"))
        path = f"/volumes/{name}" if target == "v" else f"/networks/{name}"
        found = get_json(self.daemon, path)
        return (found.get("Name"), found.get("Id")) if isinstance(found, dict) else None

    def restore(self, target: str) -> None:
        if target == "c":
            # Put back without destroying anything: a removal here would be an unapproved event of its own.
            current = self.state("c")
            if current is None:
                self._make_container()
            elif not current[1]:
                self._docker("unpause", self.names()["c"])
                self._docker("start", self.names()["c"])
        elif target == "p" and self.state("p") is None:
            self._make_parked()
        elif target == "v" and self.state("v") is None:
            self._docker("volume", "create", "--label", self.label, self.names()["v"])
        elif target == "n" and self.state("n") is None:
            self._docker("network", "create", "--label", self.label, self.names()["n"])

    def remove_all(self) -> None:
        names = self.names()
        self._docker("rm", "-f", names["c"], names["p"])
        self._docker("volume", "rm", "-f", names["v"])
        self._docker("network", "rm", names["n"])


def runnable_images(daemon: Daemon) -> list[str]:
    """Tagged images present here, smallest first (a small one is likelier to be busybox-like)."""
    found = get_json(daemon, "/images/json") or []
    tagged = [(i.get("Size") or 0, tag) for i in found if isinstance(i, dict)
              for tag in (i.get("RepoTags") or []) if tag and tag != "<none>:<none>"]
    return [tag for _, tag in sorted(tagged)][:4]
