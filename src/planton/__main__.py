"""``python -m planton`` runs the CLI."""

import sys

from planton.cli.entry import main

sys.exit(main())
