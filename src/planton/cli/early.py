"""What the entry point needs before Typer is imported: flags read off the raw command line,
and silencing a stream whose reader went away. Standard library only (``os``), so that using it
costs nothing while a signal could still end planton without a word."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from typing import IO

DETAILED_EXITCODE_FLAG = "--detailed-exitcode"
JSON_FLAG = "--json"


def detailed_exitcode_requested(argv: Sequence[str]) -> bool:
    """True when ``--detailed-exitcode`` is on the command line, even one that does not parse:
    a CI gate must never read a usage mistake as "changes pending"."""
    return flag_requested(argv, DETAILED_EXITCODE_FLAG)


def flag_requested(argv: Sequence[str], flag: str) -> bool:
    """True when ``flag`` is on the command line (before any ``--``), even one that does not parse."""
    for arg in argv:
        if arg == "--":
            return False
        if arg == flag or arg.startswith(flag + "="):
            return True
    return False


def silence(stream: IO[str] | None) -> None:
    """Point a stream whose reader went away at /dev/null, dropping what it still buffers, so
    that no later write or the interpreter's final flush prints a second error."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())  # type: ignore[union-attr]
        os.close(devnull)
