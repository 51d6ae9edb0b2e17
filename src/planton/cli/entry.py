"""The console scripts' entry point: the least that must run before the error boundary exists.

The first thing ``main`` does is take SIGINT and SIGTERM over, before anything slow is imported
(Typer, Rich and pydantic take a noticeable moment): a Ctrl-C or a SIGTERM from then on ends
planton with "error: interrupted" and 130 or 143 (1 under ``--detailed-exitcode``), never with a
traceback of the import machinery or a silent death. The error boundary takes the signals over
once it runs. Once ``main`` has returned the exit code, the process is only exiting, and a late
signal must not change that.

``planton --version`` alone is answered here, without importing Typer: it is what scripts and
shells run to see whether planton is there, and it should not wait for the whole CLI to load.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from types import FrameType

from planton import __version__
from planton.cli.early import detailed_exitcode_requested, silence
from planton.errors import EXIT_BROKEN_PIPE, EXIT_OK, Interrupted, detailed_exit_code

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _UntilTheBoundary:
    """SIGINT and SIGTERM before the error boundary has taken them over. While modules are
    imported (``deferred``) a signal is only noted: raised there, it could land in one of the
    import machinery's callbacks, where Python prints it as "Exception ignored" and carries on
    as if it never came. It is raised as soon as the imports are over. Outside them the first
    signal raises ``Interrupted`` at once (a ``BaseException``: no ``except Exception``
    swallows it); any later one, or one once planton is exiting, is ignored, so that a second
    Ctrl-C cannot interrupt the report of the first."""

    def __init__(self) -> None:
        self.done = False
        self._deferring = False
        self._pending: int | None = None

    def __call__(self, signum: int, _frame: FrameType | None) -> None:
        if self.done:
            return
        if self._deferring:
            if self._pending is None:
                self._pending = signum
            return
        self.done = True
        raise Interrupted(signum)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Note a signal while the body runs (imports), and raise it once the body is over."""
        self._deferring = True
        try:
            yield
        finally:
            self._deferring = False
        if self._pending is not None and not self.done:
            self.done = True
            raise Interrupted(self._pending)


def main() -> int:
    """Run planton and return its exit code (the console script exits with it)."""
    handler = _UntilTheBoundary()
    argv = sys.argv[1:]
    try:
        _take_the_signals(handler)
        _never_fail_to_encode()
        if _only_the_version(argv, os.environ):
            code = _print_version()
        else:
            # Deferred: Typer, Rich, pydantic and the commands load only now that the signals
            # are planton's (and not at all for --version).
            with handler.deferred():
                from planton.cli.app import main as run_planton

            code = run_planton()
    except Interrupted as stop:
        code = _interrupted(stop.exit_code, argv)
    except KeyboardInterrupt:  # raised by code, not by a signal (the handler raises Interrupted)
        handler.done = True  # a signal now must not interrupt the report of this one
        code = _interrupted(Interrupted(signal.SIGINT).exit_code, argv)
    # Exiting from here on (the boundary already ignores the signals once it has run; this
    # covers an interruption before it existed). The handler ignores a signal from now on, so
    # replacing it cannot be interrupted.
    handler.done = True
    if threading.current_thread() is threading.main_thread():
        for sig in _SIGNALS:
            signal.signal(sig, signal.SIG_IGN)
    return code


def _take_the_signals(handler: _UntilTheBoundary) -> None:
    # Only the main thread can own signal handlers (a test may call ``main`` from another).
    if threading.current_thread() is threading.main_thread():
        for sig in _SIGNALS:
            signal.signal(sig, handler)


def _interrupted(code: int, argv: Sequence[str]) -> int:
    """Say so, as the boundary would, and return the code: 128 + the signal, or 1 for a CI gate
    (``--detailed-exitcode``)."""
    try:
        sys.stderr.write("error: interrupted\n")
        sys.stderr.flush()
    except (AttributeError, OSError, ValueError):  # no stderr, or its reader went away
        silence(sys.stderr)
    return detailed_exit_code(code, error=True) if detailed_exitcode_requested(argv) else code


def _only_the_version(argv: Sequence[str], environ: Mapping[str, str]) -> bool:
    """Whether the command line asks only for the version. Not while a shell asks Typer to
    complete a word (``_PLANTON_COMPLETE`` and the like): Typer answers that, whatever argv is."""
    completing = any(name.startswith("_") and name.endswith("_COMPLETE") for name in environ)
    return list(argv) == ["--version"] and not completing


def _print_version() -> int:
    """``planton --version``, exactly as Typer's eager option prints it: stdout closed (``>&-``)
    prints nothing and exits 0; a reader that went away is 141."""
    if sys.stdout is None:
        return EXIT_OK
    try:
        sys.stdout.write(f"planton {__version__}\n")
        sys.stdout.flush()
    except (OSError, ValueError):
        silence(sys.stdout)
        return EXIT_BROKEN_PIPE
    return EXIT_OK


def _never_fail_to_encode() -> None:
    """planton's stdout and stderr write a character their encoding cannot hold (an ASCII
    locale, ``PYTHONIOENCODING=ascii``; a lone surrogate in any encoding) as a backslash escape
    instead of raising: an encoding is never a reason for a command to fail, nor to be taken
    for a reader that went away. (stderr does so by default; stdout raises.) JSON documents are
    escaped as JSON before they get here (``output.data``)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError, OSError):  # None, or not a text file
            stream.reconfigure(errors="backslashreplace")  # type: ignore[union-attr]
