"""The AwsDynamodb manifest: models, loading and normalisation into a table definition."""

from planton.manifest.loader import LoadedManifest, load_manifest
from planton.manifest.seed import AwsDynamodbManifest

__all__ = ["AwsDynamodbManifest", "LoadedManifest", "load_manifest"]
