"""A bug in planton becomes a report file, never a traceback on the user's terminal.

The report holds what a maintainer needs (versions, the command line, the traceback) and nothing
a user would not want to paste into an issue: tracebacks are formatted without local variables,
no environment variable is listed, and the value of every environment variable that looks like
a secret is blanked wherever it appears (an exception message can quote one).
"""

from __future__ import annotations

import json
import os
import platform
import re
import sys
import tempfile
import traceback
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

from planton import __version__, secrets
from planton.errors import PlantonError
from planton.statedir import planton_state_dir

REPORTS_DIR_NAME = "crash-reports"

# The libraries whose versions explain most bugs: a new release of one is the usual suspect.
_LIBRARIES = ("typer", "pydantic", "pydantic-core", "pyyaml", "rich")

# Environment variable names whose values are secrets or may be (AWS_SECRET_ACCESS_KEY,
# AWS_SESSION_TOKEN, TF_TOKEN_app_terraform_io, GITHUB_TOKEN, DB_PASSWORD, ...).
_SECRET_NAME = re.compile(r"KEY|SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|SESSION|AUTH|PRIVATE|COOKIE", re.IGNORECASE)
# Values too short to be a secret would blank unrelated text ("1", "true").
_MIN_SECRET_LENGTH = 4


def write_crash_report(
    error: BaseException,
    argv: Sequence[str],
    environ: Mapping[str, str],
    now: datetime | None = None,
) -> Path:
    """Write the report for ``error`` and return its path: in planton's state directory, else
    the temporary directory. Raises ``OSError`` only when neither can be written."""
    moment = now or datetime.now(UTC)
    # Arguments are redacted before they are quoted: quoting escapes a tab or a backslash, and
    # the escaped spelling no longer matches the value.
    text = redact(render_crash_report(error, [redact(arg, environ) for arg in argv], moment), environ)
    name = f"crash-{moment.strftime('%Y%m%dT%H%M%SZ')}-{os.getpid()}"
    try:
        directory = planton_state_dir(environ) / REPORTS_DIR_NAME
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        # 0600 from the start: the command line and paths are the user's business.
        path = directory / f"{name}.txt"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    except (OSError, PlantonError):  # unwritable, or no state directory at all (no HOME)
        # A state directory that cannot be written must not lose the report. mkstemp makes a
        # new 0600 file of its own, safe in a shared temporary directory.
        descriptor, temporary = tempfile.mkstemp(prefix=f"planton-{name}-", suffix=".txt")
        path = Path(temporary)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def render_crash_report(error: BaseException, argv: Sequence[str], moment: datetime) -> str:
    """The report's text, before redaction."""
    lines = [
        "planton crash report: please attach this file to a bug report.",
        f"time: {moment.isoformat()}",
        f"planton: {__version__}",
        f"python: {platform.python_implementation()} {platform.python_version()} ({sys.executable})",
        f"platform: {platform.platform()}",
        "libraries: " + ", ".join(_library_versions()),
        "command: " + " ".join(_quote(arg) for arg in argv),
        "",
        # No locals: they can hold credentials.
        *traceback.format_exception(error),
    ]
    return "\n".join(line.rstrip("\n") for line in lines) + "\n"


def redact(text: str, environ: Mapping[str, str]) -> str:
    """``text`` with the value of every secret-looking environment variable, and of every
    credential read from a file (``secrets``), blanked, as written and as a traceback may spell
    it (Python's repr, JSON, unicode escapes)."""
    spellings = {(spelling, name) for name, value in _secret_values(environ) for spelling in _spellings(value)}
    for spelling, name in sorted(spellings, key=lambda item: len(item[0]), reverse=True):
        text = text.replace(spelling, f"<{name} redacted>")
    return text


def _spellings(value: str) -> set[str]:
    forms = {
        value,
        repr(value)[1:-1],
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        value.encode("unicode_escape").decode("ascii"),
        value.encode("utf-8", "backslashreplace").decode("utf-8", "replace"),
    }
    return {form for form in forms if len(form) >= _MIN_SECRET_LENGTH}


def _secret_values(environ: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    """The secret-looking environment variables, and the credentials read from files."""
    for name, value in environ.items():
        if _SECRET_NAME.search(name) and len(value) >= _MIN_SECRET_LENGTH:
            yield name, value
    for where, value in secrets.known():
        if len(value) >= _MIN_SECRET_LENGTH:
            yield where, value


def _library_versions() -> Iterator[str]:
    for name in _LIBRARIES:
        try:
            yield f"{name} {metadata.version(name)}"
        except metadata.PackageNotFoundError:
            yield f"{name} (not installed)"


def _quote(arg: str) -> str:
    return arg if arg and re.fullmatch(r"[\w@%+=:,./-]+", arg) else repr(arg)
