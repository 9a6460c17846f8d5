"""The session's resident broker: verdicts, approvals, grants and the audit log, in one process."""
