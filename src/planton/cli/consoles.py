"""planton's Rich consoles: one for its own lines (stderr), one for results (stdout). A module
of its own so that Rich is imported with the first line printed through it (``output`` imports
this then), not whenever the CLI loads."""

from __future__ import annotations

import errno
import os

from rich.console import Console


class PlantonConsole(Console):
    """Rich's console, except that a reader that went away is planton's to handle
    (``output._print``): Rich's own answer points stdout at /dev/null, whichever stream broke,
    and exits."""

    def on_broken_pipe(self) -> None:
        self.quiet = True  # nothing more is printed to this stream
        raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))


stderr = PlantonConsole(stderr=True, highlight=False, soft_wrap=True)
stdout = PlantonConsole(highlight=False, soft_wrap=True)
