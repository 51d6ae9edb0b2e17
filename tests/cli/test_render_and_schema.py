"""``planton render`` and ``planton schema`` through the installed console script."""

from __future__ import annotations

import json

import jsonschema
import yaml

from e2e_support import Cli
from support import HACK_MANIFEST, REPO_ROOT

GOLDEN = REPO_ROOT / "tests" / "fixtures" / "golden" / "hack-manifest.tfvars.json"


def test_render_prints_the_variables_file(cli: Cli) -> None:
    result = cli.run("render", "-f", str(HACK_MANIFEST))
    assert result.returncode == 0, result.stderr
    assert result.stdout == GOLDEN.read_text(encoding="utf-8")
    for secret in (cli.env["AWS_ACCESS_KEY_ID"], cli.env["AWS_SECRET_ACCESS_KEY"]):
        assert f'"{secret}"' not in result.stdout


def test_render_applies_overrides_and_refuses_a_bad_manifest(cli: Cli) -> None:
    result = cli.run("render", "-f", str(HACK_MANIFEST), "--set", "spec.table_name=renamed")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["spec"]["table_name"] == "renamed"
    bad = cli.run("render", "-f", str(HACK_MANIFEST), "--set", "spec.billing_mode=FREE")
    assert bad.returncode == 4
    assert bad.stdout == ""


def test_schema_is_a_json_schema_the_hack_manifest_meets(cli: Cli) -> None:
    result = cli.run("schema")
    assert result.returncode == 0, result.stderr
    schema = json.loads(result.stdout)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(yaml.safe_load(HACK_MANIFEST.read_text(encoding="utf-8")), schema)
