"""Crash reports: what they hold, what they never hold, where they go."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from planton.crash_report import redact, render_crash_report, write_crash_report

MOMENT = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)


def failing(secret: str) -> BaseException:
    def inner() -> None:
        token = secret  # a local: reports never show locals
        raise RuntimeError("it broke " + token[:0])

    try:
        inner()
    except RuntimeError as err:
        return err
    raise AssertionError("unreachable")


def test_report_content() -> None:
    text = render_crash_report(failing("hunter2-secret"), ["planton", "tofu", "plan", "-f", "a b.yaml"], MOMENT)
    assert text.startswith("planton crash report: please attach this file to a bug report.\n")
    assert "time: 2026-11-25T12:00:00+00:00\n" in text
    assert "command: planton tofu plan -f 'a b.yaml'\n" in text
    assert "RuntimeError: it broke \n" in text
    assert 'raise RuntimeError("it broke " + token[:0])' in text
    assert "hunter2-secret" not in text  # the local's value


def test_redact_blanks_secret_looking_variables_longest_first() -> None:
    environ = {
        "AWS_SECRET_ACCESS_KEY": "abcd1234efgh",
        "MY_API_TOKEN": "abcd1234",
        "GITHUB_TOKEN": "ghp",  # too short to blank without damage
        "HOME": "/home/someone",  # not a secret's name
    }
    text = "key abcd1234efgh, token abcd1234, short ghp, home /home/someone"
    assert redact(text, environ) == (
        "key <AWS_SECRET_ACCESS_KEY redacted>, token <MY_API_TOKEN redacted>, short ghp, home /home/someone"
    )


@pytest.mark.parametrize(
    "name", ["AWS_SESSION_TOKEN", "TF_TOKEN_app_terraform_io", "DB_PASSWORD", "GOOGLE_CREDENTIALS", "X_AUTH"]
)
def test_redact_names(name: str) -> None:
    assert redact("value=s3cr3t-value", {name: "s3cr3t-value"}) == f"value=<{name} redacted>"


def test_written_to_the_state_directory_0600(tmp_path: Path) -> None:
    environ = {"XDG_STATE_HOME": str(tmp_path / "state"), "AWS_SECRET_ACCESS_KEY": "sekrit-value"}
    error = RuntimeError("leak sekrit-value")
    path = write_crash_report(error, ["planton"], environ, now=MOMENT)
    assert path.parent == tmp_path / "state" / "planton" / "crash-reports"
    assert path.name.startswith("crash-20261125T120000Z-")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert "leak <AWS_SECRET_ACCESS_KEY redacted>" in path.read_text(encoding="utf-8")


def test_falls_back_to_the_temporary_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "file").write_text("", encoding="utf-8")
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    path = write_crash_report(RuntimeError("x"), ["planton"], {"XDG_STATE_HOME": str(tmp_path / "file")}, now=MOMENT)
    assert path.parent == tmp_path / "tmp"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "secret",
    ["tab\there-secret", "back\\slash-secret", "quote\"and'apostrophe", "non-ascii-sécret-ключ", "new\nline-secret"],
    ids=["tab", "backslash", "quotes", "non-ascii", "newline"],
)
def test_secrets_are_redacted_however_the_report_escapes_them(tmp_path: Path, secret: str) -> None:
    environ = {"XDG_STATE_HOME": str(tmp_path / "state"), "AWS_SESSION_TOKEN": secret}
    # The message's repr escapes the value, the command line quotes it, an args tuple reprs it.
    error = KeyError(secret)
    path = write_crash_report(error, ["planton", "tofu", "plan", "-f", secret], environ, now=MOMENT)
    text = path.read_text(encoding="utf-8")
    for spelling in (secret, repr(secret)[1:-1], json.dumps(secret)[1:-1], secret.encode("unicode_escape").decode()):
        assert spelling not in text
    assert text.count("<AWS_SESSION_TOKEN redacted>") >= 2


def test_credentials_read_from_a_file_are_blanked_too(tmp_path: Path) -> None:
    # A stack input's or provider config's credentials reach no environment variable of
    # planton's own: the reader notes them, and the report blanks them like the environment's.
    from planton.stack_input import read_provider_config

    path = tmp_path / "aws.yaml"
    path.write_text(
        "access_key_id: AKIAFROMAFILE0000001\nsecret_access_key: file-secret-value-0123456789\n", encoding="utf-8"
    )
    path.chmod(0o600)
    read_provider_config(path)
    text = redact(
        "ValueError: {'AWS_SECRET_ACCESS_KEY': 'file-secret-value-0123456789', 'id': 'AKIAFROMAFILE0000001'}", {}
    )
    assert "file-secret-value-0123456789" not in text
    assert "AKIAFROMAFILE0000001" not in text
    assert f"<{path} secret_access_key redacted>" in text
