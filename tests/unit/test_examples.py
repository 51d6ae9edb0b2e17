"""Every YAML block in examples.md is a valid manifest, the seed's five examples are there, and
the examples the local emulator cannot run say so."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from planton.manifest.loader import LoadedManifest, parse_yaml, validate_document
from planton.manifest.normalise import table_from_manifest
from planton.operations.request import emulator_gaps

from support import EXAMPLES, example_blocks, slug

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


def _prose(heading: str) -> str:
    """The text of examples.md's section ``heading``, without its YAML block."""
    section = EXAMPLES.read_text(encoding="utf-8").split(f"\n## {heading}\n", 1)[1].split("\n#", 1)[0]
    return re.sub(r"```yaml\n.*?```", "", section, flags=re.DOTALL)


@pytest.mark.parametrize(("heading", "text"), BLOCKS, ids=[slug(h) for h, _ in BLOCKS])
def test_examples_the_emulator_cannot_run_say_so(heading: str, text: str) -> None:
    # `apply --local` refuses what the emulator cannot serve (operations/request.py).
    document = parse_yaml(text, heading)
    loaded = LoadedManifest(path=Path("m.yaml"), document=document, model=validate_document(document, heading))
    refused = bool(emulator_gaps(loaded))
    assert ("Not on the local emulator" in _prose(heading)) == refused
