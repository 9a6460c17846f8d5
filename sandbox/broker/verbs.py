"""What the broker answers: one method per verb, over a session loaded once.

    ping                                   0: the broker is alive
    stats                                  how many requests of each verb it answered (VERB=N words),
                                           and done=N: how many stub calls' ends it recorded
    hook SHELL SCOPE CWD TEXT [STUBBED]    a bash/zsh hook's question (see hooks.slowpath); STUBBED names
                                           the programs that reach the session's stubs in that shell
    stub PID CWD ENV PROGRAM ARGS...       a stub's call: judge, approve, audit; `exec` when allowed outright
    api TOKEN PIDS METHOD PATH RULE TARGETS SHOWN  the Docker API guard's question; TOKEN is the
                                           guard's own, which the session never sees
    assistant NAME CWD PAYLOAD             an assistant's own pre-execution hook

An allowed `stub` request keeps its connection while the program runs. An
approved program's stub sends the exit status on it (STATUS\0): an exit
event, and its grants end. A program allowed outright holds the connection
itself, and its end is recorded without a status when it closes. No verb
records an end: only the connection of the call itself can.
"""

from __future__ import annotations

import hmac
import os
import secrets
import sys
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .. import audit
from ..hooks import slowpath as hook_slowpath
from ..policy import Decision, Finding, Verdict, decide_text
from ..policy.packs import ALL_RULES
from ..policy.profile import policy_from
from ..session.record import GUARDED_PROGRAMS, Session
from ..stub import slowpath as stub_slowpath
from .enforce import GateResult, gate, record_exit, session_context
from .grants import ProcessGrants
from .scripts import PlanCache, ScriptFile
from .server import Channel, ErrStream

UNKNOWN_API_RULE = "docker.unknown"
STUBBED_PROGRAMS = frozenset(GUARDED_PROGRAMS)


@dataclass
class Judgement:
    """An assistant hook's verdict, as the adapters render it for the model."""

    allowed: bool
    verdict: str
    rule: str
    reason: str | None
    alternative: str | None
    decided_by: str | None
    note: str | None
    message: str


