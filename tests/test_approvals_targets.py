"""Naming targets through the docker binary: a stand-in script, so no daemon is needed."""

from __future__ import annotations

import json
import os
import time

from sandbox.approvals.targets import docker_targets

CONTAINER = {"Id": "8f72ed9d0b2a7b7830fb83a0d69f16b5", "Name": "/victim", "State": {"Status": "running"},
             "Config": {"Image": "app:1"}, "Mounts": [{"Name": "keep-vol"}]}


def fake_docker(tmp_path, body: str):
    path = tmp_path / "docker"
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return str(path)


def test_container_named_with_id_state_image_and_volumes(tmp_path):
    docker = fake_docker(tmp_path, f"echo '{json.dumps(CONTAINER)}'\necho 'Error: No such container: ghost' >&2\nexit 1\n")
    found = docker_targets(docker, {"PATH": os.defpath}, "container", ["victim", "ghost"])
    assert found[0].name == "victim" and found[0].id == CONTAINER["Id"]
    assert "state running" in found[0].detail and "image app:1" in found[0].detail and "keep-vol" in found[0].detail
    assert found[1].name == "ghost" and found[1].detail == "no such container"


def test_container_named_by_id_prefix(tmp_path):
    docker = fake_docker(tmp_path, f"echo '{json.dumps(CONTAINER)}'\n")
    assert docker_targets(docker, {}, "container", ["8f72ed"])[0].name == "victim"


def test_volume_lists_its_users(tmp_path):
    docker = fake_docker(tmp_path, 'if [ "$1" = volume ]; then echo \'{"Name": "keep-vol", "Driver": "local"}\'; '
                                   'else echo \'{"Names": "db"}\'; fi\n')
    (target,) = docker_targets(docker, {}, "volume", ["keep-vol"])
    assert target.detail == "driver local; used by db"


def test_the_environment_given_is_the_one_used(tmp_path):
    docker = fake_docker(tmp_path, 'echo "{\\"Id\\": \\"n1\\", \\"Name\\": \\"$DOCKER_HOST\\"}"\n')
    (target,) = docker_targets(docker, {"DOCKER_HOST": "unix:///real.sock"}, "network", ["unix:///real.sock"])
    assert target.id == "n1"


def test_daemon_down_or_hanging_never_raises_and_keeps_the_names(tmp_path):
    down = fake_docker(tmp_path, "echo 'Cannot connect to the Docker daemon' >&2\nexit 1\n")
    (target,) = docker_targets(down, {}, "container", ["victim"])
    assert target.name == "victim" and "Cannot connect" in target.detail
    hang = fake_docker(tmp_path, "sleep 30 &\nsleep 30\n")  # a child holding the pipes too
    started = time.monotonic()
    (target,) = docker_targets(hang, {}, "image", ["app:1"])
    assert time.monotonic() - started < 5 and "did not answer" in target.detail
    assert docker_targets("/nonexistent/docker", {}, "volume", ["v"])[0].detail.startswith("not inspected")


def test_kinds_without_named_objects(tmp_path):
    docker = fake_docker(tmp_path, "exit 0\n")
    assert docker_targets(docker, {}, "system", []) == ()
    assert docker_targets(docker, {}, "project", ["x"]) == ()
