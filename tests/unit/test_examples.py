"""Every YAML block in examples.md is a valid manifest, and the seed's five examples are there."""

from __future__ import annotations

import pytest

from planton.manifest.loader import parse_yaml, validate_document
from planton.manifest.normalise import table_from_manifest

from support import example_blocks, slug

BLOCKS = example_blocks()


def test_examples_has_the_seed_readmes_examples() -> None:
    headings = " / ".join(heading.lower() for heading, _ in BLOCKS)
    for topic in ("minimal", "pay-per-request", "provisioned", "composite key", "binary", "development", "production"):
        assert topic in headings
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize(("heading", "text"), BLOCKS, ids=[slug(h) for h, _ in BLOCKS])
def test_example_validates(heading: str, text: str) -> None:
    table = table_from_manifest(validate_document(parse_yaml(text, heading), heading))
    assert table.aws_region, "every example names its region so it deploys as written"


def test_examples_use_distinct_table_names() -> None:
    names = [table_from_manifest(validate_document(parse_yaml(t, h), h)).table_name for h, t in BLOCKS]
    assert len(names) == len(set(names))
