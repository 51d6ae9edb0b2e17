"""``python -m planton`` runs the CLI."""

import sys

from planton.cli.app import main

sys.exit(main())
