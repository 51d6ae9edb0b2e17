"""``python -m planton`` runs the CLI."""

from planton.cli.app import main

main()
