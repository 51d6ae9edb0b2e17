"""Every relative link in the documentation leads somewhere: the file exists, and a ``#anchor``
names a heading of that file as GitHub spells its anchors (lowercase, spaces to ``-``,
punctuation dropped, a repeated heading numbered ``-1``, ``-2``, ...); and every test a document
names as ``tests/path.py::test_name`` exists."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).parents[2]
DOCUMENTS = sorted([REPO_ROOT / "README.md", REPO_ROOT / "examples.md", *(REPO_ROOT / "docs").glob("*.md")])

# [text](target) or [text](target "title"); images too. Autolinks and reference links are not used.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
FENCE = re.compile(r"^(```|~~~)")
CODE_SPAN = re.compile(r"`+[^`]*`+")


def prose_lines(text: str) -> list[str]:
    """The lines outside fenced code blocks, with inline code spans blanked out."""
    lines: list[str] = []
    fenced = False
    for line in text.splitlines():
        if FENCE.match(line.lstrip()):
            fenced = not fenced
            lines.append("")
            continue
        lines.append("" if fenced else line)
    return lines


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: its text without markup, lowercased, every character
    that is not a letter, digit, space, ``-`` or ``_`` dropped, and each space made a ``-``."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link keeps its text
    text = text.replace("`", "").replace("*", "")
    text = text.strip().lower()
    text = "".join(ch for ch in text if ch.isalnum() or ch in " -_")
    return text.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    seen: dict[str, int] = {}
    for line in prose_lines(path.read_text(encoding="utf-8")):
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not match:
            continue
        anchor = github_anchor(match.group(1))
        count = seen.get(anchor, 0)
        seen[anchor] = count + 1
        found.add(anchor if count == 0 else f"{anchor}-{count}")
    return found


def relative_links(path: Path) -> list[tuple[int, str]]:
    links: list[tuple[int, str]] = []
    for number, line in enumerate(prose_lines(path.read_text(encoding="utf-8")), start=1):
        for target in LINK.findall(CODE_SPAN.sub("", line)):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto:, ...
                continue
            links.append((number, target))
    return links


def test_github_anchors_are_spelt_as_github_spells_them() -> None:
    assert github_anchor("Overrides: `--set`") == "overrides---set"
    assert github_anchor("Terraform's Go runtime") == "terraforms-go-runtime"
    assert github_anchor("Init, exactly when needed") == "init-exactly-when-needed"
    assert github_anchor("Beyond one machine: shards") == "beyond-one-machine-shards"


def test_the_documentation_is_found() -> None:
    names = {str(path.relative_to(REPO_ROOT)) for path in DOCUMENTS}
    assert {"README.md", "examples.md", "docs/guarantees.md", "docs/cli.md"} <= names


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_relative_link_resolves(document: Path) -> None:
    broken: list[str] = []
    for number, target in relative_links(document):
        file_part, _, anchor = target.partition("#")
        destination = (document.parent / file_part).resolve() if file_part else document
        where = f"{document.relative_to(REPO_ROOT)}:{number}: {target}"
        if not destination.exists():
            broken.append(f"{where}: no such file")
        elif anchor and destination.suffix == ".md" and anchor not in anchors(destination):
            broken.append(f"{where}: no heading with that anchor")
    assert not broken, "\n".join(broken)


TEST_REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(test_\w+)`")


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_every_test_a_document_names_exists(document: Path) -> None:
    # docs/guarantees.md proves each promise by naming its tests: a renamed test must not leave
    # a promise pointing at nothing.
    missing = [
        f"{path}::{name}"
        for path, name in TEST_REFERENCE.findall(document.read_text(encoding="utf-8"))
        if not (REPO_ROOT / path).is_file()
        or not re.search(rf"^\s*def {name}\(", (REPO_ROOT / path).read_text(encoding="utf-8"), flags=re.MULTILINE)
    ]
    assert not missing, "\n".join(missing)


def test_the_guarantees_name_their_tests() -> None:
    assert len(TEST_REFERENCE.findall((REPO_ROOT / "docs" / "guarantees.md").read_text(encoding="utf-8"))) > 100
