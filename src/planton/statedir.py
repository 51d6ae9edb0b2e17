"""planton's own state directory: ``$XDG_STATE_HOME/planton``, else ``~/.local/state/planton``.

The local emulator's PID file and log (unless ``PLANTON_LOCAL_STATE_DIR`` moves them) and crash
reports live here; terraform's state never does (it lives in each manifest's workspace).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path


def planton_state_dir(environ: Mapping[str, str]) -> Path:
    """Where planton keeps what is its own, per the XDG base directory convention."""
    if environ.get("XDG_STATE_HOME"):
        base = Path(environ["XDG_STATE_HOME"]).expanduser()
    else:
        base = Path(environ.get("HOME") or "~").expanduser() / ".local" / "state"
    return base / "planton"
