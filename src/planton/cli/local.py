"""``planton local start|status|stop``: the embedded AWS emulator."""

from __future__ import annotations

import os

import typer

from planton import emulator
from planton.cli.output import notify, success

# Its help line is in app.SUB_APPS, which lists it without importing this module.
app = typer.Typer(no_args_is_help=True)


@app.command()
def start() -> None:
    """Start the emulator (the tofu commands' --local does this on demand)."""
    running, started = emulator.ensure_running(emulator.state_dir(os.environ))
    verb = "started" if started else "already running"
    success(f"local emulator {verb} at {running.endpoint_url} (pid {running.pid}, log {running.log_path})")


@app.command()
def status() -> None:
    """Say whether the emulator runs; exit 1 when it does not."""
    running = emulator.status(emulator.state_dir(os.environ))
    if running is None:
        notify("the local emulator is not running")
        raise typer.Exit(1)
    success(f"local emulator running at {running.endpoint_url} (pid {running.pid}, log {running.log_path})")


@app.command()
def stop() -> None:
    """Stop the emulator; its tables are gone with it."""
    stopped = emulator.stop(emulator.state_dir(os.environ))
    if stopped is None:
        notify("the local emulator was not running")
        return
    success(f"stopped the local emulator (pid {stopped.pid})")
