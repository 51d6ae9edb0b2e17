"""How planton speaks to people: its own lines on stderr, so stdout stays terraform's (and
machine-readable for ``tofu output``)."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

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


def warn(lines: Sequence[str]) -> None:
    """A warning that must be read before a question: each line on its own."""
    for line in lines:
        _stderr.print(f"[bold yellow]warning:[/bold yellow] {_escape(line)}")


def confirm() -> bool:
    """Ask, as terraform does, whether to apply; only ``yes`` agrees. The answer is read from
    stdin even when it is not a terminal (``echo yes | planton tofu apply``); no stdin, or its
    end, is a no."""
    _stderr.print(
        "\n[bold]Do you want to perform these actions?[/bold]\n"
        "  planton will apply exactly the plan shown above.\n"
        "  Only 'yes' will be accepted to approve.\n"
    )
    _stderr.print("  [bold]Enter a value:[/bold] ", end="")
    if sys.stdin is None:
        return False
    try:
        answer = sys.stdin.readline()
    except (OSError, ValueError):
        return False
    _stderr.print("")
    return answer.strip() == "yes"


def success(message: str) -> None:
    """A result line for a command that does not run terraform."""
    _stderr.print(f"[green]✓[/green] {_escape(message)}")


def colour_wanted(no_color: bool) -> bool:
    """Colour only for a terminal, and never when NO_COLOR is set or --no-color given."""
    return not no_color and "NO_COLOR" not in os.environ and sys.stdout.isatty()


def _escape(text: str) -> str:
    return text.replace("[", r"\[")
