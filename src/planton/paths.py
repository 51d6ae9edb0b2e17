"""Paths users give planton (options and environment variables), made usable without surprises.

``Path.expanduser`` and ``Path.home`` read the process's own environment and raise
``RuntimeError`` for ``~nobody-here`` or a user with neither ``HOME`` nor a password-database
entry (a container running as an arbitrary uid). Here the environment is an argument, and every
failure is a ``UsageError`` naming the option or variable the path came from.
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Mapping
from pathlib import Path

from planton.errors import UsageError


def home_directory(environ: Mapping[str, str]) -> Path | None:
    """``$HOME``, else the current user's home in the password database, else None."""
    if environ.get("HOME"):
        return Path(environ["HOME"])
    try:
        return Path(pwd.getpwuid(os.getuid()).pw_dir)
    except KeyError:
        return None


def expand_path(value: str | os.PathLike[str], source: str, environ: Mapping[str, str]) -> Path:
    """``value`` with a leading ``~`` or ``~user`` expanded, made absolute. ``source`` names
    where the value came from (``--work-dir``, ``PLANTON_WORK_DIR``), for the error message."""
    text = os.fspath(value)
    if not text.startswith("~"):
        return Path(text).absolute()
    user, _, rest = text[1:].partition("/")
    if user:
        try:
            home = Path(pwd.getpwnam(user).pw_dir)
        except KeyError:
            raise UsageError(f"{source}: {text!r} names the home of {user!r}, and there is no such user") from None
    else:
        found = home_directory(environ)
        if found is None:
            raise UsageError(f"{source}: {text!r} starts with ~ but HOME is not set; give a full path or set HOME")
        home = found
    return (home / rest).absolute() if rest else home.absolute()
