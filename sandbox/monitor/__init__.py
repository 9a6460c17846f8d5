"""The monitor: the daemon's event stream set against the audit log, so a bypass of every layer is still seen.

    events     pure: which engine events are destructive, and which the engine caused itself
    decisions  pure: the audit log's decisions, and whether one covers an event
    judge      pure: event + history + decisions -> unapproved or not
    engine     I/O: the Engine API (events stream, inspect) over the session's daemon
    tail       I/O: new lines of audit logs
    report     I/O: the audit event, the terminal line, Wingman's /log_claim
    watcher    the loop: reconnects, reports gaps
    launch     start and stop it beside the broker in the launcher
"""
