"""wingman-sandbox: look at what wingman-run decides and did.

    wingman-sandbox check [--profile P] [--json] 'COMMAND STRING'
    wingman-sandbox log [--json] [--session ID | --all] [-n N] [--follow]
    wingman-sandbox profiles
    wingman-sandbox approvals [--session ID] [--json]
    wingman-sandbox rules [--profile P]
    wingman-sandbox monitor [--since T] [--until T] [--audit PATH] [--json]
    wingman-sandbox doctor [--profile P] [--json]
    wingman-sandbox sessions [--prune]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from .. import __version__, audit
from ..policy import Context, ProfileError, Verdict, decide_text
from ..policy.packs import ALL_RULES, pack_of_rule
from ..session.profiles import find_project_profile, named_profiles, resolve
from ..render import command_text

CHECK_STATUS = {Verdict.ALLOW: 0, Verdict.DENY: 1, Verdict.ASK: 3}


def _profile_or_exit(selector: str | None):
    try:
        return resolve(selector, Path.cwd())
    except ProfileError as exc:
        sys.stderr.write(f"wingman-sandbox: profile error: {exc}\n")
        raise SystemExit(2)


def _session_profile():
    """Inside a session, the profile recorded at its start is the one in force."""
    directory = os.environ.get("WINGMAN_SESSION_DIR")
    if not directory:
        return None
    from ..session.record import Session

    try:
        return Session.load(Path(directory))
    except (OSError, ValueError, TypeError):
        return None


def cmd_check(opts) -> int:
    session = None if opts.profile else _session_profile()
    if session is not None:
        from ..broker.enforce import session_context, session_policy

        policy, ctx, name = session_policy(session), session_context(session, os.getcwd()), session.profile_name
    else:
        profile = _profile_or_exit(opts.profile)
        policy, name = profile.policy, profile.name
        ctx = Context(cwd=os.getcwd(), project_dir=profile.project_dir, home=os.path.expanduser("~"),
                      docker_host=os.environ.get("DOCKER_HOST"), docker_context=os.environ.get("DOCKER_CONTEXT"))
    decision = decide_text(opts.command, policy, ctx)
    if opts.json:
        print(json.dumps({**decision.to_json(), "profile": name}, indent=None))
    else:
        print(f"{decision.verdict.value}: {decision.rule}: {decision.reason}")
        if decision.alternative:
            print(f"  instead: {decision.alternative}")
        for finding in decision.findings:
            print(f"  - {command_text(finding.argv)}: {finding.verdict.value} ({finding.rule})"
                  + (f" [{finding.detail}]" if finding.detail else ""))
        print(f"  profile: {name}")
    return CHECK_STATUS[decision.verdict]


def _log_session(opts) -> str | None:
    """The session whose events to show: --session, else the one we run inside unless --all."""
    if opts.session:
        return opts.session
    inside = os.environ.get("WINGMAN_SESSION")
    if inside and not opts.all:
        sys.stderr.write(f"wingman-sandbox log: this session's events ({inside}); --all for every session\n")
        return inside
    return None


def cmd_log(opts) -> int:
    path = audit.resolve_audit_path(None, os.environ)
    opts.session = _log_session(opts)
    if opts.follow:
        if not opts.json:
            print(HEADER, flush=True)
        try:
            for event in audit.follow(path):
                if opts.session and event.get("session") != opts.session:
                    continue
                _print_events([event], opts.json)
                sys.stdout.flush()
        except KeyboardInterrupt:
            return 0
    events = list(audit.read_events(path))
    if opts.session:
        events = [e for e in events if e.get("session") == opts.session or e.get("event") == "unreadable"]
    if opts.json:
        events = events[-opts.n:] if opts.n else events
        for event in events:
            print(json.dumps(event, separators=(",", ":")))
        return 0
    rows = audit.merge_exits(events)
    rows = rows[-opts.n:] if opts.n else rows
    print(HEADER)
    _print_events(rows, False)
    return 0


HEADER = f"{'TIME':19}  {'SESSION':7}  {'LAYER':5}  {'VERDICT':7}  {'RULE':30}  {'EXIT':>4}  COMMAND"


def _row(event: dict) -> str:
    if event.get("event") == "unreadable":
        return f"(line {event.get('line')} of the log is not JSON: {event.get('raw', '')[:80]})"
    if event.get("event") == "exit":
        verdict, rule, shown = "", "", f"(exit of {event.get('id', '')[-12:]})"
    elif event.get("event") == "unapproved":  # the monitor: a daemon event no decision let happen
        closest = event.get("closest") or {}
        verdict, rule = "UNAPPR", event.get("action", "")
        shown = f"{event.get('object', '')} on {event.get('daemon', '')}" + (
            f" (closest: {closest.get('layer')} {closest.get('approval') or closest.get('verdict')} "
            f"`{closest.get('command', '')}`)" if closest else " (no decision names it)")
    elif event.get("event") == "unwatched":
        verdict, rule, shown = "GAP", "", f"{event.get('daemon', '')} {event.get('message', '')}"
    else:
        verdict, rule = event.get("verdict", ""), event.get("rule", "")
        shown = event.get("command") or command_text(event.get("argv", []))
        shown = shown.replace("\n", " \u23ce ")  # one row per event, even for multi-line strings
    status = str(event["exit"]) if event.get("exit") is not None else "-" if event.get("ended") else ""
    return (f"{_when(event):19}  {event.get('session', '')[-6:]:7}  {event.get('layer', ''):5}  {verdict:7}  "
            f"{rule:30}  {status:>4}  {shown}")


def _print_events(events: list[dict], as_json: bool) -> None:
    for event in events:
        print(json.dumps(event, separators=(",", ":")) if as_json else _row(event))


def _when(event: dict) -> str:
    stamp = event.get("time", "")
    try:
        seconds = time.mktime(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
        return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(seconds))
    except ValueError:
        return stamp[:19]


def cmd_profiles(opts) -> int:
    cwd = Path.cwd()
    project = find_project_profile(cwd)
    print("profiles:")
    for name, path, origin in named_profiles():
        print(f"  {name:12} {origin:9} {path}")
    if project:
        print(f"  {'(project)':12} {'project':9} {project}")
    try:
        applied = resolve(None, cwd)
        print(f"applies here: {applied.name}  (read: {', '.join(applied.sources)})")
        print(f"  level {applied.policy.level}, project directory {applied.project_dir}")
    except ProfileError as exc:
        print(f"applies here: none: {exc}")
        print("  wingman-run refuses to start here until the profile is fixed")
        return 2
    return 0


def cmd_approvals(opts) -> int:
    """This session's approval requests (or another session's, by id) and how they ended."""
    from ..approvals import ledger
    from ..session.record import runtime_root

    if opts.session:
        directory = runtime_root() / "sessions" / opts.session
    elif os.environ.get("WINGMAN_SESSION_DIR"):
        directory = Path(os.environ["WINGMAN_SESSION_DIR"])
    else:
        sys.stderr.write("wingman-sandbox approvals: not inside a session; name one with --session ID "
                         "(ids are in wingman-sandbox log)\n")
        return 2
    if not directory.is_dir():
        sys.stderr.write(f"wingman-sandbox approvals: no session {directory.name}\n")
        return 2
    entries = ledger.entries(directory)
    if opts.json:
        for entry in entries:
            print(json.dumps(entry, separators=(",", ":")))
        return 0
    if not entries:
        print("no approval requests in this session")
    for entry in entries:
        when = time.strftime("%H:%M:%S", time.localtime(entry.get("time", 0)))
        request = (entry.get("request_id") or "-")[:8]
        who = f" by {entry['decided_by']}" if entry.get("decided_by") else ""
        note = f": {entry['note']}" if entry.get("note") else ""
        waited = entry.get("waited_seconds") or 0
        print(f"{when}  {request:8}  {entry.get('status', ''):13} {waited:6.1f}s  {entry.get('task_name', '')}{who}{note}")
    return 0


def cmd_rules(opts) -> int:
    profile = _profile_or_exit(opts.profile)
    policy = profile.policy
    for rule_id, rule in sorted(ALL_RULES.items()):
        if opts.all or rule.default is not Verdict.ALLOW or policy.verdict_for(rule) is not Verdict.ALLOW:
            pack = pack_of_rule(rule_id) or "core"
            print(f"{rule_id:40} {policy.verdict_for(rule).value:5}  [{pack}] {rule.reason}")
    return 0


def cmd_sessions(opts) -> int:
    """Session directories: live ones (their broker answers), and dead ones that --prune removes."""
    from ..session.cleanup import remove, sessions

    found = sessions()
    removed = 0
    for entry in found:
        if entry.live:
            state = "live"
        elif entry.users:
            state = f"ended, still used by pid {', '.join(map(str, entry.users[:5]))}"
        else:
            state = "ended"
        if opts.prune and not entry.live and not entry.users:
            try:
                remove(entry.path)
                removed += 1
                state = "ended, removed"
            except OSError as exc:
                state = f"ended, cannot remove ({exc.strerror})"
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.created))
        print(f"{entry.id:24}  {when}  {state}")
    if not found:
        print("no session directories")
    if opts.prune:
        print(f"removed {removed}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wingman-sandbox", description="Look at what wingman-run decides and did.")
    parser.add_argument("--version", action="version", version=f"wingman-sandbox {__version__}")
    sub = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    check = sub.add_parser("check", help="explain the verdict for a command line")
    check.add_argument("--profile", help="profile name or path (default: the one that applies here)")
    check.add_argument("--json", action="store_true", help="one JSON object")
    check.add_argument("command", help="the command line, as an assistant would run it")
    check.set_defaults(run=cmd_check)
    log = sub.add_parser("log", help="show the audit log")
    log.add_argument("--json", action="store_true", help="the raw JSON lines")
    log.add_argument("--session", help="only this session's events (inside a session: that one by default)")
    log.add_argument("--all", action="store_true", help="every session's events, even inside a session")
    log.add_argument("-n", type=int, default=0, help="only the last N")
    log.add_argument("--follow", action="store_true", help="keep printing new events")
    log.set_defaults(run=cmd_log)
    profiles = sub.add_parser("profiles", help="list profiles and say which applies here")
    profiles.set_defaults(run=cmd_profiles)
    approvals = sub.add_parser("approvals", help="this session's approval requests and their state")
    approvals.add_argument("--session", help="another session's id")
    approvals.add_argument("--json", action="store_true")
    approvals.set_defaults(run=cmd_approvals)
    rules = sub.add_parser("rules", help="list the rules that are not plain allow, with their verdicts")
    rules.add_argument("--profile")
    rules.add_argument("--all", action="store_true", help="list every rule")
    rules.set_defaults(run=cmd_rules)
    from ..monitor.command import add_parser as add_monitor

    add_monitor(sub)
    from ..doctor.command import add_parser as add_doctor

    add_doctor(sub)
    sessions = sub.add_parser("sessions", help="list session directories; --prune removes those of ended sessions")
    sessions.add_argument("--prune", action="store_true", help="remove the directories no live session or process uses")
    sessions.set_defaults(run=cmd_sessions)
    return parser


def main(args: list[str] | None = None) -> None:
    opts = build_parser().parse_args(args)
    try:
        raise SystemExit(opts.run(opts))
    except BrokenPipeError:
        raise SystemExit(0)


if __name__ == "__main__":
    main()
