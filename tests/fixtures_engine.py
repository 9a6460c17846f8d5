"""The Docker fixtures the acceptance vectors act on, against the real engine.

Every object a test run makes carries the run's own name prefix and the label
`wingman-test=<run id>`, so two runs can share one engine and neither touches
objects it did not make (a developer's own `victim` container included). The
vectors keep the shared file's names (`victim`, `keep-vol`, ...); `names.apply`
turns them into this run's names before a command runs.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import secrets
import subprocess

DOCKER = os.environ.get("WINGMAN_TEST_DOCKER", "/usr/bin/docker")
LABEL_KEY = "wingman-test"
RUN_PATTERN = re.compile(r"wt[0-9a-f]{6}")
# tests/run-all.sh exports the run id so tests/engine.sh stop cleans up the same objects.
RUN_ID = os.environ.get("WINGMAN_TEST_RUN") or f"wt{secrets.token_hex(3)}"
if not RUN_PATTERN.fullmatch(RUN_ID):
    raise RuntimeError(f"WINGMAN_TEST_RUN must look like wt<6 hex digits>, not {RUN_ID!r}")
LABEL = f"{LABEL_KEY}={RUN_ID}"

# Read-only images built by tests/engine.sh; no test removes them.
BASE_IMAGE = "wingman-test:latest"
SPARE_IMAGE = "spare:latest"


# Docker's human durations (go-units HumanDuration), as in the CREATED and STATUS columns.
AGE = re.compile(r"\b(?:Less than a second|About an? (?:minute|hour)|\d+ (?:second|minute|hour|day|week|month|year)s?)\b")


class Names:
    """The run's names for the objects the shared vectors call by fixed names."""

    FIXTURES = ("victim", "firm-app", "parked", "keep-vol", "keep-net", "spare")

    def __init__(self, run_id: str):
        self.run_id = run_id
        self.prefix = f"{run_id}-"
        words = "|".join(re.escape(word) for word in sorted(self.FIXTURES, key=len, reverse=True))
        # A fixture name as a whole word: not inside `victim2`, `wingman-test` or a path.
        self._word = re.compile(rf"(?<![\w./-])({words})(?![\w-])")
        self._other_run = re.compile(rf"(?<![\w-])(?!{re.escape(run_id)}-)wt[0-9a-f]{{6}}-")
        self._base64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")

    def __getitem__(self, fixture: str) -> str:
        if fixture not in self.FIXTURES:
            raise KeyError(fixture)
        return self.prefix + fixture

    def unique(self, role: str) -> str:
        """A name of this run for an object a test makes for itself."""
        return self.prefix + role

    def apply(self, command: str) -> str:
        """The command with every fixture name replaced by this run's, base64 literals included."""
        command = self._base64.sub(self._apply_encoded, command)
        command = self._word.sub(lambda m: self.prefix + m.group(1), command)
        # A container the vector starts and throws away still gets this run's name, so a
        # concurrent run's `docker ps` can tell it apart from its own.
        return re.sub(r"\bdocker run --rm (?!--name)", f"docker run --rm --name {self.prefix}once ", command)

    def _apply_encoded(self, match: re.Match) -> str:
        try:
            decoded = base64.b64decode(match.group(0), validate=True).decode("ascii")
        except (binascii.Error, UnicodeDecodeError):
            return match.group(0)
        replaced = self._word.sub(lambda m: self.prefix + m.group(1), decoded)
        return base64.b64encode(replaced.encode()).decode() if replaced != decoded else match.group(0)

    def listing(self, output: str) -> list[str]:
        """Docker's listing as a comparable set: sorted lines, column padding collapsed, ages
        ("3 minutes ago", "Up 2 hours") as one word, since many objects' ages tick between
        two listings, and lines naming another test run's objects left out (they come and go meanwhile)."""
        return sorted(AGE.sub("<age>", " ".join(line.split())) for line in output.splitlines()
                      if not self._other_run.search(line))


