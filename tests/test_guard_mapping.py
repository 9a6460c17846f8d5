"""Docker Engine API request -> rule: the same rule ids as the CLI forms, spellings the daemon accepts included."""

from __future__ import annotations

import json

import pytest

from sandbox.guard.mapping import COVERED_BY, classify, needs_body, route_path, touches_engine_socket, touches_host_control
from sandbox.policy.packs import known_rule

# method, target, expected rules (empty: a read), expected targets
CASES = [
    ("GET", "/v1.41/containers/json?all=1", (), ()),
    ("HEAD", "/_ping", (), ()),
    ("GET", "/containers/victim/logs?follow=1&stdout=1", (), ()),
    ("GET", "/v1.41/containers/victim/attach/ws?stream=1", ("docker.container.attach",), ("victim",)),
    ("POST", "/v1.41/containers/victim/stop?t=0", ("docker.container.stop",), ("victim",)),
    ("POST", "/containers/victim/stop", ("docker.container.stop",), ("victim",)),
    ("POST", "/v1.24/containers/victim/kill?signal=KILL", ("docker.container.kill",), ("victim",)),
    ("POST", "/v1.41/containers/victim/restart", ("docker.container.restart",), ("victim",)),
    ("POST", "/v1.41/containers/victim/pause", ("docker.container.pause",), ("victim",)),
    ("POST", "/v1.41/containers/victim/update", ("docker.container.update",), ("victim",)),
    ("POST", "/v1.41/containers/victim/rename?name=other", ("docker.container.rename",), ("victim", "other")),
    ("DELETE", "/v1.41/containers/victim?force=1&v=1", ("docker.container.rm",), ("victim",)),
    ("POST", "/v1.41/containers/prune", ("docker.container.prune",), ()),
    ("POST", "/v1.41/images/prune?filters=%7B%7D", ("docker.image.prune",), ()),
    ("POST", "/v1.41/volumes/prune", ("docker.volume.prune",), ()),
    ("POST", "/v1.41/networks/prune", ("docker.network.prune",), ()),
    ("POST", "/v1.41/build/prune?all=1", ("docker.builder.prune",), ()),
    ("DELETE", "/v1.41/volumes/keep-vol", ("docker.volume.rm",), ("keep-vol",)),
    ("DELETE", "/v1.41/networks/keep-net", ("docker.network.rm",), ("keep-net",)),
    ("POST", "/v1.41/networks/keep-net/disconnect", ("docker.network.disconnect",), ("keep-net",)),
    ("DELETE", "/v1.41/images/registry:5000/team/app:1.2?force=1", ("docker.image.rm",), ("registry:5000/team/app:1.2",)),
    ("POST", "/v1.41/images/registry:5000/team/app/push?tag=1.2", ("docker.image.push",), ("registry:5000/team/app",)),
    ("POST", "/v1.41/images/spare:latest/tag?repo=x", ("docker.image.tag",), ("spare:latest",)),
    ("DELETE", "/v1.41/services/web", ("docker.service.rm",), ("web",)),
    ("DELETE", "/v1.41/secrets/s1", ("docker.secret.rm",), ("s1",)),
    ("DELETE", "/v1.41/configs/c1", ("docker.config.rm",), ("c1",)),
    ("DELETE", "/v1.41/nodes/n1?force=1", ("docker.node.rm",), ("n1",)),
    ("DELETE", "/v1.41/plugins/vieux/sshfs:latest", ("docker.plugin.rm",), ("vieux/sshfs:latest",)),
    ("POST", "/v1.41/plugins/vieux/sshfs:latest/disable", ("docker.plugin.disable",), ("vieux/sshfs:latest",)),
    ("POST", "/v1.41/swarm/leave?force=1", ("docker.swarm.leave",), ()),
    ("POST", "/v1.41/containers/victim/wait", (), ("victim",)),
    ("POST", "/v1.41/exec/abc/resize?h=1&w=2", (), ("abc",)),
    ("POST", "/v1.41/exec/abc/start", ("docker.container.exec",), ("abc",)),
    ("PUT", "/v1.41/containers/victim/archive?path=/", ("docker.container.cp",), ("victim",)),
    ("POST", "/v1.41/build?t=app:dev", ("docker.image.build",), ("app:dev",)),
    ("POST", "/v1.41/images/create?fromImage=busybox&tag=latest", ("docker.image.pull",), ("busybox",)),
    # Spellings the daemon routes the same way
    ("POST", "/containers/vic%74im/stop", ("docker.container.stop",), ("victim",)),
    ("POST", "/v1.41/containers/victim/stop/", ("docker.container.stop",), ("victim",)),
    ("DELETE", "/v1.41/containers/victim/", ("docker.container.rm",), ("victim",)),
    # Unknown or unclean: never a read, never forwarded without the broker
    ("POST", "/v1.41/containers/victim/frobnicate", ("docker.unknown",), ()),
    ("POST", "/v1.41//containers/victim/stop", ("docker.unknown",), ()),
    ("POST", "/v1.41/containers/victim/../other/stop", ("docker.unknown",), ()),
    ("POST", "/containers/a%2Fb/stop", ("docker.unknown",), ()),
    ("PATCH", "/v1.41/containers/victim", ("docker.unknown",), ()),
    ("post", "/v1.41/containers/victim/stop", ("docker.unknown",), ()),
    ("POST", "/v1.41/secrets/s1/update", ("docker.unknown",), ()),
]


