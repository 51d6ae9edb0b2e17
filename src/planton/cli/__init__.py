"""The command-line interface: Typer apps that parse options and hand them to the core."""
