"""The terraform child's environment, built explicitly from an allowlist.

Only what terraform needs to run passes through from planton's own environment; the AWS part
comes from the stack input (``credentials.aws_environment``). Variables that would change what
terraform does behind the manifest's back are dropped: ``TF_VAR_*`` (the manifest is the only
source of variables), ``TF_CLI_ARGS*``, ``TF_WORKSPACE`` and ``TF_DATA_DIR`` (planton owns the
working directory).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

from planton.errors import UsageError
from planton.findings import Finding, notice
from planton.paths import expand_path

_PASS_THROUGH = frozenset(
    {
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "SHELL",
        "TERM",
        "TZ",
        "TMPDIR",
        "LANG",
        "LANGUAGE",
        "NO_COLOR",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
        "CHECKPOINT_DISABLE",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "TF_LOG",
        "TF_LOG_CORE",
        "TF_LOG_PROVIDER",
        "TF_LOG_PATH",
        "TF_IN_AUTOMATION",
        "TF_PLUGIN_CACHE_DIR",
        "TF_PLUGIN_CACHE_MAY_BREAK_DEPENDENCY_LOCK_FILE",
        "TF_REGISTRY_DISCOVERY_RETRY",
        "TF_REGISTRY_CLIENT_TIMEOUT",
        "TOFU_LOG",
        "TOFU_LOG_PATH",
        # The Go runtime's own settings (terraform and its providers are Go programs): a CI
        # runner may cap their memory or trade it for CPU.
        "GOGC",
        "GOMEMLIMIT",
        "GOMAXPROCS",
    }
)
_PASS_THROUGH_PREFIXES = ("LC_", "TF_TOKEN_")
CLI_CONFIG_VARIABLE = "TF_CLI_CONFIG_FILE"

# The Go runtime planton gives terraform and the aws provider when the user set neither GOGC nor
# GOMEMLIMIT. In runs this short they spend about a quarter of their CPU collecting garbage they
# would never run out of room for: with the collector off until a memory limit, a plan of
# hack/manifest.yaml took 26 % less CPU and 7 % less time, at a peak of 660 MiB instead of
# 384 MiB (docs/performance.md, "Terraform's Go runtime"). The limit is soft (Go collects as it nears it, and
# exceeds it rather than fail), so it bounds memory without risking an out-of-memory death.
_GO_LIMIT_MAX = 1 << 30
# Below this the collector would run often anyway (the provider's live heap is a few hundred
# MiB): Go's own defaults are left alone.
_GO_LIMIT_MIN = 512 << 20
# Each terraform run is two Go processes (terraform and the aws provider), and all runs at once
# get at most a quarter of the machine's memory (its cgroup's, in a container).
_GO_PROCESSES_PER_RUN = 2
_MEMORY_SHARE = 4
# Where cgroup v2 and v1 keep a group's memory limit, and which groups this process is in.
_CGROUP_ROOT = Path("/sys/fs/cgroup")
_OWN_CGROUPS = Path("/proc/self/cgroup")


def base_environment(environ: Mapping[str, str]) -> tuple[dict[str, str], list[Finding]]:
    """The non-AWS part of the child's environment, and warnings about what was left out."""
    child = {
        name: value
        for name, value in environ.items()
        if name in _PASS_THROUGH or name.startswith(_PASS_THROUGH_PREFIXES)
    }
    warnings: list[Finding] = []
    cli_config = environ.get(CLI_CONFIG_VARIABLE)
    if cli_config:
        # terraform neither expands ~ nor runs from planton's directory: hand it an absolute path.
        try:
            resolved: Path | None = expand_path(cli_config, CLI_CONFIG_VARIABLE, environ)
        except UsageError as err:
            warnings.append(notice("environment-ignored", f"{err.message}; ignoring it"))
            resolved = None
        # Any file terraform can read will do: /dev/null (no settings at all) is a common choice.
        if resolved is not None and os.path.exists(resolved) and not os.path.isdir(resolved):
            child[CLI_CONFIG_VARIABLE] = str(resolved)
        elif resolved is not None:
            what = "is a directory" if os.path.isdir(resolved) else "does not exist"
            warnings.append(notice("environment-ignored", f"{CLI_CONFIG_VARIABLE}={cli_config} {what}; ignoring it"))
    dropped = sorted(
        name
        for name in environ
        if name.startswith(("TF_VAR_", "TF_CLI_ARGS")) or name in ("TF_WORKSPACE", "TF_DATA_DIR")
    )
    if dropped:
        warnings.append(
            notice(
                "environment-ignored",
                "ignoring " + ", ".join(dropped) + ": the manifest and planton's workspace decide these",
            )
        )
    return child, warnings


def go_runtime(environ: Mapping[str, str], memory: int | None, runs_at_once: int = 1) -> dict[str, str]:
    """``GOGC=off`` and a ``GOMEMLIMIT`` for the terraform children, unless the user set either
    (theirs is passed through as it is, the other left unset) or the memory is unknown or too
    small to be worth it. ``memory`` is the machine's (``physical_memory``); ``runs_at_once``
    terraform runs share it."""
    if "GOGC" in environ or "GOMEMLIMIT" in environ or memory is None:
        return {}
    limit = min(_GO_LIMIT_MAX, memory // (_MEMORY_SHARE * _GO_PROCESSES_PER_RUN * max(1, runs_at_once)))
    if limit < _GO_LIMIT_MIN:
        return {}
    return {"GOGC": "off", "GOMEMLIMIT": f"{limit >> 20}MiB"}


def physical_memory() -> int | None:
    """The memory this process may use, in bytes: the machine's, or the lowest limit of its
    cgroup and the groups above it when lower (a container, a CI runner, a systemd service with
    ``MemoryMax=``); None when none can be read."""
    found: list[int] = []
    with contextlib.suppress(ValueError, OSError, AttributeError):  # not a POSIX system
        found.append(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    for limit in _cgroup_limit_files():
        try:
            found.append(int(limit.read_text(encoding="ascii").strip()))
        except (OSError, ValueError):  # absent, or "max"
            continue
    positive = [value for value in found if value > 0]
    return min(positive) if positive else None


def _cgroup_limit_files() -> list[Path]:
    """The memory limit files of this process's cgroups (v2's ``memory.max``, v1's
    ``memory.limit_in_bytes``) and of every group above them, as ``/proc/self/cgroup`` names
    them: a limit set higher up bounds the process too."""
    try:
        lines = _OWN_CGROUPS.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    files: list[Path] = []
    for line in lines:
        _, controllers, path = [*line.split(":", 2), "", ""][:3]
        if controllers == "":
            base, name = _CGROUP_ROOT, "memory.max"
        elif "memory" in controllers.split(","):
            base, name = _CGROUP_ROOT / "memory", "memory.limit_in_bytes"
        else:
            continue
        group = Path("/", path.strip().lstrip("/"))
        files += [base / directory.relative_to("/") / name for directory in (group, *group.parents)]
    return files


def child_environment(base: Mapping[str, str], aws: Mapping[str, str]) -> dict[str, str]:
    """The whole environment: base, then the AWS part on top."""
    return {**base, **aws}
