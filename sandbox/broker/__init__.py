"""The session's resident broker: verdicts, approvals, grants and the audit log, in one process.

It lives in the launcher (`wingman-run`), the session's parent, for the whole
session: the policy core, the profile and the session record are loaded
once, and every layer asks it over a private channel instead of starting a
process of its own.
"""