@pytest.mark.parametrize("method,target,rules,targets", CASES, ids=[f"{c[0]} {c[1]}" for c in CASES])
def test_request_maps_to_the_cli_rule(method, target, rules, targets):
    call = classify(method, target, b"{}" if needs_body(method, target.partition("?")[0]) else None)
    assert call.rules == rules
    assert call.targets == targets
    assert call.shown.startswith(f"{method} {target.partition('?')[0]}")


def test_every_rule_the_mapping_names_exists():
    from sandbox.guard.mapping import ROUTES, UNKNOWN

    named = {rule for _, _, rule, _ in ROUTES if rule} | {UNKNOWN} | set(COVERED_BY) | {r for v in COVERED_BY.values() for r in v}
    named |= {f"docker.container.create.{k}" for k in ("docker_socket", "host_mount", "privileged", "host_pid", "shared_pid",
                                                          "host_network", "cap_sys_admin")}
    assert sorted(r for r in named if not known_rule(r)) == []


def create(body: dict | bytes, **kw):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return classify("POST", "/v1.41/containers/create?name=box", data, **kw)


@pytest.mark.parametrize("host_config,rule", [
    ({"Binds": ["/var/run/docker.sock:/var/run/docker.sock"]}, "docker_socket"),
    ({"Binds": ["/run:/host-run:ro"]}, "docker_socket"),
    ({"Binds": ["/:/host"]}, "docker_socket"),
    ({"Binds": ["/run/containerd/containerd.sock:/c.sock"]}, "docker_socket"),
    ({"Binds": ["/home/u/.docker/run/docker.sock:/d.sock"]}, "docker_socket"),
    ({"Binds": ["/run/user/1000/podman/podman.sock:/p.sock"]}, "docker_socket"),
    ({"Mounts": [{"Type": "bind", "Source": "/var/run", "Target": "/x"}]}, "docker_socket"),
    ({"Mounts": [{"Type": "volume", "Target": "/x", "VolumeOptions": {"DriverConfig": {"Options": {"type": "none", "o": "bind", "device": "/run"}}}}]}, "docker_socket"),
    ({"Privileged": True}, "privileged"),
    ({"CapAdd": ["SYS_ADMIN"]}, "cap_sys_admin"),
    ({"CapAdd": ["cap_sys_admin"]}, "cap_sys_admin"),
    ({"CapAdd": ["ALL"]}, "cap_sys_admin"),
    ({"PidMode": "host"}, "host_pid"),
    ({"NetworkMode": "host"}, "host_network"),
    # Host paths that let a container stop other containers, wipe the engine's data or take the host.
    ({"Binds": ["/run/containerd/s:/shims"]}, "host_mount"),
    ({"Binds": ["/run/docker/runtime-runc:/runc"]}, "host_mount"),
    ({"Binds": ["/var/lib/docker:/data"]}, "host_mount"),
    ({"Binds": ["/var/lib/docker/volumes/keep-vol/_data:/data"]}, "host_mount"),
    ({"Binds": ["/var/lib/containerd:/data:ro"]}, "host_mount"),
    ({"Binds": ["/var/lib:/data"]}, "host_mount"),
    ({"Binds": ["/sys/fs/cgroup:/cg"]}, "host_mount"),
    ({"Binds": ["/sys:/sys"]}, "host_mount"),
    ({"Binds": ["/proc:/hostproc"]}, "host_mount"),
    ({"Binds": ["/etc:/hostetc"]}, "host_mount"),
    ({"Binds": ["/etc/cron.d:/c"]}, "host_mount"),
    ({"Binds": ["/etc/localtime:/etc/localtime"]}, "host_mount"),
    ({"Binds": ["/dev:/dev"]}, "host_mount"),
    ({"Binds": ["/boot:/boot"]}, "host_mount"),
    ({"Binds": ["/run/user/1000/bus:/bus"]}, "host_mount"),
    ({"Binds": ["/var/run/dbus/system_bus_socket:/bus"]}, "host_mount"),
    ({"Binds": ["/run/../run/containerd/s/abc:/s"]}, "host_mount"),
    ({"Mounts": [{"Type": "bind", "Source": "/var/lib/docker", "Target": "/x", "ReadOnly": True}]}, "host_mount"),
    ({"Mounts": [{"Type": "volume", "Target": "/x", "VolumeOptions": {"DriverConfig": {"Options": {"type": "none", "o": "bind", "device": "/sys/fs/cgroup"}}}}]}, "host_mount"),
    ({"PidMode": "container:victim"}, "shared_pid"),
    ({"pidmode": "container:0123abcd"}, "shared_pid"),
])
def test_create_that_reaches_past_the_container(host_config, rule):
    call = create({"Image": "x", "HostConfig": host_config})
    assert call.rules == (f"docker.container.create.{rule}",)
    assert call.targets == ("box",)


