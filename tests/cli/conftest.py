"""Fixtures shared by the console-script tests that need no terraform."""

from __future__ import annotations

from pathlib import Path

import pytest

from e2e_support import Cli, base_env
from support import HACK_MANIFEST


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """The installed CLI with dummy credentials (a module may override it with its own)."""
    env = base_env(tmp_path)
    env.update({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    return Cli(env=env, cwd=tmp_path)


@pytest.fixture
def invalid_manifest(tmp_path: Path) -> Path:
    """The hack manifest without its partition key type: exit 4 wherever it is read."""
    path = tmp_path / "invalid.yaml"
    path.write_text(HACK_MANIFEST.read_text(encoding="utf-8").replace("partition_key_type: STRING", ""))
    return path
