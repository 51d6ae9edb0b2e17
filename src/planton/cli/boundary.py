"""The one place where everything that ends a command becomes a message and an exit code.

* usage mistakes (Typer's parser): click's short usage message, with its "did you mean", and 2;
* planton's own errors: their ``dotted.path: message`` lines and their own codes;
* Ctrl-C / SIGTERM outside a terraform run: "interrupted" and 130 / 143 (during a run the runner
  lets terraform finish writing state first);
* anything else is a bug: one line naming the crash report written, and 70;
* ``plan --detailed-exitcode``: terraform's meanings win, so every error is 1 and 2 means changes.

None of this depends on which copy of click Typer carries: the releases planton allows ship
their own (``typer._click``), earlier ones used click itself, and catching ``click.ClickException``
once turned every typo into a traceback. The usage-error class is found through
``typer.BadParameter``, which is public in every release.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from types import FrameType
from typing import IO, Any, Protocol, cast

import typer

from planton.cli.output import error_lines
from planton.crash_report import write_crash_report
from planton.errors import (
    EXIT_BROKEN_PIPE,
    EXIT_BUG,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    Interrupted,
    OutputClosed,
    PlantonError,
    detailed_exit_code,
)

DETAILED_EXITCODE_FLAG = "--detailed-exitcode"


class _ClickStyleError(Protocol):
    """What planton uses of click's (or Typer's copy of click's) ClickException."""

    exit_code: int

    def show(self, file: IO[Any] | None = None) -> None: ...


def _click_exception_class() -> type[Exception]:
    for cls in typer.BadParameter.__mro__:
        if cls.__name__ == "ClickException" and issubclass(cls, Exception):
            return cls
    raise ImportError("typer.BadParameter does not derive from a ClickException; this Typer is not supported")


_CLICK_EXCEPTION = _click_exception_class()


class Command(Protocol):
    """A click-style command, as ``typer.main.get_command`` returns it."""

    def main(self, *args: Any, **kwargs: Any) -> Any: ...


def run_command(command: Command, argv: Sequence[str], prog_name: str, environ: Mapping[str, str]) -> int:
    """Run ``command`` with ``argv`` and return the exit code; nothing escapes but the code."""
    detailed = detailed_exitcode_requested(argv)
    error = True
    try:
        with _signals_raise_interrupted():
            code = _invoke(command, argv, prog_name)
        error = False
    except PlantonError as err:
        error_lines(err.lines())
        code = err.exit_code
    except Interrupted as stop:
        error_lines(["interrupted"])
        code = stop.exit_code
    except (typer.Abort, KeyboardInterrupt):
        error_lines(["interrupted"])
        code = EXIT_INTERRUPTED
    except (OutputClosed, BrokenPipeError):
        _silence_stdout()
        code = EXIT_BROKEN_PIPE
    except SystemExit as done:
        # planton never calls sys.exit; Typer does, with 1, when a write hits a broken pipe.
        if isinstance(done.__context__, BrokenPipeError):
            _silence_stdout()
            code = EXIT_BROKEN_PIPE
        else:
            code = done.code if isinstance(done.code, int) else EXIT_BUG
            error = code != 0
    except _CLICK_EXCEPTION as usage_mistake:
        cast(_ClickStyleError, usage_mistake).show()
        code = EXIT_USAGE
    except Exception as bug:
        code = _report_bug(bug, [prog_name, *argv], environ)
    return detailed_exit_code(code, error=error) if detailed else code


def detailed_exitcode_requested(argv: Sequence[str]) -> bool:
    """True when ``--detailed-exitcode`` is on the command line, even one that does not parse:
    a CI gate must never read a usage mistake as "changes pending"."""
    for arg in argv:
        if arg == "--":
            return False
        if arg == DETAILED_EXITCODE_FLAG or arg.startswith(DETAILED_EXITCODE_FLAG + "="):
            return True
    return False


def _invoke(command: Command, argv: Sequence[str], prog_name: str) -> int:
    # Without standalone mode the parser raises instead of exiting, and a typer.Exit comes back
    # as its code.
    result = command.main(args=list(argv), prog_name=prog_name, standalone_mode=False)
    return result if isinstance(result, int) else 0


def _report_bug(err: Exception, argv: Sequence[str], environ: Mapping[str, str]) -> int:
    where = f"{type(err).__module__}.{type(err).__qualname__}"
    try:
        report = write_crash_report(err, argv, environ)
    except Exception as write_error:  # reporting a bug must not raise another
        reason = getattr(write_error, "strerror", None) or type(write_error).__name__
        error_lines([f"planton hit a bug ({where}) and could not write a crash report ({reason}); please report it"])
    else:
        error_lines([f"planton hit a bug ({where}); the full report is in {report}; please attach it to a bug report"])
    return EXIT_BUG


@contextlib.contextmanager
def _signals_raise_interrupted() -> Iterator[None]:
    """SIGINT and SIGTERM raise ``Interrupted`` (the runner takes them over while terraform runs,
    and hands them back). Only the main thread can own signal handlers; elsewhere (a test that
    calls ``main`` in a thread) Python's defaults stay."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def raise_interrupted(signum: int, _frame: FrameType | None) -> None:
        raise Interrupted(signum)

    previous = {sig: signal.signal(sig, raise_interrupted) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _silence_stdout() -> None:
    """After a broken pipe, point stdout at /dev/null so that the interpreter's final flush does
    not print a second error."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
