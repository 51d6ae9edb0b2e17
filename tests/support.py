"""Helpers shared by unit and e2e tests."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
PLANS = REPO_ROOT / "tests" / "fixtures" / "plans"
HACK_MANIFEST = REPO_ROOT / "hack" / "manifest.yaml"
EXAMPLES = REPO_ROOT / "examples.md"
MODULE_DIR = REPO_ROOT / "modules" / "aws_dynamodb"


def example_blocks() -> list[tuple[str, str]]:
    """(heading, yaml text) for every ```yaml block in examples.md, under its nearest heading."""
    blocks: list[tuple[str, str]] = []
    heading = "(top)"
    lines = EXAMPLES.read_text(encoding="utf-8").splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if line.startswith("#"):
            heading = line.lstrip("#").strip()
        if line.strip() == "```yaml":
            end = lines.index("```", index + 1)
            blocks.append((heading, "\n".join(lines[index + 1 : end]) + "\n"))
            index = end
        index += 1
    return blocks


def slug(text: str) -> str:
    """A test-id friendly form of a heading."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def object_attributes(variable: str) -> list[str]:
    """The top-level attribute names of ``variable``'s ``type = object({...})`` in variables.tf."""
    text = (MODULE_DIR / "variables.tf").read_text(encoding="utf-8")
    start = text.index(f'variable "{variable}"')
    body_start = text.index("object({", start) + len("object({")
    depth, names, token, line_depth = 1, [], "", 1
    for position in range(body_start, len(text)):
        char = text[position]
        if not token:
            line_depth = depth
        if char in "({[":
            depth += 1
        elif char in ")}]":
            depth -= 1
            if depth == 0:
                break
        elif char == "\n":
            match = re.match(r"\s*([a-z_][a-z0-9_]*)\s*=", token)
            if match and line_depth == 1:
                names.append(match.group(1))
            token = ""
            continue
        token += char
    return names


def recorded_plan(name: str) -> dict[str, Any]:
    """The ``show -json`` document recorded in ``tests/fixtures/plans/<name>.json``."""
    document: dict[str, Any] = json.loads((PLANS / f"{name}.json").read_text(encoding="utf-8"))
    return document
