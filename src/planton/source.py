"""Where a command's manifest and provider config come from: ``--manifest``, ``--stack-input``
(its ``target`` and ``provider_config``), ``--aws-provider-config`` and ``--set``.

Precedence, as in Project Planton: the stack input's ``target`` over ``--manifest``;
``--aws-provider-config`` over the stack input's ``provider_config`` over the environment (see
``credentials.merge_provider_config``). ``--set`` overrides apply to whichever manifest won,
before it is validated.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from planton.errors import ManifestError, UsageError
from planton.findings import Finding, notice
from planton.manifest.base import shown, text_problem
from planton.manifest.loader import DEFAULT_WAIT_SECONDS, LoadedManifest, read_manifest_document, validate_document
from planton.manifest.overrides import Override, apply_overrides, from_overrides, parse_override
from planton.manifest_files import ManifestOptions, find_manifests
from planton.stack_input import ProviderConfigInput, read_provider_config, read_stack_input


@dataclass(frozen=True)
class ManifestSource:
    """The options that say where the manifest and the provider config come from."""

    manifest: Path | None = None
    stack_input: Path | None = None
    overrides: tuple[str, ...] = ()
    provider_config: Path | None = None
    # A document a kustomize build emitted, read instead of the file ``manifest`` (which then
    # only says where its state lives beside), and how messages name it.
    built: Mapping[str, Any] | None = field(default=None, repr=False)
    label: str | None = None
    # The options that name the manifest in a suggested command, when not ``-f manifest``
    # (--input-dir DIR, --kustomize-dir DIR --overlay NAME).
    named_by: tuple[str, ...] = ()
    # What choosing the manifest had to say (a source ignored by precedence).
    warnings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class LoadedInput:
    """A validated manifest, the provider config given in files (if any), and what to tell the
    user about them."""

    manifest: LoadedManifest
    # The provider configs the files give, lowest precedence first (the stack input's, then
    # --aws-provider-config's); credentials.merge_provider_config lays them over the environment.
    provider_configs: tuple[ProviderConfigInput, ...] = field(default=(), repr=False)
    warnings: tuple[Finding, ...] = ()
    # The options that name these inputs again in a suggested command (-f m.yaml, -i stack.yaml,
    # --aws-provider-config ...), and the --set overrides, each as arguments.
    input_args: tuple[str, ...] = ()
    override_args: tuple[str, ...] = ()
    # The option the manifest came through: --manifest, or --stack-input (its target).
    manifest_option: str = "--manifest"
    # The manifest is a kustomize build's document, not a file of its own.
    built: bool = False


def load_input(source: ManifestSource, *, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> LoadedInput:
    """Read, override and validate the manifest; read the provider config files. Nothing is
    written or run; every problem is a UsageError (exit 2) or a ManifestError (exit 4)."""
    overrides = [parse_override(raw) for raw in source.overrides]
    warnings: list[Finding] = list(source.warnings)
    configs: list[ProviderConfigInput] = []
    option = "--manifest"
    if source.stack_input is not None:
        stack = read_stack_input(source.stack_input, wait_seconds=wait_seconds)
        warnings += stack.warnings
        configs += [stack.provider_config] if stack.provider_config is not None else []
        if stack.target is not None:
            if source.manifest is not None:
                warnings.append(
                    notice(
                        "input-ignored",
                        f"--manifest {source.manifest} is ignored: the stack input's target is the manifest "
                        "(a stack input's target wins, as in project-planton)",
                    )
                )
            label = f"{source.stack_input} (target)"
            manifest = _validated(source.stack_input, label, stack.target, stack.regular_file, overrides)
            input_args: tuple[str, ...] = ("-i", str(source.stack_input))
            option = "--stack-input"
        elif source.manifest is not None:
            manifest = _load(source, source.manifest, overrides, wait_seconds)
            input_args = (*(source.named_by or ("-f", str(source.manifest))), "-i", str(source.stack_input))
        else:
            raise UsageError(
                f"--stack-input {source.stack_input} has no target; add the manifest under target:, "
                "or give it with --manifest FILE"
            )
    elif source.manifest is not None:
        manifest = _load(source, source.manifest, overrides, wait_seconds)
        input_args = source.named_by or ("-f", str(source.manifest))
    else:
        raise UsageError("no manifest: give --manifest FILE (-f), or --stack-input FILE (-i) with a target")
    if source.provider_config is not None:
        given, exposed = read_provider_config(source.provider_config, wait_seconds=wait_seconds)
        configs.append(given)
        warnings += exposed
        input_args += ("--aws-provider-config", str(source.provider_config))
    return LoadedInput(
        manifest=manifest,
        provider_configs=tuple(configs),
        warnings=tuple(warnings),
        input_args=input_args,
        override_args=tuple(arg for raw in source.overrides for arg in ("--set", raw)),
        manifest_option=option,
        built=source.built is not None,
    )


def _load(source: ManifestSource, path: Path, overrides: Sequence[Override], wait_seconds: float) -> LoadedManifest:
    if source.built is not None:
        return _validated(path, source.label or str(path), source.built, True, overrides)
    document, regular = read_manifest_document(path, wait_seconds=wait_seconds)
    return _validated(path, source.label or str(path), document, regular, overrides)


def _validated(
    path: Path, label: str, document: Mapping[str, Any], regular: bool, overrides: Sequence[Override]
) -> LoadedManifest:
    """The document with the overrides applied, validated; each problem an override caused
    names the ``--set`` it came from."""
    overridden = apply_overrides(document, overrides) if overrides else dict(document)
    try:
        model = validate_document(overridden, label)
    except ManifestError as err:
        if not overrides:
            raise
        raise ManifestError(
            err.source, [_blame(problem, overrides) for problem in err.problems], what=err.what
        ) from None
    return LoadedManifest(path=path, document=overridden, model=model, regular_file=regular)


def _blame(problem: str, overrides: Sequence[Override]) -> str:
    path = problem.split(": ", 1)[0]
    cause = from_overrides(path, overrides)
    if cause is None:
        return problem
    if text_problem(cause.raw) is not None:  # named by its path: a value that is not text is never quoted
        return f"{problem} (set by --set {cause.dotted}=...)"
    return f"{problem} (set by --set {shown(cause.raw)})"


@dataclass(frozen=True)
class Selection:
    """The manifests a command runs on, each with its own ``ManifestSource``; ``fleet`` when the
    options name a set (then every command reports per manifest), even a set of one."""

    sources: tuple[ManifestSource, ...]
    fleet: bool
    warnings: tuple[Finding, ...] = ()


def select_manifests(
    options: ManifestOptions,
    *,
    stack_input: Path | None,
    overrides: tuple[str, ...],
    provider_config: Path | None,
    environ: Mapping[str, str],
    wait_seconds: float = DEFAULT_WAIT_SECONDS,
) -> Selection:
    """The manifests ``options`` name, as sources that share the stack input, provider config
    and overrides. A stack input's ``target`` wins over every other source (one manifest)."""
    shared = ManifestSource(stack_input=stack_input, overrides=overrides, provider_config=provider_config)
    named = bool(options.manifests or options.input_dir or options.kustomize_dir or options.overlay)
    if stack_input is not None and not named:
        return Selection((shared,), fleet=False)
    if stack_input is not None and _stack_input_has_target(stack_input, wait_seconds):
        first = options.manifests[0] if options.manifests else None
        ignored = [
            f"--{name} {value}"
            for name, value in (("input-dir", options.input_dir), ("kustomize-dir", options.kustomize_dir))
            if value is not None
        ]
        if len(options.manifests) > 1:
            ignored.append(f"--manifest {' '.join(str(path) for path in options.manifests[1:])}")
        warnings = tuple(
            notice(
                "input-ignored",
                f"{text} is ignored: the stack input's target is the manifest (a stack input's target wins, as in "
                "project-planton)",
            )
            for text in ignored
        )
        return Selection((replace(shared, manifest=first, warnings=warnings),), fleet=False, warnings=warnings)
    found = find_manifests(options, environ)
    if found.fleet:
        _refuse_a_pipe_for_a_fleet(stack_input, "--stack-input")
        _refuse_a_pipe_for_a_fleet(provider_config, "--aws-provider-config")
    sources = tuple(
        replace(
            shared,
            manifest=manifest.path,
            built=manifest.built,
            label=manifest.label,
            named_by=() if found.fleet else found.input_args,
            warnings=() if found.fleet else found.warnings,
        )
        for manifest in found.manifests
    )
    return Selection(sources, fleet=found.fleet, warnings=found.warnings)


def _refuse_a_pipe_for_a_fleet(path: Path | None, option: str) -> None:
    """A fleet reads the file once for each manifest: a pipe (``<(...)``, ``/dev/stdin``) gives
    it once only."""
    if path is None:
        return
    try:
        regular = stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return  # the command reads it, and says what is wrong with it
    if not regular:
        raise UsageError(
            f"{option} {path} is not a regular file (a pipe or device), and a fleet reads it once for each "
            "manifest; write it to a file (private: it may hold credentials) and give that"
        )


def _stack_input_has_target(path: Path, wait_seconds: float) -> bool:
    """Whether a stack input file names a target. One that is not a regular file (a pipe) can be
    read once only: it is left for the command to read (its target still wins over one
    manifest; a fleet refuses it)."""
    try:
        regular = stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False  # the command reads it, and says what is wrong with it
    return regular and read_stack_input(path, wait_seconds=wait_seconds).target is not None
