"""Which manifests a command names: ``--manifest`` files and directories (repeatable),
``--input-dir DIR`` (its ``target.yaml``) or ``--kustomize-dir DIR --overlay NAME`` (the
documents ``kustomize build DIR/overlays/NAME`` emits), narrowed by ``--exclude``.

Project Planton's precedence holds: ``--manifest`` over ``--input-dir`` over
``--kustomize-dir`` (a stack input's ``target`` wins over all of them, in ``source``). Nothing
here validates a manifest; it only finds them, in a stable order.
"""

from __future__ import annotations

import fnmatch
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from planton.errors import EnvironmentNotReady, Interrupted, ManifestError, UsageError
from planton.findings import Finding, notice
from planton.manifest.loader import MAX_MANIFEST_BYTES, parse_yaml_stream

# The file Project Planton reads in an --input-dir.
INPUT_DIR_TARGET = "target.yaml"
# Work dirs planton makes beside manifests: never searched for manifests.
WORK_DIR_NAME = ".planton"
_SUFFIXES = (".yaml", ".yml")
# The tools that build a kustomization, in the order they are looked for on PATH.
KUSTOMIZE_TOOLS = (("kustomize", ("build",)), ("kubectl", ("kustomize",)))


@dataclass(frozen=True)
class ManifestOptions:
    """The options that name manifests, as given."""

    manifests: tuple[Path, ...] = ()
    input_dir: Path | None = None
    kustomize_dir: Path | None = None
    overlay: str | None = None
    excludes: tuple[str, ...] = ()


@dataclass(frozen=True)
class FoundManifest:
    """One manifest to read: a file, or a document a kustomize build emitted (``built``), which
    messages name by ``label`` and whose state lives beside ``path``."""

    path: Path
    label: str
    built: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class FoundManifests:
    """The manifests the options name, in a stable order; ``fleet`` when the options name a
    set (a directory, several files, or a build with several documents) rather than one file."""

    manifests: tuple[FoundManifest, ...]
    fleet: bool
    # The options that name these manifests again in a suggested command.
    input_args: tuple[str, ...] = ()
    warnings: tuple[Finding, ...] = ()


def find_manifests(options: ManifestOptions, environ: Mapping[str, str]) -> FoundManifests:
    """The manifests ``options`` name. A directory holds every ``*.yaml``/``*.yml`` below it,
    sorted by path, outside ``.planton`` work dirs and what ``--exclude`` leaves out."""
    if options.overlay is not None and options.kustomize_dir is None:
        raise UsageError("--overlay names an overlay of a kustomization: give --kustomize-dir DIR too")
    if options.kustomize_dir is not None and options.overlay is None:
        raise UsageError(
            f"--kustomize-dir {options.kustomize_dir}: give --overlay NAME too (the build target is "
            f"{options.kustomize_dir}/overlays/NAME)"
        )
    ignored = []
    if options.manifests:
        if options.input_dir is not None:
            ignored.append(f"--input-dir {options.input_dir}")
        if options.kustomize_dir is not None:
            ignored.append(f"--kustomize-dir {options.kustomize_dir}")
        found = _from_paths(options.manifests, options.excludes)
    elif options.input_dir is not None:
        if options.kustomize_dir is not None:
            ignored.append(f"--kustomize-dir {options.kustomize_dir}")
        found = _from_input_dir(options.input_dir)
    elif options.kustomize_dir is not None and options.overlay is not None:
        found = _from_kustomize(options.kustomize_dir, options.overlay, environ)
    else:
        raise UsageError("no manifest: give --manifest FILE|DIR (-f), --input-dir DIR or --kustomize-dir DIR")
    if ignored:
        winner = "--manifest" if options.manifests else "--input-dir"
        warning = notice(
            "input-ignored",
            f"{' and '.join(ignored)} {'is' if len(ignored) == 1 else 'are'} ignored: {winner} names the manifests "
            "(precedence, as in project-planton: --manifest > --input-dir > --kustomize-dir)",
        )
        found = FoundManifests(found.manifests, found.fleet, found.input_args, (*found.warnings, warning))
    return found


def _from_paths(paths: Sequence[Path], excludes: Sequence[str]) -> FoundManifests:
    manifests: list[FoundManifest] = []
    fleet = len(paths) > 1
    args: list[str] = []
    for path in paths:
        args += ["-f", str(path)]
        if path.is_dir():
            fleet = True
            inside = _yaml_files_in(path, excludes)
            if not inside:
                shown = f" (--exclude left out {len(excludes)} pattern(s))" if excludes else ""
                raise UsageError(f"--manifest {path}: the directory holds no *.yaml or *.yml file{shown}")
            manifests += [FoundManifest(found, str(found)) for found in inside]
        elif not _excluded(path, path.name, excludes):
            manifests.append(FoundManifest(path, str(path)))
    if not manifests:
        raise UsageError("--exclude left out every manifest given; nothing to do")
    unique = list({os.path.realpath(found.path): found for found in reversed(manifests)}.values())[::-1]
    if len(unique) < len(manifests):
        kept = {id(found) for found in unique}
        repeated = [found.label for found in manifests if id(found) not in kept]
        raise UsageError(f"--manifest names the same file more than once: {', '.join(repeated)}; name each once")
    return FoundManifests(tuple(manifests), fleet, tuple(args))


