"""Manifest dialects -> the one internal ``TableDefinition``.

Today one dialect (the seed's flat spec, ``seed.py``); each dialect has a module of its own and
this is the one place that knows them all.
"""

from __future__ import annotations

from planton.manifest.seed import AwsDynamodbManifest, table_from_seed
from planton.table import TableDefinition


def table_from_manifest(manifest: AwsDynamodbManifest) -> TableDefinition:
    """The table a validated manifest describes, whatever its dialect."""
    return table_from_seed(manifest)
