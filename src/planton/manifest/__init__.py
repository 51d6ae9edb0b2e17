"""The AwsDynamodb manifest: models, loading and normalisation into a table definition."""

from planton.manifest.loader import LoadedManifest, load_manifest
from planton.manifest.normalise import Manifest

__all__ = ["LoadedManifest", "Manifest", "load_manifest"]
