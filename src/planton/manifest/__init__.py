"""The AwsDynamodb manifest: models, loading and normalisation into a table definition."""

from planton.manifest.loader import LoadedManifest
from planton.manifest.normalise import Manifest

__all__ = ["LoadedManifest", "Manifest"]