def test_create_plain_is_everyday_work():
    call = create({"Image": "x", "HostConfig": {"Binds": ["/work/project:/src", "named-vol:/data", "/home/u/cache:/c",
                                                          "/var/lib/app-data:/d", "/usr/share/fonts:/f:ro", "/etcetera:/e"],
                                                "CapAdd": ["NET_ADMIN"], "NetworkMode": "bridge", "PidMode": ""}})
    assert call.rules == ("docker.container.create",)
    # Time zone files hold only data: bound read-only, as images commonly do, they control nothing.
    zone = create({"Image": "x", "HostConfig": {"Binds": ["/etc/localtime:/etc/localtime:ro", "/etc/timezone:/etc/timezone:ro"]}})
    assert zone.rules == ("docker.container.create",)


def test_one_reason_per_bind_and_every_risk_named():
    # / and /run hold the engine's socket: that sharper reason alone names them.
    assert create({"HostConfig": {"Binds": ["/:/host"]}}).rules == ("docker.container.create.docker_socket",)
    both = create({"HostConfig": {"Binds": ["/var/run:/r", "/var/lib/docker:/d"], "PidMode": "container:victim"}})
    assert both.rules == tuple(f"docker.container.create.{r}" for r in ("docker_socket", "host_mount", "shared_pid"))


