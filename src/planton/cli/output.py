"""How planton speaks to people and to programs.

planton's own lines go to stderr; stdout carries results: terraform's text and the plan summary
for people, or exactly one JSON document under ``--json``. Colour follows ``--no-color`` and
``NO_COLOR`` (Rich honours it too) and is off when the stream is not a terminal. A spinner with
the elapsed time runs during long terraform steps only at a terminal and never in CI.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import IO, TYPE_CHECKING, Any, TextIO

from planton.errors import OutputClosed
from planton.findings import Finding, notice
from planton.settings import STATUS_FD_ENV, running_in_ci

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from planton.runner import Echo

_state = {"document_written": False, "output_lost": False}
# use_colour's choice, applied to a console whenever it is used; empty until then (Rich decides
# from the environment).
_colour: list[bool] = []


def _console(*, stderr: bool) -> Console:
    """planton's console for stderr or stdout."""
    # Deferred: Rich takes a noticeable moment to import, and a command that succeeds without a
    # line for people (render, schema, validate --json) never needs it.
    from planton.cli import consoles

    console = consoles.stderr if stderr else consoles.stdout
    if _colour:
        console.no_color = not _colour[-1] or "NO_COLOR" in os.environ
    return console


def begin_command() -> None:
    """Forget what an earlier command in this process printed (``main`` may run several)."""
    _state.update(document_written=False, output_lost=False)


def use_colour(enabled: bool) -> None:
    """Colour on or off for planton's own output (NO_COLOR turns it off whatever this says)."""
    _colour[:] = [enabled]


def data(text: str) -> None:
    """Machine-readable output, JSON text: stdout, exactly as given, except that characters
    stdout's encoding cannot hold are written as JSON escapes (the same JSON)."""
    if sys.stdout is None:  # started with stdout closed (>&-): the data has nowhere to go
        raise OutputClosed
    try:
        sys.stdout.write(_encodable_json(text, sys.stdout))
        sys.stdout.flush()
    except BrokenPipeError:  # a reader that went away
        raise OutputClosed from None
    except ValueError:
        if not _closed(sys.stdout):  # an encoding problem, a bug: never a reader that went away
            raise
        raise OutputClosed from None


# Outside its strings JSON text is ASCII; inside one, any character can be written as an escape.
_BEYOND_ASCII = re.compile(r"[^\x00-\x7f]")


def _encodable_json(text: str, stream: TextIO) -> str:
    """JSON ``text`` as ``stream``'s encoding can hold it: as it is when the encoding holds every
    character, else (an ASCII or Latin-1 locale or ``PYTHONIOENCODING``; a lone surrogate in any
    encoding) with every character beyond ASCII as its JSON escape, as ``ensure_ascii`` writes it."""
    try:
        text.encode(getattr(stream, "encoding", None) or "utf-8")
    except (UnicodeError, LookupError):
        return _BEYOND_ASCII.sub(lambda found: json.dumps(found[0])[1:-1], text)
    return text


def document(value: Mapping[str, Any]) -> None:
    """The one JSON document of a ``--json`` command."""
    data(json.dumps(value, indent=2, ensure_ascii=False, default=str) + "\n")
    _state["document_written"] = True


def document_written() -> bool:
    """Whether this command has printed its JSON document already."""
    return _state["document_written"]


def output_lost() -> bool:
    """Whether whoever read planton's stdout or stderr went away during this command (or
    stdout was closed when a result for people was due): its output since was dropped."""
    return _state["output_lost"]


def _print(console: Console, *objects: Any, **options: Any) -> None:
    """Print to one of planton's consoles. When the stream's reader went away (or it was
    closed), that is remembered (``output_lost``), nothing more is printed to it, and the
    command carries on: a reader that went away never decides what planton does, only how it
    exits."""
    try:
        console.print(*objects, **options)
    except BrokenPipeError:
        _state["output_lost"] = True
    except ValueError:
        if not _closed(console.file):  # an encoding problem, a bug: never a reader that went away
            raise
        _state["output_lost"] = True


def show(renderable: RenderableType) -> None:
    """A result for people, on stdout."""
    if sys.stdout is None:  # started with stdout closed (>&-): nobody will see it
        _state["output_lost"] = True
        return
    _print(_console(stderr=False), renderable)