class Broker:
    def __init__(self, session: Session):
        self.session = session
        self.policy = policy_from(session.profile)
        self.grants = ProcessGrants()
        # Given to the guard alone (it runs outside the sandbox): the session reads the broker's
        # secret, so a rule named in an `api` request is taken only from the guard.
        self.guard_token = secrets.token_hex(16)
        self.script_plans = PlanCache()
        self.counts: Counter[str] = Counter()
        self._counts_lock = threading.Lock()

    # -- dispatch ---------------------------------------------------------------------------------

    def handle(self, verb: str, args: list[str], channel: Channel) -> int:
        method = getattr(self, f"verb_{verb}", None)
        if method is not None and verb != "stats":
            with self._counts_lock:
                self.counts[verb] += 1
        if method is None:
            channel.send("err", f"wingman-run: the session's broker does not know `{verb}`\n")
            return 2
        return method(args, channel)

    def _gate(self, decision: Decision, channel: Channel, *, layer: str, argv, cwd: str,
              shown: str | None = None, stream=None) -> GateResult:
        if decision.verdict is Verdict.ASK:
            channel.send("hold")  # a human may take minutes: the client waits with its long timeout
        return gate(self.session, decision, layer=layer, argv=argv, cwd=cwd, shown=shown,
                    stream=stream or ErrStream(channel), cancelled=channel.client_left)

    # -- verbs ------------------------------------------------------------------------------------

    def verb_ping(self, args: list[str], channel: Channel) -> int:
        return 0

    def verb_stats(self, args: list[str], channel: Channel) -> int:
        with self._counts_lock:
            channel.send("out", " ".join(f"{verb}={count}" for verb, count in sorted(self.counts.items())))
        return 0

    def verb_hook(self, args: list[str], channel: Channel) -> int:
        if len(args) not in (4, 5) or args[1] not in hook_slowpath.SCOPES:
            return _usage(channel, "hook SHELL script|command CWD TEXT [STUBBED]")
        shell, scope, cwd, text = args[:4]
        stubbed = frozenset(args[4].split()) & STUBBED_PROGRAMS if len(args) == 5 else frozenset()
        if scope == "file":
            return self._hook_file(shell, cwd, text, channel)
        ctx = session_context(self.session, cwd)
        plan = hook_slowpath.plan(shell, scope, text, self.policy, ctx, stubbed)
        allowed = plan.decision.verdict is Verdict.ALLOW
        if plan.gate:
            allowed = self._gate(plan.decision, channel, layer="hook", argv=plan.argv, cwd=cwd, shown=text).allowed
        if plan.words is not None:
            # A script runs; its risky commands are checked one by one as they come.
            channel.send("words", plan.words)
            return 0
        if not allowed and scope == "command":
            channel.send("name", hook_slowpath.lookup_name(text, shell, self.policy, ctx))
        return 0 if allowed else 1

    def _hook_file(self, shell: str, cwd: str, path: str, channel: Channel) -> int:
        """A script file: read here, planned as a script; the plan kept while the file is unchanged."""
        path = os.path.join(cwd, path)
        key = ScriptFile.key_of(path)
        words = self.script_plans.get(key) if key else None
        if words is not None:
            channel.send("words", words)
            return 0
        script = ScriptFile.read(path)
        if script is None:
            channel.send("words", hook_slowpath.EVERY_WORD)  # unreadable here: every command is checked
            return 0
        status = self.verb_hook([shell, "script", cwd, script.text], channel)
        if status == 0 and channel.last_words is not None:
            self.script_plans.put(script.key, channel.last_words)
        return status

    def verb_stub(self, args: list[str], channel: Channel) -> int:
        if len(args) < 4:
            return _usage(channel, "stub PID CWD ENV PROGRAM [ARGS...]")
        pid, cwd, env_text, argv = args[0], args[1], args[2], args[3:]
        environ = stub_slowpath.parse_environment(env_text)
        decision = stub_slowpath.decide_call(argv, environ, self.session.docker_env, self.policy,
                                             session_context(self.session, cwd))
        result = self._gate(decision, channel, layer="stub", argv=argv, cwd=cwd)
        if not result.allowed:
            return 1
        if not self.session.real.get(argv[0]):
            channel.send("err", f"wingman-run: {argv[0]}: not installed outside the session\n")
            record_exit(self.session, result.event_id, "stub", 127)
            return 127
        if decision.verdict is Verdict.ALLOW:
            channel.send("exec")  # nothing to report back: the program may take the stub's place
        else:
            # Approved: the API calls this process makes for it pass the guard without asking again.
            self.grants.add(_pid(pid), result.event_id, {f.rule for f in decision.findings})
        self._expect_exit(channel, result.event_id, pid)
        return 0

    def _expect_exit(self, channel: Channel, event_id: str, pid: str) -> None:
        """The stub reports its program's exit status on this connection once the program has ended.

        The connection closing without one (None) is an end too: an allowed call
        the stub became (exec) ends so, and so does a stub that was killed. The
        monitor reads the end; the status stays unknown.
        """
        def ended(status: int | None) -> None:
            with self._counts_lock:
                self.counts["done"] += 1
            self.grants.end(_pid(pid), event_id)
            record_exit(self.session, event_id, "stub", status)

        channel.on_exit = ended

    def verb_api(self, args: list[str], channel: Channel) -> int:
        if len(args) != 7:
            return _usage(channel, "api TOKEN PIDS METHOD PATH RULE TARGETS SHOWN")
        if not hmac.compare_digest(args[0].encode(), self.guard_token.encode()):
            channel.send("err", "wingman-run: refused: only the session's Docker API guard may ask about API calls\n")
            return 1
        pids_text, method, path, rule_id, targets_text, shown = args[1:]
        rule = ALL_RULES.get(rule_id) or ALL_RULES[UNKNOWN_API_RULE]
        targets = [t for t in targets_text.split("\n") if t]
        verdict = self.policy.verdict_for(rule)
        finding = Finding((method, path), verdict, rule.id, rule.reason, rule.alternative,
                          ", ".join(targets) or None)
        decision = Decision.combine([finding])
        pids = [_pid(p) for p in pids_text.split()]
        granted = verdict is not Verdict.ALLOW and self.grants.covers(pids, rule.id)
        if granted:
            event = audit.decision_event(session=self.session.id, layer="guard", argv=[method, path],
                                         cwd="/", verdict=verdict.value, rule=rule.id, command=shown,
                                         approval={"status": "GRANTED", "event": granted})
            return 0 if self._append(event, channel, [method, path]) else 1
        return 0 if self._gate(decision, channel, layer="guard", argv=[method, path], cwd="/", shown=shown).allowed else 1

    def verb_assistant(self, args: list[str], channel: Channel) -> int:
        if len(args) != 3:
            return _usage(channel, "assistant NAME CWD PAYLOAD")
        name, cwd, payload = args
        try:
            from ..assistants import answer
        except ImportError:
            channel.send("err", "wingman-run: this session has no assistant adapters; refused.\n")
            return 2
        stdout, stderr, status = answer(name, payload, cwd, lambda text, where: self._judge(text, where, channel))
        if stdout:
            channel.send("out", stdout)
        if stderr:
            channel.send("err", stderr)
        return status

    def _judge(self, text: str, cwd: str, channel: Channel) -> Judgement:
        ctx = session_context(self.session, cwd)
        decision = decide_text(text, self.policy, ctx)
        message = _Capture()
        if decision.verdict is Verdict.ALLOW and not hook_slowpath.guarded(decision):
            return Judgement(True, "allow", decision.rule, None, None, None, None, "")
        argv = hook_slowpath.deciding_argv(decision, "bash", text)
        result = self._gate(decision, channel, layer="assistant", argv=argv, cwd=cwd, shown=text, stream=message)
        approval = result.approval or {}
        return Judgement(result.allowed, decision.verdict.value, decision.rule, decision.reason,
                         decision.alternative, approval.get("decided_by"), approval.get("note"), message.text)

    # -- helpers ----------------------------------------------------------------------------------

    def _append(self, event: dict, channel: Channel, argv) -> bool:
        try:
            audit.append(Path(self.session.audit_log), event)
            return True
        except OSError as exc:
            channel.send("err", f"wingman-run: refused: {' '.join(argv)}\n  the audit log {self.session.audit_log} cannot be "
                                f"written ({exc.strerror}); every decision must be recorded, so nothing runs until "
                                f"it can be.\n")
            return False


class _Capture:
    """Keeps what the gate says for the assistant's model, and shows it on the session's terminal too:
    a human deciding an approval must see the request while the assistant's hook waits."""

    def __init__(self):
        self.text = ""

    def write(self, text: str) -> int:
        self.text += text
        try:
            sys.stderr.write(text)
            sys.stderr.flush()
        except (OSError, ValueError):
            pass
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def _pid(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return -1


def _usage(channel: Channel, usage: str) -> int:
    channel.send("err", f"wingman-run: a bad request to the session's broker (usage: {usage})\n")
    return 2
