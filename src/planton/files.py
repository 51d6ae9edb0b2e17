"""Writing planton's own small files (records, the workspace's configuration): each replaced in
one step, and a failure explained by the path that is in the way."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomically(path: Path, text: str, mode: int = 0o644) -> None:
    """Replace ``path`` in one step, so a crash never leaves half a file for anyone to read."""
    if os.path.isfile(path) and path.read_bytes() == text.encode("utf-8"):
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