def show_on_stderr(renderable: RenderableType) -> None:
    """A result for people on stderr, when stdout is kept for a JSON document."""
    _print(_console(stderr=True), renderable)


def stderr_console() -> Console:
    """planton's console on stderr (for a live display)."""
    return _console(stderr=True)


def plain_line(text: str) -> None:
    """A line on stderr exactly as given: no markup, no highlighting."""
    _print(_console(stderr=True), text, markup=False, highlight=False, soft_wrap=True)


def notify(message: str) -> None:
    """An informational line from planton itself."""
    _print(_console(stderr=True), f"[dim]planton:[/dim] {_escape(message)}")


def error_lines(lines: Sequence[str]) -> None:
    """An error: the first line as a headline, the rest exactly as given (``path: message``)."""
    if not lines:
        return
    _print(_console(stderr=True), f"[bold red]error:[/bold red] {_escape(lines[0])}")
    for line in lines[1:]:
        _print(_console(stderr=True), line, markup=False)


def warn(findings: Sequence[Finding]) -> None:
    """The one sink for people: each finding on a line of its own, ``warning: field: message;
    fix [code]`` (``--json`` documents and the step summary carry the same findings)."""
    for finding in findings:
        _print(_console(stderr=True), _warning(finding))


def _warning(finding: Finding) -> str:
    return f"[bold yellow]warning:[/bold yellow] {_escape(finding.text())}"


def confirm(warnings: Sequence[Finding] = ()) -> bool:
    """Ask, as terraform does, whether to apply; only the exact answer ``yes`` agrees (`` yes``,
    ``yes `` and ``YES`` do not). No stdin, or its end, is a no. (Without a terminal planton does
    not get here: the command fails before it starts.)

    The question goes to stderr, and also where the person is when stderr is not a terminal:
    to the terminal stdin reads from, with the warnings shown above it repeated there
    (``planton tofu apply 2>err.log`` would otherwise wait silently for an answer to a question
    nobody sees)."""
    from planton.cli.consoles import PlantonConsole  # Rich, deferred as in _console

    stderr = _console(stderr=True)
    consoles: list[Console] = [stderr]
    terminal = _question_terminal()
    if terminal is not None:
        at_terminal = PlantonConsole(file=terminal, highlight=False, soft_wrap=True, no_color=stderr.no_color)
        consoles.append(at_terminal)
        for finding in warnings:
            _print(at_terminal, _warning(finding))
    try:
        for console in consoles:
            _print(
                console,
                "\n[bold]Do you want to perform these actions?[/bold]\n"
                "  planton will apply exactly the plan shown above.\n"
                "  Only 'yes' will be accepted to approve.\n",
            )
            _print(console, "  [bold]Enter a value:[/bold] ", end="")
        if sys.stdin is None:
            return False
        try:
            answer = sys.stdin.readline()
        except (OSError, ValueError):
            return False
        for console in consoles:
            _print(console, "")
    finally:
        if terminal is not None:
            terminal.close()
    # One line ending is the Enter key; anything else is part of the answer.
    return answer.removesuffix("\n").removesuffix("\r") == "yes"


def _question_terminal() -> IO[str] | None:
    """The terminal stdin reads from, opened for writing, when stderr is not a terminal (it was
    redirected, so a question there would be invisible); None to ask on stderr."""
    if _is_terminal(sys.stderr) or not _is_terminal(sys.stdin):
        return None
    try:
        return open(os.ttyname(sys.stdin.fileno()), "w", encoding="utf-8", errors="backslashreplace")
    except (OSError, ValueError, AttributeError):
        return None


def success(message: str) -> None:
    """A result line for a command that does not run terraform."""
    _print(_console(stderr=True), f"[green]✓[/green] {_escape(message)}")


def colour_wanted(no_color: bool) -> bool:
    """Colour for a terminal (or where FORCE_COLOR asks for it, as CI logs that show colour
    do), and never when NO_COLOR is set or --no-color given."""
    if no_color or "NO_COLOR" in os.environ:
        return False
    return _is_terminal(sys.stdout) or bool(os.environ.get("FORCE_COLOR"))


