"""Loading the Wingman settings: URL, keys from the environment or a private key file."""

from __future__ import annotations

import os
import stat

import pytest

from sandbox.approvals.config import (
    ApprovalConfigError, WingmanSettings, load_settings, parse_key_file, read_settings, save_settings,
)

REQ, READ, LEGACY = "req-abcdef123456", "read-abcdef123456", "legacy-abcdef123456"
WINGMAN = {"backend": "wingman", "wingman": {"url": "http://127.0.0.1:5002"}}


def key_file(path, text, mode=0o600):
    path.write_text(text)
    path.chmod(mode)
    return path


def test_no_backend_means_none(tmp_path):
    assert load_settings({"backend": "none"}, {"WINGMAN_API_URL": "http://x:1"}, tmp_path) is None
    assert load_settings({}, {}, tmp_path) is None


def test_url_from_profile_or_environment(tmp_path):
    assert load_settings(WINGMAN, {}, tmp_path).url == "http://127.0.0.1:5002"
    settings = load_settings({}, {"WINGMAN_API_URL": "http://wingman.local:8101/"}, tmp_path)
    assert settings.url == "http://wingman.local:8101"


def test_backend_wingman_without_url_is_an_error(tmp_path):
    with pytest.raises(ApprovalConfigError, match="WINGMAN_API_URL"):
        load_settings({"backend": "wingman"}, {}, tmp_path)


@pytest.mark.parametrize("url", ["ftp://x", "127.0.0.1:5002", "http://user:pw-secret@host:1", "http://h:1/?k=v"])
def test_bad_urls_are_refused_without_echoing_credentials(tmp_path, url):
    with pytest.raises(ApprovalConfigError) as info:
        load_settings({"wingman": {"url": url}}, {}, tmp_path)
    assert "pw-secret" not in str(info.value)


def test_profile_values_and_defaults(tmp_path):
    approvals = {"backend": "wingman", "timeout_seconds": 60, "poll_seconds": 0.5, "reuse_seconds": 30,
                 "wingman": {"url": "http://h:1", "deployment_env": "prd"}}
    s = load_settings(approvals, {}, tmp_path)
    assert (s.timeout_seconds, s.poll_seconds, s.reuse_seconds, s.deployment_env) == (60, 0.5, 30, "prd")
    d = load_settings(WINGMAN, {}, tmp_path)
    assert (d.timeout_seconds, d.poll_seconds, d.reuse_seconds, d.deployment_env) == (300, 2, 0, "development")


def test_keys_from_environment(tmp_path):
    env = {"WINGMAN_APPROVAL_REQUEST_KEY": REQ, "WINGMAN_APPROVAL_READ_KEY": READ, "WINGMAN_APPROVAL_API_KEY": LEGACY}
    s = load_settings(WINGMAN, env, tmp_path)
    assert (s.request_key, s.read_key, s.legacy_key) == (REQ, READ, LEGACY)


def test_keys_from_default_key_file_and_environment_wins(tmp_path):
    key_file(tmp_path / "wingman-keys", f"# keys\nexport WINGMAN_APPROVAL_REQUEST_KEY='{REQ}'\n"
                                        f"WINGMAN_APPROVAL_READ_KEY=\"{READ}\"\n")
    s = load_settings(WINGMAN, {}, tmp_path)
    assert (s.request_key, s.read_key) == (REQ, READ)
    s = load_settings(WINGMAN, {"WINGMAN_APPROVAL_READ_KEY": "from-env-123"}, tmp_path)
    assert s.read_key == "from-env-123"


def test_configured_key_file(tmp_path):
    path = key_file(tmp_path / "elsewhere", f"WINGMAN_APPROVAL_API_KEY={LEGACY}\n")
    approvals = {"wingman": {"url": "http://h:1", "key_file": str(path)}}
    assert load_settings(approvals, {}, tmp_path / "nope").legacy_key == LEGACY
    with pytest.raises(ApprovalConfigError, match="does not exist"):
        load_settings({"wingman": {"url": "http://h:1", "key_file": str(tmp_path / "missing")}}, {}, tmp_path)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_key_file_readable_by_others_is_refused_with_the_fix(tmp_path, mode):
    path = key_file(tmp_path / "wingman-keys", f"WINGMAN_APPROVAL_REQUEST_KEY={REQ}\n", mode)
    with pytest.raises(ApprovalConfigError) as info:
        load_settings(WINGMAN, {}, tmp_path)
    message = str(info.value)
    assert f"chmod 600 {path}" in message and REQ not in message


def test_key_file_errors_never_echo_values(tmp_path):
    key_file(tmp_path / "wingman-keys", f"{REQ}\n")
    with pytest.raises(ApprovalConfigError) as info:
        load_settings(WINGMAN, {}, tmp_path)
    assert REQ not in str(info.value) and "line 1" in str(info.value)
    with pytest.raises(ApprovalConfigError, match="unknown name"):
        parse_key_file(f"SOMETHING_ELSE={REQ}")


def test_keys_with_control_characters_are_refused(tmp_path):
    with pytest.raises(ApprovalConfigError, match="WINGMAN_APPROVAL_REQUEST_KEY") as info:
        load_settings(WINGMAN, {"WINGMAN_APPROVAL_REQUEST_KEY": "abc\r\nX-Evil: 1"}, tmp_path)
    assert "Evil" not in str(info.value)


def test_repr_hides_keys_and_redact_removes_them():
    s = WingmanSettings(url="http://h:1", request_key=REQ, read_key=READ, legacy_key=LEGACY)
    assert REQ not in repr(s) and READ not in repr(s) and LEGACY not in repr(s)
    assert REQ not in s.redact(f"echoed {REQ} and {LEGACY}")


def test_settings_round_trip_through_a_private_file(tmp_path):
    s = WingmanSettings(url="http://h:1", request_key=REQ, read_key=READ, poll_seconds=0.5, timeout_seconds=9,
                        deployment_env="test", reuse_seconds=5)
    assert WingmanSettings.from_json(s.to_json()) == s
    path = tmp_path / "approvals.json"
    save_settings(path, s)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert read_settings(path) == s
    path.chmod(0o644)
    with pytest.raises(ApprovalConfigError, match="chmod 600"):
        read_settings(path)


@pytest.mark.parametrize("text", ["not json", "[]", '{"url": 1}', '{"url": "http://h:1", "poll_seconds": 0}'])
def test_from_json_refuses_damaged_settings(text):
    with pytest.raises(ApprovalConfigError):
        WingmanSettings.from_json(text)
