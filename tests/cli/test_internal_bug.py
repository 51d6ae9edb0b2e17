"""A bug inside planton: one line saying so and where the report is, exit 70, a report file
with the traceback and without any credential value; never a traceback on the terminal."""

from __future__ import annotations

import re
import stat
from pathlib import Path

from crash_support import SECRET_ACCESS_KEY, SESSION_TOKEN, crash_reports, crashing_cli

from e2e_support import assert_no_traceback
from support import HACK_MANIFEST


def test_bug_prints_one_line_and_writes_a_report(tmp_path: Path) -> None:
    cli = crashing_cli(tmp_path)
    result = cli.run("tofu", "plan", "-f", str(HACK_MANIFEST))
    assert result.returncode == 70, result.stderr
    assert_no_traceback(result)
    assert result.stdout == ""
    [report] = crash_reports(tmp_path)
    assert result.stderr.splitlines() == [
        f"error: planton hit a bug (builtins.ValueError); the full report is in {report}; please attach it to a "
        "bug report"
    ]
    assert stat.S_IMODE(report.stat().st_mode) == 0o600

    text = report.read_text(encoding="utf-8")
    assert text.startswith("planton crash report")
    assert "command: planton tofu plan -f " + str(HACK_MANIFEST) in text
    assert re.search(r"^libraries: typer \S+, pydantic \S+, ", text, flags=re.MULTILINE)
    assert "Traceback (most recent call last):" in text
    assert 'in read_manifest_document\n    raise ValueError("an unexpected failure; the secret is " + secret)' in text
    assert "ValueError: an unexpected failure; the secret is <AWS_SECRET_ACCESS_KEY redacted>" in text
    for secret in (SECRET_ACCESS_KEY, SESSION_TOKEN):
        assert secret not in text
    # No environment listing and no locals.
    assert "AKIAIOSFODNN7EXAMPLE" not in text
    assert "PATH=" not in text


def test_report_falls_back_to_the_temporary_directory(tmp_path: Path) -> None:
    cli = crashing_cli(tmp_path)
    blocker = tmp_path / "state-is-a-file"
    blocker.write_text("", encoding="utf-8")
    cli.env["XDG_STATE_HOME"] = str(blocker)
    cli.env["TMPDIR"] = str(tmp_path / "tmp")
    (tmp_path / "tmp").mkdir()
    result = cli.run("validate", "-f", str(HACK_MANIFEST))
    assert result.returncode == 70
    [report] = (tmp_path / "tmp").glob("planton-crash-*.txt")
    assert str(report) in result.stderr
    assert SECRET_ACCESS_KEY not in report.read_text(encoding="utf-8")
