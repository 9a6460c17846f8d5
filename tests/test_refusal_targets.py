"""A refusal names the objects the daemon knows, and says "no such container" for a name it does not."""

from __future__ import annotations

import os

from fixtures_engine import DOCKER, names
from sandbox.approvals.targets import exists, touched_objects
from sandbox.policy import Context, Policy, decide_argv
from sandbox.render import refusal

CTX = Context(cwd="/tmp", project_dir="/tmp", home="/root")
ENV = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}


def test_refusal_names_existing_objects_and_says_no_such_for_the_rest(engine):
    ghost = names.unique("ghost")  # this run's prefix: no other run has it, and this run never makes it
    argv = ["docker", "stop", names["victim"], ghost]
    victim, missing = touched_objects(DOCKER, ENV, argv)
    assert exists(victim) and victim.id and "state running" in victim.detail
    assert not exists(missing) and missing.detail == "no such container"
    text = refusal(decide_argv(argv, Policy(), CTX), " ".join(argv), targets=(victim, missing))
    assert f"  touches:  container {names['victim']} (id {victim.id[:12]}), state running" in text
    assert f"\n            container {ghost}, no such container\n" in text


def test_refusal_of_a_missing_container_does_not_name_it_as_if_it_existed(engine):
    absent = names.unique("absent")
    argv = ["docker", "rm", "-f", absent]
    (target,) = touched_objects(DOCKER, ENV, argv)
    text = refusal(decide_argv(argv, Policy(), CTX), " ".join(argv), targets=(target,))
    assert f"  touches:  container {absent}, no such container\n" in text
    assert f"touches:  {absent}\n" not in text


def test_an_argv_naming_no_object_has_no_targets(engine):
    assert touched_objects(DOCKER, ENV, ["docker", "system", "prune", "-af"]) == ()