def can_prompt(environ: Mapping[str, str]) -> bool:
    """A question can be asked: stdin is a terminal and this is not a CI job."""
    return _is_terminal(sys.stdin) and not running_in_ci(environ)


def animated(environ: Mapping[str, str]) -> bool:
    """Spinners only where a person watches: stdout and stderr both terminals, not CI."""
    return _is_terminal(sys.stdout) and _is_terminal(sys.stderr) and not running_in_ci(environ)


@contextlib.contextmanager
def spinner(label: str) -> Iterator[Echo | None]:
    """A spinner with the elapsed time below terraform's output while ``label`` runs. What it
    yields prints terraform's lines above the spinner (both streams share the terminal)."""
    # Rich, deferred as in _console.
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
    from rich.text import Text

    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TimeElapsedColumn(),
        console=_console(stderr=True),
        transient=True,
        redirect_stdout=False,
        redirect_stderr=False,
    )

    def echo(line: str, _fd: int) -> None:
        # A broken pipe is raised to the runner, which stops echoing and keeps draining.
        progress.console.print(Text.from_ansi(line), soft_wrap=True)

    with progress:
        progress.add_task(label, total=None)
        yield echo


@contextlib.contextmanager
def no_spinner(_label: str) -> Iterator[Echo | None]:
    """Off a terminal, the runner forwards terraform's output to planton's streams as it comes."""
    yield None


def status_step(environ: Mapping[str, str]) -> Callable[[str], AbstractContextManager[Echo | None]] | None:
    """For a fleet's child (``PLANTON_STATUS_FD`` set by its parent): a step that writes its
    label as a line to that pipe, so the parent's display follows it; None otherwise. Only a
    display depends on it: a pipe that is gone is ignored."""
    value = environ.get(STATUS_FD_ENV, "")
    if not value.isdigit():
        return None
    fd = int(value)

    @contextlib.contextmanager
    def step(label: str) -> Iterator[Echo | None]:
        with contextlib.suppress(OSError):
            os.write(fd, label.encode("utf-8", errors="replace") + b"\n")
        yield None

    return step


def outputs_table(outputs: Mapping[str, Any], *, title: str = "Outputs") -> RenderableType:
    """The module's outputs for people: one row each, values as text, maps and lists as JSON."""
    # Rich, deferred as in _console.
    from rich.table import Table
    from rich.text import Text

    # The title's blank line sets the table apart from terraform's own text above it.
    table = Table(title=Text(f"\n{title}"), title_justify="left", show_edge=False, header_style="bold")
    table.add_column("output", style="cyan", no_wrap=True)
    table.add_column("value", overflow="fold")
    for name in sorted(outputs):
        value = outputs[name]
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        table.add_row(name, Text(text))
    return table


def append_step_summary(markdown: str, environ: Mapping[str, str]) -> None:
    """Append ``markdown`` to GitHub Actions' step summary, when ``GITHUB_STEP_SUMMARY`` names one.
    A summary that cannot be written is a warning, never a failure of the command."""
    path = environ.get("GITHUB_STEP_SUMMARY")
    if not path:
        return
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(markdown.rstrip("\n") + "\n\n")
    except OSError as err:
        warn(
            [
                notice(
                    "step-summary-unwritable",
                    f"cannot append the plan summary to GITHUB_STEP_SUMMARY ({path}): {err.strerror or err}",
                )
            ]
        )


def summarise_findings(findings: Sequence[Finding], title: str) -> None:
    """The findings in GitHub's step summary, as the sink printed them, when there is one (the
    Markdown renderer, and Rich with it, load only then)."""
    if findings and os.environ.get("GITHUB_STEP_SUMMARY"):
        from planton.cli.plan_view import findings_markdown

        append_step_summary(findings_markdown(findings, title=title), os.environ)


def _closed(stream: Any) -> bool:
    return bool(getattr(stream, "closed", False))


def _is_terminal(stream: Any) -> bool:
    try:
        return stream is not None and bool(stream.isatty())
    except (ValueError, OSError):  # closed
        return False


def _escape(text: str) -> str:
    return text.replace("[", r"\[")
