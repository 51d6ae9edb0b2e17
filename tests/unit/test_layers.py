"""Lower layers never import higher ones: every module under src/planton is placed in a layer
(LAYERS) and imports only from its own layer or lower ones; the table layer knows no manifest
dialect, and the core knows nothing of the CLI."""

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


# --- every module's layer ------------------------------------------------------------------

# Every module under src/planton, lowest layer first. A module may import from its own layer and
# the ones below, never from one above. The order follows the data's one-way flow (STYLE.md):
# file -> model -> TableDefinition -> tfvars + backend + environment -> workspace -> runner ->
# terraform -> plan JSON -> decision -> apply -> what is shown. A new module must be placed here.
LAYERS: dict[str, tuple[str, ...]] = {
    # Import nothing of planton's (the package's own __init__ holds only the version).
    "leaves": ("planton", "findings", "errors", "files", "textfile", "table", "secrets"),
    # Services any layer may use: settings and paths, the one subprocess helper (runner; the
    # manifest files' kustomize runs through it), the terraform child's environment, the emulator
    # process, bug reports.
    "platform": (
        "settings",
        "paths",
        "region",
        "statedir",
        "cachedir",
        "environment",
        "runner",
        "saved_plan_files",
        "emulator",
        "crash_report",
    ),
    # The manifest dialects and their one YAML loader: file -> model -> TableDefinition.
    "manifest": (
        "manifest",
        "manifest.yaml12",
        "manifest.base",
        "manifest.common",
        "manifest.keyschema",
        "manifest.seed",
        "manifest.normalise",
        "manifest.loader",
        "manifest.overrides",
        "manifest.schema",
        "manifest.fields",
    ),
    # Where manifests and credentials come from: files, directories, kustomize, stack inputs.
    "inputs": ("manifest_files", "stack_input", "source"),
    # TableDefinition + provider config -> what terraform is given (pure).
    "definition": ("policy", "policy_file", "credentials", "backend", "render"),
    # Where things are kept: the workspace, the state (local or S3) and planton's records.
    "storage": ("s3", "state", "state_bucket", "workspace", "records"),
    # Judging plans and states: summaries, decisions, account and table guards (pure).
    "decisions": ("plan_json", "cost", "plan_summary", "plan", "accounts", "guards"),
    "operations": (
        "operations",
        "operations.commands",
        "operations.validation",
        "operations.request",
        "operations.results",
        "operations.session",
        "operations.adopt",
        "operations.apply",
        "operations.destroy",
        "operations.reviewed",
        "operations.planning",
        "operations.initialise",
        "operations.run",
        "operations.catalogue",
        "operations.state_commands",
        "operations.fleet",
    ),
    # The --json documents built from operations' results. (STYLE.md would keep renderers in cli/;
    # it lives outside it but is used only by cli/.)
    "presentation": ("documents",),
    "cli": (
        "cli",
        "cli.consoles",
        "cli.early",
        "cli.output",
        "cli.boundary",
        "cli.options",
        "cli.plan_view",
        "cli.fleet_view",
        "cli.local",
        "cli.state",
        "cli.tofu",
        "cli.app",
        "cli.entry",
        "__main__",
    ),
}
LAYER_OF = {module: rank for rank, modules in enumerate(LAYERS.values()) for module in modules}
LAYER_NAMES = list(LAYERS)


def module_name(path: Path) -> str:
    """``cli/tofu.py`` -> ``cli.tofu``; a package's ``__init__.py`` is the package (``planton``
    for the top one)."""
    parts = path.relative_to(SRC).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) or "planton"


ALL_MODULES = {module_name(path): path for path in sorted(SRC.rglob("*.py"))}


def _in_planton(dotted: str) -> str | None:
    """``planton.cli.tofu`` -> ``cli.tofu``; ``planton`` -> ``planton``; anything else None."""
    if dotted == "planton":
        return "planton"
    return dotted.removeprefix("planton.") if dotted.startswith("planton.") else None


def planton_imports(path: Path) -> list[tuple[int, str]]:
    """Every planton module ``path`` imports, with the line: the whole tree, so imports inside
    functions count, and those under ``if TYPE_CHECKING:`` too (a type from a higher layer is a
    dependency on it all the same; none is needed today). ``from planton.x import y`` is the
    module ``x.y`` when that is a module, else ``x``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = module_name(path)
    package = here.split(".") if path.name == "__init__.py" else here.split(".")[:-1]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against this module's package
                base = package[: len(package) - (node.level - 1)]
                dotted = ".".join(
                    ["planton", *[part for part in base if part != "planton"], *filter(None, [node.module])]
                )
            else:
                dotted = node.module or ""
            names = [
                f"{dotted}.{alias.name}" if _in_planton(f"{dotted}.{alias.name}") in ALL_MODULES else dotted
                for alias in node.names
            ]
        else:
            continue
        for name in names:
            module = _in_planton(name)
            if module is not None:
                found.append((node.lineno, module if module in ALL_MODULES else module.rsplit(".", 1)[0]))
    return found


def test_every_module_has_a_layer() -> None:
    missing = sorted(set(ALL_MODULES) - set(LAYER_OF))
    assert not missing, f"place these modules in a layer of LAYERS: {missing}"
    stale = sorted(set(LAYER_OF) - set(ALL_MODULES))
    assert not stale, f"LAYERS names modules that do not exist: {stale}"
    twice = sorted(module for module in LAYER_OF if sum(module in group for group in LAYERS.values()) > 1)
    assert not twice, f"in more than one layer: {twice}"


def test_the_import_finder_sees_every_kind_of_import() -> None:
    names = dict(planton_imports(SRC / "operations" / "request.py"))
    assert "emulator" in names.values()  # from planton import emulator: the module
    assert "operations.commands" in names.values()
    deferred = [module for _, module in planton_imports(SRC / "manifest_files.py")]
    assert "runner" in deferred  # imported inside a function
    typed = [module for _, module in planton_imports(SRC / "documents.py")]
    assert "operations.fleet" in typed  # under TYPE_CHECKING
    assert "planton" in [
        module for _, module in planton_imports(SRC / "crash_report.py")
    ]  # from planton import __version__


@pytest.mark.parametrize("module", sorted(ALL_MODULES))
def test_a_module_imports_only_its_own_layer_or_lower(module: str) -> None:
    if module not in LAYER_OF:
        pytest.skip("not placed: test_every_module_has_a_layer fails")
    mine = LAYER_OF[module]
    upward = [
        f"{ALL_MODULES[module].relative_to(SRC)}:{line} imports planton.{imported} "
        f"(layer {LAYER_NAMES[LAYER_OF[imported]]}) from layer {LAYER_NAMES[mine]}"
        for line, imported in planton_imports(ALL_MODULES[module])
        if LAYER_OF.get(imported, -1) > mine
    ]
    assert not upward, "\n".join(upward)
