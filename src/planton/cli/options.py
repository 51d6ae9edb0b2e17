"""Options shared by several commands, declared once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

Manifest = Annotated[
    Path,
    typer.Option("--manifest", "-f", help="The AwsDynamodb manifest (YAML).", show_default=False),
]
Local = Annotated[
    bool,
    typer.Option("--local", help="Target the local AWS emulator (moto server on 127.0.0.1), started on demand."),
]
Binary = Annotated[
    str | None,
    typer.Option(
        "--binary", help="tofu/terraform executable [env: PLANTON_TOFU_BINARY; default: tofu, else terraform]."
    ),
]
PluginMirror = Annotated[
    Path | None,
    typer.Option(
        "--plugin-mirror", help="Install providers only from this filesystem mirror [env: PLANTON_PLUGIN_MIRROR]."
    ),
]
WorkDir = Annotated[
    Path | None,
    typer.Option(
        "--work-dir",
        file_okay=False,
        help="Where workspaces and state live [env: PLANTON_WORK_DIR; default: .planton beside the manifest].",
    ),
]
NoColor = Annotated[bool, typer.Option("--no-color", help="No colour in terraform's output.")]
AutoApprove = Annotated[bool, typer.Option("--auto-approve", help="Do not ask for confirmation.")]
