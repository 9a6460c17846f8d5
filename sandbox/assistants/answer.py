"""The broker's `assistant` verb: a hook payload in, the assistant's own answer out.

    answer(name, payload, cwd, judge) -> (stdout, stderr, exit status)

`judge(command_text, cwd)` runs the policy, the approval round trip and the
audit, and returns the verdict. A payload that is not a shell-tool call is
allowed without judging; one that cannot be read is refused (fail closed).
"""

from __future__ import annotations

import json

from .formats import FORMATS, BadPayload, refusal_text


def answer(name: str, payload: str, cwd: str, judge) -> tuple[str, str, int]:
    fmt = FORMATS.get(name)
    if fmt is None:
        return "", f"wingman-run: refused: no hook format is known for assistant {name!r}\n", 2
    try:
        data = json.loads(payload)
        if not isinstance(data, dict):
            raise BadPayload("it is not a JSON object")
        call = fmt.shell_call(data)
    except (ValueError, BadPayload) as exc:
        return fmt.deny(f"wingman-run: refused: the {fmt.title} hook's input cannot be read ({exc}), so the "
                        "command cannot be judged and does not run. Report this with your assistant's version.")
    if call is None:
        return fmt.allow(None)
    try:
        verdict = judge(call.command, call.cwd or cwd)
    except Exception as exc:  # the guard broke: nothing runs unjudged
        return fmt.deny(f"wingman-run: refused: {call.command}\n  the session could not judge it "
                        f"({type(exc).__name__}: {exc}); nothing runs until it can.")
    if verdict.allowed:
        return fmt.allow(verdict)
    return fmt.deny(refusal_text(verdict, call.command))
