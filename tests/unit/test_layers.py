"""Lower layers never import higher ones: the table layer knows no manifest dialect, and the
core knows nothing of the CLI."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[2] / "src" / "planton"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("module", ["table.py", "plan.py", "state.py", "render.py"])
def test_the_table_layer_imports_no_manifest_dialect(module: str) -> None:
    assert not any(name.startswith("planton.manifest") for name in imported_modules(SRC / module))


CORE = sorted(p for p in SRC.rglob("*.py") if p.name != "__main__.py" and "cli" not in p.relative_to(SRC).parts)


def test_the_core_is_found() -> None:
    names = {str(path.relative_to(SRC)) for path in CORE}
    assert {"operations/run.py", "manifest/loader.py", "plan.py"} <= names
    assert not any(name.startswith("cli/") for name in names)


@pytest.mark.parametrize("path", CORE, ids=lambda p: str(p.relative_to(SRC)))
def test_the_core_never_imports_the_cli(path: Path) -> None:
    modules = imported_modules(path)
    assert not any(name.startswith("planton.cli") for name in modules)
    assert "typer" not in modules
