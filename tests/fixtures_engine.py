"""The Docker fixtures the acceptance vectors act on, against the real engine."""

from __future__ import annotations

import json
import os
import subprocess

DOCKER = os.environ.get("WINGMAN_TEST_DOCKER", "/usr/bin/docker")
LABEL = "wingman-test=1"
CONTAINERS = {"victim": "running", "firm-app": "running", "parked": "exited"}
VOLUMES = ("keep-vol",)
NETWORKS = ("keep-net",)
IMAGES = ("wingman-test:latest", "spare:latest")


def docker(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    return subprocess.run([DOCKER, *args], capture_output=True, text=True, check=check, env=env)


def engine_available() -> bool:
    return docker("info", check=False).returncode == 0


def ensure_fixtures() -> None:
    """Bring every fixture to its expected state, recreating what a failed test destroyed."""
    for name, want in CONTAINERS.items():
        state = container_state(name)
        if state != want:
            docker("rm", "-f", name, check=False)
            if want == "running":
                docker("run", "-d", "--name", name, "--label", LABEL, "--network", "none",
                       "wingman-test:latest", "sleep", "1d")
            else:
                docker("create", "--name", name, "--label", LABEL, "--network", "none",
                       "wingman-test:latest", "sleep", "1d")
                docker("start", name)
                docker("stop", "-t", "0", name)
    for volume in VOLUMES:
        if docker("volume", "inspect", volume, check=False).returncode:
            docker("volume", "create", "--label", LABEL, volume)
    for network in NETWORKS:
        if docker("network", "inspect", network, check=False).returncode:
            docker("network", "create", "--label", LABEL, network)
    missing = [image for image in IMAGES if docker("image", "inspect", image, check=False).returncode]
    if missing:
        raise RuntimeError(f"test images missing: {missing}; run tests/engine.sh start")


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
