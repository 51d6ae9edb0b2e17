"""A way to make the installed planton hit a bug it does not expect, for the crash-report tests:
a ``sitecustomize`` module on PYTHONPATH that replaces a function deep inside planton with one
that raises. Nothing in planton itself knows about it."""

from __future__ import annotations

import textwrap
from pathlib import Path

from e2e_support import Cli, base_env

# The credentials the crashing process has: the report must contain none of them.
SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN1234567890"

SITECUSTOMIZE = textwrap.dedent(
    """\
    import os
    import planton.manifest.loader as loader

    def read_manifest_document(path, **_):
        secret = os.environ.get("AWS_SECRET_ACCESS_KEY", "")
        raise ValueError("an unexpected failure; the secret is " + secret)

    loader.read_manifest_document = read_manifest_document
    """
)


def crashing_cli(tmp_path: Path) -> Cli:
    """The CLI with dummy credentials, a fresh HOME (so crash reports land in
    ``tmp_path/home/.local/state/planton/crash-reports``) and the bug planted."""
    hook = tmp_path / "plant-a-bug"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(SITECUSTOMIZE, encoding="utf-8")
    env = base_env(tmp_path)
    env.update(
        {
            "PYTHONPATH": str(hook),
            "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
            "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY,
            "AWS_SESSION_TOKEN": SESSION_TOKEN,
        }
    )
    return Cli(env=env, cwd=tmp_path)


def crash_reports(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "home" / ".local" / "state" / "planton" / "crash-reports").glob("crash-*.txt"))