names = Names(RUN_ID)
CONTAINERS = {names["victim"]: "running", names["firm-app"]: "running", names["parked"]: "exited"}
VOLUMES = (names["keep-vol"],)
NETWORKS = (names["keep-net"],)
# The run's own tag of the spare image: a vector that removes it removes only this tag.
IMAGES = (BASE_IMAGE, names["spare"] + ":latest")


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    return subprocess.run([DOCKER, *args], capture_output=True, text=True, check=check, env=env)


def engine_available() -> bool:
    return docker("info", check=False).returncode == 0


def ensure_fixtures() -> None:
    """Bring every fixture of this run to its expected state, recreating what a failed test destroyed."""
    missing = [image for image in (BASE_IMAGE, SPARE_IMAGE) if docker("image", "inspect", image, check=False).returncode]
    if missing:
        raise RuntimeError(f"test images missing: {missing}; run tests/engine.sh start")
    for name, want in CONTAINERS.items():
        state = container_state(name)
        if state != want:
            docker("rm", "-f", name, check=False)
            if want == "running":
                docker("run", "-d", "--name", name, "--label", LABEL, "--network", "none", BASE_IMAGE, "sleep", "1d")
            else:
                docker("create", "--name", name, "--label", LABEL, "--network", "none", BASE_IMAGE, "sleep", "1d")
                docker("start", name)
                docker("stop", "-t", "0", name)
    for volume in VOLUMES:
        if docker("volume", "inspect", volume, check=False).returncode:
            docker("volume", "create", "--label", LABEL, volume)
    for network in NETWORKS:
        if docker("network", "inspect", network, check=False).returncode:
            docker("network", "create", "--label", LABEL, network)
    own_spare = IMAGES[1]
    if docker("image", "inspect", own_spare, check=False).returncode:
        docker("tag", SPARE_IMAGE, own_spare)


def remove_own_objects() -> None:
    """Remove what this run made, and nothing else: objects labelled with its id, tags with its prefix."""
    label = f"label={LABEL}"
    containers = docker("ps", "-aq", "--filter", label, check=False).stdout.split()
    if containers:
        docker("rm", "-f", *containers, check=False)
    volumes = docker("volume", "ls", "-q", "--filter", label, check=False).stdout.split()
    if volumes:
        docker("volume", "rm", "-f", *volumes, check=False)
    networks = docker("network", "ls", "-q", "--filter", label, check=False).stdout.split()
    if networks:
        docker("network", "rm", *networks, check=False)
    tags = docker("images", "--format", "{{.Repository}}:{{.Tag}}", check=False).stdout.split()
    own = [tag for tag in tags if tag.startswith(names.prefix)]
    if own:
        docker("rmi", *own, check=False)


def container_state(name: str) -> str | None:
    result = docker("inspect", "--format", "{{json .State}}", name, check=False)
    if result.returncode:
        return None
    state = json.loads(result.stdout)
    return state["Status"]


def snapshot() -> dict:
    """Everything a destructive command could change, to compare before and after."""
    out = {}
    for name in CONTAINERS:
        result = docker("inspect", "--format", "{{.Id}} {{.State.Status}} {{.State.StartedAt}}", name, check=False)
        out[f"container:{name}"] = result.stdout.strip() if result.returncode == 0 else None
    for volume in VOLUMES:
        out[f"volume:{volume}"] = docker("volume", "inspect", "--format", "{{.Name}}", volume, check=False).returncode == 0
    for network in NETWORKS:
        result = docker("network", "inspect", "--format", "{{.Id}}", network, check=False)
        out[f"network:{network}"] = result.stdout.strip() if result.returncode == 0 else None
    for image in IMAGES:
        result = docker("image", "inspect", "--format", "{{.Id}}", image, check=False)
        out[f"image:{image}"] = result.stdout.strip() if result.returncode == 0 else None
    return out