def _yaml_files_in(directory: Path, excludes: Sequence[str]) -> list[Path]:
    """The YAML files below ``directory``, sorted by their path relative to it; ``.planton``
    work dirs are never entered. Links to directories are followed, each real directory once
    (a loop of links ends where it began)."""
    found: list[tuple[str, Path]] = []
    visited = {os.path.realpath(directory)}
    for root, dirs, files in os.walk(directory, followlinks=True):
        relative_root = Path(root).relative_to(directory)
        kept = []
        for name in sorted(dirs):
            if name == WORK_DIR_NAME or _excluded(relative_root / name, name, excludes, directory=True):
                continue
            real = os.path.realpath(Path(root) / name)
            if real in visited:
                continue
            visited.add(real)
            kept.append(name)
        dirs[:] = kept
        for name in files:
            if not name.endswith(_SUFFIXES):
                continue
            relative = relative_root / name
            if _excluded(relative, name, excludes):
                continue
            found.append((relative.as_posix(), Path(root) / name))
    return [path for _, path in sorted(found)]


def _excluded(relative: Path, name: str, excludes: Sequence[str], *, directory: bool = False) -> bool:
    """``--exclude GLOB`` matches a file (or directory) by its path below the directory given, or
    by its name alone: ``drafts``, ``drafts/*``, ``*.draft.yaml`` and ``kustomization.yaml`` all
    work as written."""
    text = relative.as_posix()
    for pattern in excludes:
        pattern = pattern.rstrip("/")
        if fnmatch.fnmatchcase(text, pattern) or fnmatch.fnmatchcase(name, pattern):
            return True
        if directory and fnmatch.fnmatchcase(text + "/x", pattern):  # drafts/* leaves out drafts/
            return True
    return False


def _from_input_dir(directory: Path) -> FoundManifests:
    if not directory.is_dir():
        what = "does not exist" if not os.path.lexists(directory) else "is not a directory"
        raise UsageError(f"--input-dir {directory} {what}; name the directory that holds {INPUT_DIR_TARGET}")
    target = directory / INPUT_DIR_TARGET
    if not target.is_file():
        raise UsageError(
            f"--input-dir {directory} holds no {INPUT_DIR_TARGET}: project-planton reads the manifest from "
            f"DIR/{INPUT_DIR_TARGET}; put it there, or give the file with --manifest"
        )
    return FoundManifests((FoundManifest(target, str(target)),), False, ("--input-dir", str(directory)))


def kustomize_tool(environ: Mapping[str, str]) -> tuple[Path, tuple[str, ...]]:
    """``kustomize build`` or ``kubectl kustomize``, whichever is on PATH (kustomize first)."""
    search_path = environ.get("PATH", os.defpath)
    for name, args in KUSTOMIZE_TOOLS:
        found = shutil.which(name, path=search_path)
        if found:
            return Path(found).absolute(), args
    raise EnvironmentNotReady(
        "--kustomize-dir needs kustomize or kubectl on PATH to build the overlay, and neither is there; install "
        "one (https://kubectl.docs.kubernetes.io/installation/kustomize/), or build it yourself and pass the "
        "output with --manifest"
    )


def _from_kustomize(directory: Path, overlay: str, environ: Mapping[str, str]) -> FoundManifests:
    if not overlay or "/" in overlay or overlay in (".", ".."):
        raise UsageError(f"--overlay {overlay!r}: name one directory under {directory}/overlays")
    target = directory / "overlays" / overlay
    if not directory.is_dir():
        raise UsageError(f"--kustomize-dir {directory} is not a directory")
    if not target.is_dir():
        present = (
            sorted(p.name for p in (directory / "overlays").iterdir() if p.is_dir())
            if (directory / "overlays").is_dir()
            else []
        )
        known = f" (its overlays: {', '.join(present)})" if present else ""
        raise UsageError(f"--overlay {overlay}: {target} is not a directory{known}")
    # Deferred: the process runner is for the builds that need it; validate of files never loads it.
    from planton.runner import Invocation, run

    tool, args = kustomize_tool(environ)
    keep = ("PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "KUBECONFIG")
    env = {name: environ[name] for name in keep if name in environ}
    result = run(Invocation(tool, [*args, str(target.absolute())], Path.cwd(), env), capture=True, watch_stderr=True)
    label = f"{target} (built with {tool.name} {' '.join(args)})"
    if result.interrupted_by is not None:
        raise Interrupted(result.interrupted_by)
    if result.returncode != 0:
        said = result.stderr.strip().splitlines()[-1:] or [f"exit status {result.returncode}"]
        raise ManifestError(label, [f"(build): {tool.name} failed: {said[0]}"], what="kustomization")
    if len(result.stdout.encode()) > MAX_MANIFEST_BYTES * 16:
        raise ManifestError(label, ["(build): the build's output is larger than 16 MiB"], what="kustomization")
    documents = [doc for doc in parse_yaml_stream(result.stdout, label, what="kustomize build") if doc is not None]
    if not documents:
        raise ManifestError(label, ["(build): the build emitted no document"], what="kustomization")
    found = []
    names: set[str] = set()
    for index, document in enumerate(documents, 1):
        name = _document_name(document, index)
        name = name if name not in names else f"{name}-{index}"
        names.add(name)
        # Named as if the document were a file in the overlay: its state lives beside the overlay.
        found.append(FoundManifest(target / f"{name}.yaml", f"{target} (document {index}: {name})", built=document))
    return FoundManifests(tuple(found), len(found) > 1, ("--kustomize-dir", str(directory), "--overlay", overlay))


def _document_name(document: Any, index: int) -> str:
    """A document's metadata.name when it is one a file can be named by, else its position."""
    metadata = document.get("metadata") if isinstance(document, Mapping) else None
    name = metadata.get("name") if isinstance(metadata, Mapping) else None
    if isinstance(name, str) and name and all(c.isalnum() or c in "-_." for c in name) and name[0] != ".":
        return name
    return f"document-{index}"
