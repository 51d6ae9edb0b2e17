"""``planton validate`` and ``planton render``: a manifest checked, and the variables terraform
would get for it. Pure Python: nothing written, nothing run, so nothing here imports the
runner, the workspace or the emulator (``request`` builds a tofu command on top of this)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from planton.backend import BackendFlags, S3Backend, select_backend
from planton.credentials import merge_provider_config, provider_config_from_environment
from planton.errors import EXIT_BAD_MANIFEST, ManifestError, PlantonError, PolicyViolation, UsageError
from planton.findings import Finding, about, errors, warnings
from planton.manifest.fields import ManifestFields
from planton.manifest.loader import DEFAULT_WAIT_SECONDS
from planton.manifest.normalise import table_from_manifest
from planton.policy import findings as best_practice_findings
from planton.policy_file import PolicyFinder as PolicyFinder
from planton.region import LOCAL_DEFAULT_REGION, resolve_region
from planton.render import render_variables, variables_json
from planton.source import LoadedInput, ManifestSource, load_input
from planton.table import TableDefinition

PIPE_TIMEOUT_ENV = "PLANTON_PIPE_TIMEOUT"
_MAX_PIPE_TIMEOUT = 3600.0


def pipe_timeout(environ: Mapping[str, str]) -> float:
    """How long a manifest may take to arrive through a pipe, FIFO or device, in seconds."""
    value = environ.get(PIPE_TIMEOUT_ENV)
    if not value:
        return DEFAULT_WAIT_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= _MAX_PIPE_TIMEOUT:
        raise UsageError(
            f"{PIPE_TIMEOUT_ENV}: {value!r} is not a number of seconds between 0 and {_MAX_PIPE_TIMEOUT:g}; "
            f"unset it for the default of {DEFAULT_WAIT_SECONDS:g}"
        )
    return seconds


@dataclass(frozen=True)
class Validated:
    """A manifest that passed validation, and its findings: what its inputs had to say, then
    the best practices it misses (each a warning or, by the team's policy, an error)."""

    loaded: LoadedInput
    table: TableDefinition
    findings: tuple[Finding, ...] = ()


@dataclass(frozen=True)
class Checks:
    """How strictly the best practices are held: ``strict`` makes every finding an error;
    ``policies`` finds each manifest's team policy (one finder reads each file once)."""

    strict: bool = False
    policies: PolicyFinder | None = None

    def findings(self, loaded: LoadedInput, table: TableDefinition) -> tuple[Finding, ...]:
        """The best-practice findings for a validated manifest under its team's policy."""
        finder = self.policies if self.policies is not None else PolicyFinder()
        manifest = loaded.manifest
        policy = finder.for_manifest(manifest.path, regular_file=manifest.regular_file)
        if self.strict:
            policy = policy.strictly()
        return best_practice_findings(table, ManifestFields(manifest.model, manifest.document), policy)


def validate_manifest(source: ManifestSource, environ: Mapping[str, str], checks: Checks | None = None) -> Validated:
    """Load and validate a manifest (with its stack input and ``--set`` overrides), and find
    (with ``checks``) what it misses of the best practices; pure Python, no terraform, nothing written. A
    malformed policy file is a ManifestError (``policy_file.PolicyError``)."""
    loaded = load_input(source, wait_seconds=pipe_timeout(environ))
    table = table_from_manifest(loaded.manifest.model)
    # The backend labels are part of the manifest: a misspelled one is a validation error here
    # too, never a silent fall back to local state.
    select_backend(table.identity.labels, BackendFlags(), region="", endpoints={}, manifest=str(loaded.manifest.path))
    found = checks.findings(loaded, table) if checks is not None else ()
    return Validated(loaded, table, (*loaded.warnings, *found))


def refuse_policy_errors(validated: Sequence[Validated], *, fleet: bool = False) -> None:
    """A PolicyViolation listing every finding that is an error (each naming its manifest in a
    fleet), with every finding for ``--json``; nothing when there is none."""
    named = [about(one.findings, str(one.loaded.manifest.path)) if fleet else one.findings for one in validated]
    every = [finding for findings in named for finding in findings]
    stopping = errors(every)
    if not stopping:
        return
    count = f"{len(stopping)} finding{'s' if len(stopping) != 1 else ''}"
    said = warnings(every)
    raise PolicyViolation(
        f"{count} the team's policy (or --strict) makes {'errors' if len(stopping) != 1 else 'an error'}; "
        "nothing was written or run:",
        [
            *(finding.text() for finding in stopping),
            *(["and these warnings:"] if said else []),
            *(finding.text() for finding in said),
        ],
        every,
    )


def render_manifest(source: ManifestSource, environ: Mapping[str, str], *, local: bool = False) -> str:
    """The variables file terraform would get for the manifest (``planton render``): the
    region resolved as a tofu command resolves it; nothing written, nothing run."""
    return render_validated(validate_manifest(source, environ), environ, local=local)


def render_validated(validated: Validated, environ: Mapping[str, str], *, local: bool = False) -> str:
    """The variables file terraform would get for an already validated manifest."""
    config = merge_provider_config(validated.loaded.provider_configs, provider_config_from_environment(environ))
    region = resolve_region(validated.table.aws_region, config.region, local=local)
    return account_variables(validated.table, region, None if local else config.account_id)


def account_variables(
    table: TableDefinition, region: str, account_id: str | None, max_retries: int | None = None
) -> str:
    """The variables file for ``table`` in ``region``; with ``account_id``, bound to that account;
    with ``max_retries``, the attempts each API call gets."""
    variables = render_variables(table, region)
    if account_id:
        # The provider refuses credentials of any other account (allowed_account_ids).
        variables["allowed_account_ids"] = [account_id]
    if max_retries is not None:
        variables["max_retries"] = max_retries
    return variables_json(variables)


@dataclass(frozen=True)
class Shard:
    """``--shard K/N``: the K-th of N shares of a fleet (K from 1)."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        """``K/N`` with 1 <= K <= N, or a UsageError naming the option."""
        index, _, count = text.partition("/")
        try:
            shard = cls(int(index), int(count))
        except ValueError:
            shard = cls(0, 0)
        if not 1 <= shard.index <= shard.count:
            raise UsageError(
                f"--shard {text!r}: give K/N, this runner's share K of N (1 <= K <= N), such as --shard 2/3"
            )
        return shard

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def shard_members(keys: Sequence[str], shard: Shard | None) -> list[int]:
    """The positions (in ``keys``' order) of the manifests in ``shard``. Each manifest's key
    (its workspace key) is hashed, the fleet is ordered by the hashes (manifests of one key in
    the order they were found) and dealt round-robin: every manifest lands in exactly one of the
    N shares, the shares differ in size by at most one, and the same fleet is dealt the same way
    on every run and runner."""
    if shard is None:
        return list(range(len(keys)))
    order = sorted(range(len(keys)), key=lambda i: (hashlib.sha256(keys[i].encode()).hexdigest(), keys[i]))
    chosen = {position for rank, position in enumerate(order) if rank % shard.count == shard.index - 1}
    return [i for i in range(len(keys)) if i in chosen]


class FleetInvalid(PlantonError):
    """Some manifests of a fleet are invalid: every problem of every one, nothing run."""

    def __init__(self, errors: Sequence[PlantonError], total: int) -> None:
        self.errors = list(errors)
        codes = {error.exit_code for error in self.errors}
        self.exit_code = EXIT_BAD_MANIFEST if EXIT_BAD_MANIFEST in codes else self.errors[0].exit_code
        self.total = total
        super().__init__("\n".join(line for error in self.errors for line in error.lines()))

    def lines(self) -> list[str]:
        """Each manifest's own lines (a problem common to all, such as a ``--set`` path, once),
        then how many of the fleet failed."""
        said = dict.fromkeys(tuple(error.lines()) for error in self.errors)
        lines = [line for error_lines in said for line in error_lines]
        return [*lines, f"{len(self.errors)} of {self.total} manifests are invalid; nothing was run"]


def validate_fleet(
    sources: Sequence[ManifestSource], environ: Mapping[str, str], checks: Checks | None = None
) -> list[Validated]:
    """Every manifest validated (pure Python, as ``validate_manifest``); one invalid manifest
    makes a FleetInvalid listing every problem of every manifest."""
    validated: list[Validated] = []
    errors: list[PlantonError] = []
    for source in sources:
        try:
            validated.append(validate_manifest(source, environ, checks))
        except PlantonError as err:
            errors.append(err)
    if errors:
        raise FleetInvalid(errors, len(sources))
    return validated


@dataclass(frozen=True)
class Placement:
    """Where a fleet's manifest puts its table and state, to tell two that collide."""

    label: str
    table: str
    region: str | None
    workspace: str
    state: str | None  # s3://bucket/key, for S3 state


def refuse_collisions(placements: Sequence[Placement]) -> None:
    """Two manifests that would manage one table (same region and name) or share one state
    (the same workspace, or the same S3 key) are a ManifestError naming both."""
    problems: list[str] = []
    for what, key in (
        ("manage table", lambda p: f"{p.table} in {p.region}" if p.region else None),
        ("share the workspace", lambda p: p.workspace),
        ("share the state", lambda p: p.state),
    ):
        seen: dict[str, str] = {}
        for placement in placements:
            value = key(placement)
            if value is None:
                continue
            if value in seen:
                problems.append(f"{seen[value]} and {placement.label} both {what} {value}")
            else:
                seen[value] = placement.label
    if problems:
        raise FleetCollision(
            "the fleet",
            [
                *problems,
                "each table needs exactly one manifest and one state: rename the table (spec.table_name), give the "
                "manifest its own metadata.name, or its own state key (terraform.project-planton.org/backend.object)",
            ],
        )


class FleetCollision(ManifestError):
    """Two manifests of a fleet would manage one table or share one state; nothing was run."""

    def lines(self) -> list[str]:
        """A header, then one line per pair of manifests and the way out."""
        return ["two manifests would manage one table or share one state; nothing was run:", *self.problems]


def placement(
    validated: Validated,
    environ: Mapping[str, str],
    *,
    local: bool = False,
    work_dir: Path | None = None,
    backend: BackendFlags | None = None,
) -> Placement:
    """Where ``validated``'s table and state would be: its region as a tofu command resolves it
    (None when nothing names one yet), its workspace (``work_dir``, else ``.planton`` beside the
    manifest, and its key) and its S3 state's URL."""
    loaded, table = validated.loaded, validated.table
    config = merge_provider_config(loaded.provider_configs, provider_config_from_environment(environ))
    region = table.aws_region or (LOCAL_DEFAULT_REGION if local else config.region) or None
    path = loaded.manifest.path
    # Where the directories really lead: two spellings of one work dir (a link) are one.
    root = Path(os.path.realpath(work_dir if work_dir is not None else path.absolute().parent / ".planton"))
    chosen = select_backend(
        table.identity.labels, backend or BackendFlags(), region=region or "", endpoints={}, manifest=str(path)
    )
    return Placement(
        label=str(path),
        table=table.table_name,
        region=region,
        workspace=str(root / table.identity.key),
        state=chosen.url if isinstance(chosen, S3Backend) else None,
    )


def checked_fleet(
    sources: Sequence[ManifestSource],
    environ: Mapping[str, str],
    *,
    shard: Shard | None = None,
    local: bool = False,
    work_dir: Path | None = None,
    backend: BackendFlags | None = None,
    checks: Checks | None = None,
    collisions: bool = True,
) -> list[Validated]:
    """Every manifest validated, no two managing one table or sharing one state, none with a
    finding its policy makes an error (with ``checks``), then this runner's share of them
    (``--shard``): the whole fleet is checked on every runner, so one bad manifest stops every
    share. Without ``collisions``, manifests checked one by one may name one table (files
    pre-commit gives: a dev and a prod folder)."""
    validated = validate_fleet(sources, environ, checks)
    if collisions:
        refuse_collisions(
            [placement(one, environ, local=local, work_dir=work_dir, backend=backend) for one in validated]
        )
    refuse_policy_errors(validated, fleet=True)
    keys = [one.table.identity.key for one in validated]
    return [validated[i] for i in shard_members(keys, shard)]
