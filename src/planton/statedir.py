"""planton's own state directory: ``$XDG_STATE_HOME/planton``, else ``~/.local/state/planton``.

The local emulator's PID file and log (unless ``PLANTON_LOCAL_STATE_DIR`` moves them) and crash
reports live here; terraform's state never does (it lives in each manifest's workspace).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from planton.errors import EnvironmentNotReady
from planton.paths import expand_path, home_directory


def planton_state_dir(environ: Mapping[str, str]) -> Path:
    """Where planton keeps what is its own, per the XDG base directory convention."""
    if environ.get("XDG_STATE_HOME"):
        return expand_path(environ["XDG_STATE_HOME"], "XDG_STATE_HOME", environ) / "planton"
    home = home_directory(environ)
    if home is None:
        raise EnvironmentNotReady(
            "planton's state directory is ~/.local/state/planton, but HOME is not set and this user has no home "
            "directory; set HOME or XDG_STATE_HOME"
        )
    return home / ".local" / "state" / "planton"
