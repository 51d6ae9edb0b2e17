"""The console scripts' entry point: the least that must run before the error boundary exists.

Importing Typer, Rich and pydantic takes a noticeable moment; a Ctrl-C in it would otherwise
print a traceback of the import machinery. Once ``main`` has returned the exit code, the process
is only exiting, and a late signal must not turn that into a traceback either.
"""

from __future__ import annotations

import contextlib
import signal
import sys

# 128 + SIGINT; planton.errors holds the table, but importing it here would widen the window.
_EXIT_INTERRUPTED = 130


def main() -> int:
    """Run planton and return its exit code (the console script exits with it)."""
    _never_fail_to_encode()
    try:
        from planton.cli.app import main as run_planton

        code = run_planton()
    except KeyboardInterrupt:
        code = _EXIT_INTERRUPTED
    # Exiting from here on (the boundary already ignores signals once it has run; this covers
    # an interrupt before it existed). A Ctrl-C landing while this runs is retried, not raised.
    for sig in (signal.SIGINT, signal.SIGTERM):
        while True:
            try:
                signal.signal(sig, signal.SIG_IGN)
                break
            except KeyboardInterrupt:
                code = _EXIT_INTERRUPTED
    return code


def _never_fail_to_encode() -> None:
    """planton's stdout and stderr write a character their encoding cannot hold (an ASCII
    locale, ``PYTHONIOENCODING=ascii``; a lone surrogate in any encoding) as a backslash escape
    instead of raising: an encoding is never a reason for a command to fail, nor to be taken
    for a reader that went away. (stderr does so by default; stdout raises.) JSON documents are
    escaped as JSON before they get here (``output.data``)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError, OSError):  # None, or not a text file
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
