"""Which region a run targets, decided once: the manifest's, else the environment's (or, for the
local emulator, a fixed default)."""

from __future__ import annotations

from planton.errors import UsageError
from planton.table import looks_like_region

LOCAL_DEFAULT_REGION = "us-east-1"
# The manifest field, in both of its spellings.
MANIFEST_FIELD = "spec.awsRegion (aws_region)"


def resolve_region(manifest_region: str | None, environment_region: str | None, *, local: bool) -> str:
    """The manifest's region wins; else the environment's (``AWS_REGION`` / ``AWS_DEFAULT_REGION``);
    against the local emulator, else ``us-east-1``; else a UsageError saying what to set."""
    if manifest_region:
        return manifest_region
    if local:
        return LOCAL_DEFAULT_REGION
    if not environment_region:
        raise UsageError(
            f"{MANIFEST_FIELD}: not set, and neither is a provider config's region, AWS_REGION or "
            "AWS_DEFAULT_REGION; set the region in the manifest or export AWS_REGION"
        )
    if not looks_like_region(environment_region):
        raise UsageError(
            f"AWS_REGION / AWS_DEFAULT_REGION: {environment_region!r} does not look like an AWS region; "
            f"use a code such as us-east-1, or set {MANIFEST_FIELD}"
        )
    return environment_region
