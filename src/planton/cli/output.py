"""How planton speaks to people: its own lines on stderr, so stdout stays terraform's (and
machine-readable for ``tofu output``)."""

from __future__ import annotations

import os
import sys

from rich.console import Console

from planton.errors import OutputClosed

_stderr = Console(stderr=True, highlight=False, soft_wrap=True)


def data(text: str) -> None:
    """Machine-readable output (``tofu output``'s JSON): stdout, exactly as given."""
    if sys.stdout is None:  # started with stdout closed (>&-): the data has nowhere to go
        raise OutputClosed
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except (BrokenPipeError, ValueError):  # a reader that went away, or a closed stream
        raise OutputClosed from None


def notify(message: str) -> None:
    """An informational line from planton itself."""
    _stderr.print(f"[dim]planton:[/dim] {_escape(message)}")


def error_lines(lines: list[str]) -> None:
    """An error: the first line as a headline, the rest exactly as given (``path: message``)."""
    if not lines:
        return
    _stderr.print(f"[bold red]error:[/bold red] {_escape(lines[0])}")
    for line in lines[1:]:
        _stderr.print(line, markup=False)


def success(message: str) -> None:
    """A result line for a command that does not run terraform."""
    _stderr.print(f"[green]✓[/green] {_escape(message)}")


def colour_wanted(no_color: bool) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set or --no-color given."""
    return not no_color and "NO_COLOR" not in os.environ and sys.stdout.isatty()


def _escape(text: str) -> str:
    return text.replace("[", r"\[")
