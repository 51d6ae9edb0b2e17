"""Writing planton's own small files (records, the workspace's configuration): each replaced in
one step, and a failure explained by the path that is in the way; and the file locks planton
takes (a workspace's, the plugin cache's)."""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO


def write_atomically(path: Path, text: str, mode: int = 0o644) -> None:
    """Replace ``path`` in one step, so a crash never leaves half a file for anyone to read.
    A file that already holds ``text`` is left alone (reading and comparing a small file is
    cheaper than writing and renaming one), apart from its mode when that differs."""
    try:
        current = os.stat(path)
    except FileNotFoundError:
        current = None
    if current is not None and stat.S_ISREG(current.st_mode) and path.read_bytes() == text.encode("utf-8"):
        if stat.S_IMODE(current.st_mode) != mode:
            os.chmod(path, mode)  # an older copy may have looser permissions
        return
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def why_unwritable(root: Path, err: OSError) -> str:
    """The reason, naming the path that is in the way when one of root's parents is not a
    directory. (``os.path`` answers False rather than raising where a parent cannot be entered.)"""
    for path in (root, *root.parents):
        if os.path.lexists(path):
            if not os.path.isdir(path):
                return f"{path} is not a directory"
            break
    where = f" ({err.filename})" if err.filename and Path(err.filename) != root else ""
    return f"{err.strerror or err}{where}"


def epoch_seconds(value: object) -> float | None:
    """A time recorded as seconds since the epoch, or None when there is none."""
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def lock_exclusively(handle: IO[str] | int, timeout: float, *, on_wait: Callable[[], None] | None = None) -> bool:
    """Take an exclusive ``flock`` on the open file ``handle`` (or descriptor), waiting up to ``timeout`` seconds
    for whoever holds it; False when it was still held then. ``on_wait`` is called once, when it
    has to wait. It polls rather than blocks, so Ctrl-C while waiting interrupts at once."""
    deadline = time.monotonic() + timeout
    waited = False
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError as err:
            if err.errno not in (errno.EAGAIN, errno.EACCES):
                raise
        if time.monotonic() >= deadline:
            return False
        if not waited and on_wait is not None:
            on_wait()
        waited = True
        time.sleep(min(0.2, max(deadline - time.monotonic(), 0.0)))
