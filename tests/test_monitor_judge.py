"""The monitor's pure logic: which engine events are unapproved, which the engine made, which a decision covers."""

from __future__ import annotations

from sandbox.monitor.decisions import Decisions, iso
from sandbox.monitor.events import History, parse_event
from sandbox.monitor.judge import judge

T = 1_800_000_000.0
CID = "3ea6f67966699d23d7ad5bd6f405aa1b206f879b3a904bc364d761274b4e9de5"


def event(action, *, kind="container", at=0.0, name="db", ident=CID, **attributes):
    return parse_event({"Type": kind, "Action": action, "timeNano": int((T + at) * 1e9),
                        "Actor": {"ID": ident, "Attributes": {"name": name, **attributes}}})


def decision(argv, rule, *, verdict="allow", at=-1.0, layer="stub", status=None, command=None, exit=0,
             cwd="/src/app"):
    out = {"time": iso(T + at), "event": "decision", "id": f"s.1.{abs(hash((tuple(argv), at)))}", "session": "s",
           "layer": layer, "argv": argv, "cwd": cwd, "verdict": verdict, "rule": rule, "exit": exit}
    if status:
        out["approval"] = {"status": status}
    if command:
        out["command"] = command
    return out


def verdicts(events, audit=()):
    history, decisions = History(), Decisions()
    for line in audit:
        decisions.add(line)
    out = []
    for ev in events:
        found = judge(ev, history, decisions)
        history.observe(ev)
        out.append(None if found is None else found.unapproved)
    return out


def test_a_stop_nobody_decided_is_unapproved_and_its_die_follows_it():
    assert verdicts([event("kill", signal="15"), event("die", at=0.1, exitCode="143"), event("stop", at=0.2)]) \
        == [True, False, True]


def test_a_process_that_exits_on_its_own_is_the_engines_doing():
    assert verdicts([event("die", exitCode="0"), event("die", at=5, exitCode="3")]) == [False, False]


def test_a_die_by_signal_without_any_kill_is_unapproved():
    assert verdicts([event("die", exitCode="137")]) == [True]


def test_oom_kill_is_the_engines_doing():
    assert verdicts([event("oom"), event("die", at=0.1, exitCode="137")]) == [None, False]


def test_rm_container_removed_after_it_exits_is_not_reported():
    history = History()
    history.set_auto_remove(CID, True)
    decisions = Decisions()
    die, destroy = event("die", exitCode="0"), event("destroy", at=0.3)
    assert judge(die, history, decisions).unapproved is False
    history.observe(die)
    assert judge(destroy, history, decisions).unapproved is False


def test_a_removal_long_after_the_exit_is_unapproved_even_for_rm_containers():
    history = History()
    history.set_auto_remove(CID, False)
    die, destroy = event("die", exitCode="0"), event("destroy", at=0.3)
    history.observe(die)
    assert judge(destroy, history, Decisions()).unapproved is True


def test_an_allowed_or_approved_decision_naming_the_object_covers_it():
    stop = [event("kill", signal="15"), event("die", at=0.1, exitCode="143"), event("stop", at=0.2)]
    approved = decision(["docker", "stop", "db"], "docker.container.stop", verdict="ask", status="APPROVED")
    assert verdicts(stop, [approved]) == [False, False, False]
    weakened = decision(["docker", "stop", "db"], "docker.container.stop", verdict="allow")
    assert verdicts(stop, [weakened]) == [False, False, False]
    by_id = decision(["docker", "stop", CID[:6]], "docker.container.stop", verdict="ask", status="GRANTED")
    assert verdicts(stop[:1], [by_id]) == [False]
    guard = decision(["POST", "/v1.41/containers/db/stop"], "docker.container.stop", layer="guard",
                     verdict="ask", status="AUTO_APPROVED", command="POST /v1.41/containers/db/stop", exit=None)
    assert verdicts(stop[:1], [guard]) == [False]


def test_refused_decisions_reads_other_objects_and_old_decisions_cover_nothing():
    kill = [event("kill", signal="9")]
    assert verdicts(kill, [decision(["docker", "stop", "db"], "docker.container.stop", verdict="ask",
                                    status="REJECTED")]) == [True]
    assert verdicts(kill, [decision(["docker", "logs", "db"], "docker.container.logs")]) == [True]
    assert verdicts(kill, [decision(["docker", "stop", "web"], "docker.container.stop")]) == [True]
    assert verdicts(kill, [decision(["docker", "stop", "db"], "docker.container.stop", at=-30)]) == [True]
    assert verdicts(kill, [decision(["docker", "stop", "db"], "docker.container.stop", at=+5)]) == [True]


def test_a_decision_covers_only_what_its_rule_can_do():
    destroy = [event("destroy")]
    assert verdicts(destroy, [decision(["docker", "stop", "db"], "docker.container.stop")]) == [True]
    assert verdicts(destroy, [decision(["docker", "rm", "-f", "db"], "docker.container.rm")]) == [False]


def test_a_stub_command_still_running_covers_until_it_ends():
    running = decision(["docker", "stop", "-t", "30", "db"], "docker.container.stop", at=-25, exit=None)
    assert verdicts([event("stop")], [running]) == [False]
    ended = {"time": iso(T - 20), "event": "exit", "id": running["id"], "session": "s", "layer": "stub", "exit": 0}
    assert verdicts([event("stop")], [running, ended]) == [True]


def test_a_prune_covers_what_it_removes_without_naming_it():
    removed = [event("destroy", name="old"), event("prune", name=None)]
    prune = decision(["docker", "container", "prune", "-f"], "docker.container.prune", verdict="ask",
                     status="APPROVED")
    assert verdicts(removed, [prune]) == [False, False]
    assert verdicts(removed) == [True, True]


def test_compose_covers_its_own_project_only():
    labelled = {"com.docker.compose.project": "app"}
    recreate = [event("kill", signal="15", **labelled), event("destroy", at=0.5, **labelled),
                event("rename", at=0.6, ident="f" * 64, name="app-web-1", **labelled)]
    up = decision(["docker", "compose", "up", "-d"], "docker.compose.up", cwd="/src/app")
    assert verdicts(recreate, [up]) == [False, False, False]
    other = decision(["docker", "compose", "-p", "other", "up", "-d"], "docker.compose.up", cwd="/src/app")
    assert verdicts(recreate, [other]) == [True, True, True]
    network = [event("destroy", kind="network", name="app_default", ident="a" * 64)]
    assert verdicts(network, [decision(["docker", "compose", "down"], "docker.compose.down", verdict="ask",
                                       status="APPROVED", cwd="/src/app")]) == [False]


def test_a_tag_moved_by_a_build_is_not_reported():
    untag = [event("untag", kind="image", name="web:latest", ident="sha256:" + "b" * 64)]
    assert verdicts(untag, [decision(["docker", "build", "-t", "web", "."], "docker.image.build")]) == [False]
    assert verdicts(untag) == [True]


def test_events_that_change_nothing_are_not_judged():
    assert verdicts([event("create"), event("start")]) == [None, None]
