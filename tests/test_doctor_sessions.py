"""Session directories: gone when the session ends, kept while something it left uses them, pruned later."""

from __future__ import annotations

import time


def session_dirs(home) -> list:
    root = home.root / "run" / "sessions"
    return sorted(root.iterdir()) if root.is_dir() else []


def test_a_session_directory_goes_at_the_end_unless_a_process_left_behind_still_uses_it(wingman_home, tmp_path):
    (tmp_path / ".wingman.yaml").write_text("isolation: off\n")  # behind isolation nothing outlives the session
    assert wingman_home.run("--", "true", cwd=tmp_path).returncode == 0
    assert session_dirs(wingman_home) == []
    result = wingman_home.run("--", "sh", "-c", "nohup sleep 3 >/dev/null 2>&1 & echo started", cwd=tmp_path)
    assert result.stdout.strip() == "started"
    kept = session_dirs(wingman_home)
    assert len(kept) == 1  # the background sleep carries WINGMAN_SESSION_DIR: its docker calls need the stubs
    listed = wingman_home.sandbox("sessions")
    assert kept[0].name in listed.stdout and "still used by pid" in listed.stdout
    assert "removed 0" in wingman_home.sandbox("sessions", "--prune").stdout and session_dirs(wingman_home) == kept
    time.sleep(3.5)
    pruned = wingman_home.sandbox("sessions", "--prune")
    assert "removed 1" in pruned.stdout and session_dirs(wingman_home) == []