def test_host_mounts_are_judged_where_their_links_lead():
    links = {"/tmp/innocent": "/var/lib/docker", "/home/u/shims": "/run/containerd/s"}
    resolve = lambda p: links.get(p, p)  # noqa: E731
    for source in links:
        assert create({"HostConfig": {"Binds": [f"{source}:/x"]}}, resolve=resolve).rules == ("docker.container.create.host_mount",)
    broken = lambda p: (_ for _ in ()).throw(OSError("loop"))  # noqa: E731
    assert touches_host_control("/srv/data", resolve=broken)
    assert not touches_host_control("/srv/data")


def test_json_keys_are_read_the_way_go_reads_them():
    # Go's encoding/json matches keys case-insensitively and merges a repeated object into the first.
    assert create({"Image": "x", "hostconfig": {"privileged": True}}).rules == ("docker.container.create.privileged",)
    twice = b'{"Image": "x", "HostConfig": {"Privileged": true}, "hostConfig": {"Privileged": false}}'
    assert create(twice).rules == ("docker.container.create.privileged",)
    every = create({"HostConfig": {"Privileged": True, "PidMode": "HOST", "NetworkMode": "host", "CapAdd": ["ALL"],
                                   "Binds": ["/run:/r"]}})
    assert set(every.rules) == {f"docker.container.create.{r}" for r in ("docker_socket", "privileged", "cap_sys_admin", "host_pid", "host_network")}


def test_unreadable_bodies_are_not_let_through_unread():
    assert create(b"not json").rules == ("docker.unknown",)
    assert create(b"[1, 2]").rules == ("docker.unknown",)
    assert classify("POST", "/containers/create", None).rules == ("docker.unknown",)
    assert create(b" " * (2 << 20)).rules == ("docker.unknown",)


def test_bind_sources_are_judged_where_their_links_lead():
    links = {"/tmp/innocent": "/run", "/tmp/also": "/srv/data"}
    resolve = lambda p: links.get(p, p)  # noqa: E731
    assert create({"HostConfig": {"Binds": ["/tmp/innocent:/x"]}}, resolve=resolve).rules == ("docker.container.create.docker_socket",)
    assert create({"HostConfig": {"Binds": ["/tmp/also:/x"]}}, resolve=resolve).rules == ("docker.container.create",)


def test_the_sessions_own_daemon_socket_and_the_run_directories_above_it():
    sockets = ["/run/user/1000/docker.sock"]
    assert touches_engine_socket("/run/user/1000", engine_sockets=sockets)
    assert touches_engine_socket("/srv/sockets/engine", resolve=lambda p: "/run/user/1000/docker.sock", engine_sockets=sockets)
    assert not touches_engine_socket("/home/user/project", engine_sockets=sockets)


def test_volume_and_service_create_that_hide_a_bind_of_the_socket():
    volume = classify("POST", "/v1.41/volumes/create", json.dumps({"Name": "v", "DriverOpts": {"type": "none", "o": "bind", "device": "/var/run"}}).encode())
    assert volume.rules == ("docker.container.create.docker_socket",)
    plain = classify("POST", "/v1.41/volumes/create", json.dumps({"Name": "v"}).encode())
    assert plain.rules == ("docker.volume.create",)
    service = {"Name": "s", "TaskTemplate": {"ContainerSpec": {"Image": "x", "Mounts": [{"Type": "bind", "Source": "/var/run/docker.sock", "Target": "/s"}]}}}
    assert classify("POST", "/v1.41/services/create", json.dumps(service).encode()).rules == ("docker.container.create.docker_socket",)


def test_route_path_strips_the_version_and_refuses_unclean_paths():
    assert route_path("/v1.41/containers/x/stop") == "/containers/x/stop"
    assert route_path("/containers/x/stop") == "/containers/x/stop"
    assert route_path("/v1.41/v1.40/containers/x/stop") == "/v1.40/containers/x/stop"
    assert route_path("/containers/./x/stop") is None
    assert route_path("containers/x/stop") is None
    assert route_path("/containers/x%00/stop") is None


def test_shown_text_names_method_path_and_what_made_it_risky():
    call = create({"HostConfig": {"Privileged": True}})
    assert call.shown == "POST /v1.41/containers/create?name=box (privileged)"
