"""The region a run targets: the manifest's, else the environment's, else a clear usage error."""

from __future__ import annotations

import pytest

from planton.credentials import provider_config_from_environment
from planton.errors import UsageError
from planton.region import LOCAL_DEFAULT_REGION, resolve_region


def test_manifest_region_wins() -> None:
    assert resolve_region("eu-west-2", "us-east-1", local=False) == "eu-west-2"
    # Even over a malformed environment region, which is then irrelevant.
    assert resolve_region("eu-west-2", "not a region", local=False) == "eu-west-2"
    assert resolve_region("eu-west-2", None, local=True) == "eu-west-2"


@pytest.mark.parametrize("region", ["us-east-1", "us-gov-west-1", "ap-southeast-2"])
def test_falls_back_to_environment(region: str) -> None:
    assert resolve_region(None, region, local=False) == region


def test_from_default_region_variable() -> None:
    config = provider_config_from_environment({"AWS_DEFAULT_REGION": "sa-east-1"})
    assert resolve_region(None, config.region, local=False) == "sa-east-1"


def test_local_emulator_has_a_default() -> None:
    assert resolve_region(None, None, local=True) == LOCAL_DEFAULT_REGION


def test_missing() -> None:
    with pytest.raises(UsageError) as caught:
        resolve_region(None, None, local=False)
    assert caught.value.message == (
        "spec.awsRegion (aws_region): not set, and neither is a provider config's region, AWS_REGION or "
        "AWS_DEFAULT_REGION; set the region in the manifest or export AWS_REGION"
    )


@pytest.mark.parametrize("region", ["US-EAST-1", "useast1", "eu-west", "us-east-1 ", "frankfurt"])
def test_malformed_environment_region(region: str) -> None:
    with pytest.raises(UsageError, match="does not look like an AWS region") as caught:
        resolve_region(None, region, local=False)
    assert "AWS_REGION / AWS_DEFAULT_REGION" in caught.value.message
    assert repr(region) in caught.value.message
