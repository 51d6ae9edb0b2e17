"""Options shared by several commands, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def _non_empty_path(value: str) -> Path:
    # Path("") is ".", so an empty value (an unset variable in a script: --work-dir "$DIR")
    # would silently mean the current directory.
    if not value:
        raise typer.BadParameter("must not be empty; name a directory")
    return Path(value)


# Paths are checked by planton itself, not by click: its checks exit 2 for what is a bad
# manifest (4: an unreadable file) or an unready environment, and word it its own way.
Manifest = Annotated[
    Path,
    typer.Option(
        "--manifest",
        "-f",
        help="The AwsDynamodb manifest (YAML).",
        show_default=False,
        readable=False,
        resolve_path=False,
    ),
]
Local = Annotated[
    bool,
    typer.Option("--local", help="Target the local AWS emulator (moto server on 127.0.0.1), started on demand."),
]
Binary = Annotated[
    str | None,
    typer.Option(
        "--binary", help="tofu/terraform executable (env: PLANTON_TOFU_BINARY; default: tofu, else terraform)."
    ),
]
PluginMirror = Annotated[
    Path | None,
    typer.Option(
        "--plugin-mirror",
        parser=_non_empty_path,
        metavar="DIRECTORY",
        help="Install providers only from this filesystem mirror (env: PLANTON_PLUGIN_MIRROR).",
    ),
]
WorkDir = Annotated[
    Path | None,
    typer.Option(
        "--work-dir",
        parser=_non_empty_path,
        metavar="DIRECTORY",
        help="Where workspaces and state live (env: PLANTON_WORK_DIR; default: .planton beside the manifest).",
    ),
]
NoColor = Annotated[bool, typer.Option("--no-color", help="No colour in terraform's output.")]
AutoApprove = Annotated[bool, typer.Option("--auto-approve", help="Do not ask for confirmation.")]
