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
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from types import FrameType
from typing import IO, Any, Protocol, cast

import typer

from planton.cli.early import JSON_FLAG, detailed_exitcode_requested, flag_requested, silence
from planton.cli.output import begin_command, document, document_written, error_lines, output_lost
from planton.documents import error_document
from planton.errors import (
    DETAILED_CHANGES,
    EXIT_BROKEN_PIPE,
    EXIT_BUG,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    Interrupted,
    OutputClosed,
    PlantonError,
    detailed_exit_code,
)


class _ClickStyleError(Protocol):
    """What planton uses of click's (or Typer's copy of click's) ClickException."""

    exit_code: int

    def show(self, file: IO[Any] | None = None) -> None: ...

    def format_message(self) -> str: ...


def click_exception_class(name: str) -> type[Exception]:
    """click's exception class ``name`` (``ClickException``, ``UsageError``), found through
    ``typer.BadParameter``: Typer carries its own copy of click."""
    for cls in typer.BadParameter.__mro__:
        if cls.__name__ == name and issubclass(cls, Exception):
            return cls
    raise ImportError(f"typer.BadParameter does not derive from a {name}; this Typer is not supported")


_CLICK_EXCEPTION = click_exception_class("ClickException")


class Command(Protocol):
    """A click-style command, as ``typer.main.get_command`` returns it."""

    def main(self, *args: Any, **kwargs: Any) -> Any: ...


def run_command(
    command: Command,
    argv: Sequence[str],
    prog_name: str,
    environ: Mapping[str, str],
    *,
    exiting: bool = False,
) -> int:
    """Run ``command`` with ``argv`` and return the exit code; nothing escapes but the code.

    The signal handlers stay in place until the outcome has been printed and the streams
    flushed, so a second Ctrl-C while "interrupted" is being printed cannot end in a traceback.
    A signal raises ``Interrupted`` only where it is caught: one that arrives while the handlers
    are being installed is held until the command starts (and then reported as "interrupted"),
    one that arrives after the command has its outcome is ignored.
    ``exiting`` (the console script) leaves SIGINT and SIGTERM ignored afterwards instead of
    restoring Python's handlers: the process only exits from there, and a late Ctrl-C must not
    turn that into a traceback.
    """
    begin_command()
    detailed = detailed_exitcode_requested(argv)
    machine = flag_requested(argv, JSON_FLAG)
    with _signals_raise_interrupted(ignore_after=exiting) as gate:
        try:
            gate.open()
            code, error, lines, details = _outcome(command, argv, prog_name, environ)
            gate.opened = False  # shut before leaving the try: a signal from here on is only noted
        except Interrupted as stop:
            # The one place an interruption is reported, wherever the gate let it land: in the
            # command, as _outcome returned, or held since the handlers were installed. (No
            # second one can come: the gate raises once.)
            _tell(partial(error_lines, stop.lines()))
            code, error, lines, details = stop.exit_code, True, stop.lines(), {}
        if detailed:
            code = detailed_exit_code(code, error=error)
        if machine and error and lines and not document_written():
            # A --json command that failed before it had a result of its own still prints one
            # document, so that a program reading stdout learns why (and the code it exits with).
            with contextlib.suppress(OutputClosed):
                document(error_document(code, lines, details))
        succeeded = not error and (code == EXIT_OK or (detailed and code == DETAILED_CHANGES))
        code = _flush_streams(code, succeeded=succeeded)
    # Again: a success the flush turned into 141 is an error to a CI gate too.
    return detailed_exit_code(code, error=error) if detailed else code


def _outcome(
    command: Command, argv: Sequence[str], prog_name: str, environ: Mapping[str, str]
) -> tuple[int, bool, list[str], dict[str, Any]]:
    """The exit code, whether the command failed, the lines that said why (the failure
    already reported on stderr), and what else its error carries for ``--json`` (a policy's
    findings). ``Interrupted`` goes on to ``run_command``, which reports it."""
    try:
        return _invoke(command, argv, prog_name), False, [], {}
    except PlantonError as err:
        _tell(partial(error_lines, err.lines()))
        return err.exit_code, True, err.lines(), err.details()
    except (typer.Abort, KeyboardInterrupt):
        _tell(partial(error_lines, ["interrupted"]))
        return EXIT_INTERRUPTED, True, ["interrupted"], {}
    except (OutputClosed, BrokenPipeError):
        silence(sys.stdout)
        return EXIT_BROKEN_PIPE, True, [], {}
    except SystemExit as done:
        # planton never calls sys.exit; Typer does, with 1, when a write hits a broken pipe.
        if isinstance(done.__context__, BrokenPipeError):
            silence(sys.stdout)
            return EXIT_BROKEN_PIPE, True, [], {}
        if done.code is None or isinstance(done.code, int):
            code = done.code or EXIT_OK  # sys.exit() and sys.exit(None) mean success
            return code, code != 0, [], {}
        # sys.exit("text") from some library: not an outcome planton knows; a bug, reported.
        code, message = _report_bug(done, [prog_name, *argv], environ)
        return code, True, [message], {}
    except _CLICK_EXCEPTION as usage_mistake:
        mistake = cast(_ClickStyleError, usage_mistake)
        _tell(mistake.show)
        return EXIT_USAGE, True, [mistake.format_message()], {}
    except Exception as bug:
        code, message = _report_bug(bug, [prog_name, *argv], environ)
        return code, True, [message], {}


