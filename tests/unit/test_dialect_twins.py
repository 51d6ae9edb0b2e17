"""Every capability example (examples.md, current dialect) renders exactly like its flat twin
(tests/fixtures/twins) and like its golden terraform.tfvars.json (tests/fixtures/golden)."""

from __future__ import annotations

from pathlib import Path

import pytest

from planton.manifest.keyschema import KeySchemaManifest
from planton.manifest.loader import parse_yaml, validate_document
from planton.manifest.normalise import table_from_manifest
from planton.manifest.seed import SeedManifest
from planton.render import render_variables, variables_json
from planton.source import ManifestSource, load_input

from support import REPO_ROOT, example_blocks, slug

TWINS = REPO_ROOT / "tests" / "fixtures" / "twins"
GOLDEN = REPO_ROOT / "tests" / "fixtures" / "golden"
CAPABILITY_EXAMPLES = [(slug(heading), text) for heading, text in example_blocks() if "keySchema" in text]


def _render(text: str, source: str) -> str:
    table = table_from_manifest(validate_document(parse_yaml(text, source), source))
    return variables_json(render_variables(table, table.aws_region or "us-east-1"))


def test_every_capability_has_an_example_and_a_twin() -> None:
    names = {name for name, _ in CAPABILITY_EXAMPLES}
    assert {path.stem for path in TWINS.glob("*.yaml")} == names
    for capability in (
        "global-secondary",
        "local-secondary",
        "time-to-live",
        "streams",
        "kms",
        "point-in-time",
        "table-class",
        "tags",
        "auto-scaling",
        "on-demand",
        "alarms",
        "everything",
    ):
        assert any(capability in name for name in names), capability


@pytest.mark.parametrize(("name", "text"), CAPABILITY_EXAMPLES, ids=[name for name, _ in CAPABILITY_EXAMPLES])
def test_example_is_the_current_dialect(name: str, text: str) -> None:
    assert isinstance(validate_document(parse_yaml(text, name), name), KeySchemaManifest)


@pytest.mark.parametrize(("name", "text"), CAPABILITY_EXAMPLES, ids=[name for name, _ in CAPABILITY_EXAMPLES])
def test_flat_twin_renders_identically(name: str, text: str) -> None:
    twin = TWINS / f"{name}.yaml"
    assert isinstance(load_input(ManifestSource(manifest=twin)).manifest.model, SeedManifest)
    assert _render(twin.read_text(encoding="utf-8"), str(twin)) == _render(text, name)


@pytest.mark.parametrize(("name", "text"), CAPABILITY_EXAMPLES, ids=[name for name, _ in CAPABILITY_EXAMPLES])
def test_example_matches_its_golden_rendering(name: str, text: str) -> None:
    golden: Path = GOLDEN / f"{name}.tfvars.json"
    assert _render(text, name) == golden.read_text(encoding="utf-8")