def _tell(report: Callable[[], None]) -> None:
    """Print a failure's message; when stderr has gone away the failure's code still stands."""
    try:
        report()
    except (OSError, ValueError, SystemExit):
        # A broken or closed stderr under click's usage message, which writes to it itself
        # (planton's own lines note a lost reader and carry on: output._print).
        silence(sys.stderr)


def _flush_streams(code: int, *, succeeded: bool) -> int:
    """Flush what is still buffered. A reader that went away, now or earlier in the command
    (``output_lost``), turns a success into 141 (as SIGPIPE would); a failure's own code stands.
    A stream that fails to flush is silenced so that the interpreter's own final flush cannot
    print a second error (and exit 120)."""
    lost = output_lost()
    for stream in (sys.stdout, sys.stderr):
        if stream is None:
            continue
        try:
            stream.flush()
        except (OSError, ValueError):
            silence(stream)
            lost = True
    return EXIT_BROKEN_PIPE if lost and succeeded else code


def _invoke(command: Command, argv: Sequence[str], prog_name: str) -> int:
    # Without standalone mode the parser raises instead of exiting, and a typer.Exit comes back
    # as its code.
    result = command.main(args=list(argv), prog_name=prog_name, standalone_mode=False)
    return result if isinstance(result, int) else 0


def _report_bug(err: BaseException, argv: Sequence[str], environ: Mapping[str, str]) -> tuple[int, str]:
    # Deferred: only a bug needs the crash report's machinery (platform, traceback, the
    # libraries' versions), and a command that succeeds should not load it.
    from planton.crash_report import write_crash_report

    where = f"{type(err).__module__}.{type(err).__qualname__}"
    try:
        report = write_crash_report(err, argv, environ)
    except Exception as write_error:  # reporting a bug must not raise another
        reason = getattr(write_error, "strerror", None) or type(write_error).__name__
        message = f"planton hit a bug ({where}) and could not write a crash report ({reason}); please report it"
    else:
        message = f"planton hit a bug ({where}); the full report is in {report}; please attach it to a bug report"
    _tell(partial(error_lines, [message]))
    return EXIT_BUG, message


class _SignalGate:
    """Whether a SIGINT or SIGTERM may raise ``Interrupted`` now. Python runs a signal's handler
    between two bytecodes of the main thread, so the handler can land anywhere, including
    before the ``try`` that catches what it raises: it raises only while the gate is open, and a
    signal that came while it was shut is raised when it opens. One signal raises at most once:
    a second Ctrl-C must not interrupt the handling of the first."""

    def __init__(self) -> None:
        self.opened = False
        self.received: list[int] = []

    def handle(self, signum: int, _frame: FrameType | None) -> None:
        if self.received:
            return
        self.received.append(signum)
        if self.opened:
            raise Interrupted(signum)

    def open(self) -> None:
        """Open the gate; called inside the ``try`` that catches ``Interrupted``."""
        self.opened = True
        if self.received:
            raise Interrupted(self.received[0])


@contextlib.contextmanager
def _signals_raise_interrupted(*, ignore_after: bool = False) -> Iterator[_SignalGate]:
    """SIGINT and SIGTERM raise ``Interrupted`` through the gate this yields, once it is opened
    (the runner takes them over while terraform runs, and hands them back). Only the main thread
    can own signal handlers; elsewhere (a test that calls ``main`` in a thread) Python's defaults
    stay."""
    gate = _SignalGate()
    if threading.current_thread() is not threading.main_thread():
        yield gate
        return

    previous = {sig: signal.signal(sig, gate.handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield gate
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_IGN if ignore_after else handler)
