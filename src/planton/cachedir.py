"""planton's cache directory, ``$XDG_CACHE_HOME/planton`` (else ``~/.cache/planton``): the
provider plugin cache every workspace shares, and the versions of the binaries planton ran.

Without a plugin cache, every workspace unpacks its own copy of the aws provider (707 MB) when
terraform downloads it from the registry or a packed mirror. terraform's ``TF_PLUGIN_CACHE_DIR``
keeps one copy and links each workspace to it: planton sets it to the user's own, when given, else
to a directory here. terraform does not promise that several ``init``s can install into one cache
at once (hashicorp/terraform#31964), so planton holds a lock in the cache around each ``init``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from planton.errors import EnvironmentNotReady
from planton.files import lock_exclusively
from planton.findings import Finding, notice
from planton.paths import expand_path, home_directory

PLUGIN_CACHE_VARIABLE = "TF_PLUGIN_CACHE_DIR"
# The versions of the binaries planton ran, by path and file identity (runner.binary_version).
BINARY_VERSIONS_FILE = "binaries.json"
_INSTALL_LOCK = ".planton-install.lock"
# How long an init waits for another one installing into the same cache. An install copies or
# downloads a few hundred megabytes: minutes on a slow network, never hours.
INSTALL_WAIT_SECONDS = 15 * 60.0


def planton_cache_dir(environ: Mapping[str, str]) -> Path | None:
    """Where planton keeps what it can always rebuild (XDG base directory convention); None
    when there is no home to put it in."""
    if environ.get("XDG_CACHE_HOME"):
        return expand_path(environ["XDG_CACHE_HOME"], "XDG_CACHE_HOME", environ) / "planton"
    home = home_directory(environ)
    return home / ".cache" / "planton" if home is not None else None


@dataclass(frozen=True)
class PluginCache:
    """The provider plugin cache terraform installs into, and whether it is planton's own
    (created when missing) or the user's ``TF_PLUGIN_CACHE_DIR`` (used as it is)."""

    path: Path
    owned: bool


def plugin_cache(environ: Mapping[str, str], mirror: Path | None) -> PluginCache | None:
    """The user's ``TF_PLUGIN_CACHE_DIR`` when set (set but empty: no cache at all), else one
    under planton's cache directory, one per place providers come from: ``plugins/default`` for
    the registry (or whatever the user's CLI configuration names), ``plugins/mirror-<hash>`` for
    each ``--plugin-mirror``. From an unpacked mirror terraform caches a link into the mirror,
    which must not outlive it in a cache that other installs rely on."""
    if PLUGIN_CACHE_VARIABLE in environ:
        given = environ[PLUGIN_CACHE_VARIABLE]
        # terraform runs in the workspace: a relative path is meant from here.
        return PluginCache(expand_path(given, PLUGIN_CACHE_VARIABLE, environ), owned=False) if given else None
    base = planton_cache_dir(environ)
    if base is None:
        return None
    source = "default" if mirror is None else "mirror-" + hashlib.sha256(str(mirror).encode()).hexdigest()[:12]
    return PluginCache(base / "plugins" / source, owned=True)


def ready(cache: PluginCache | None, warn: Callable[[Finding], None]) -> PluginCache | None:
    """The cache, once its directory exists (terraform refuses one that does not): planton's own
    is created; when it cannot be, terraform runs without a cache, with a warning."""
    if cache is None or not cache.owned:
        return cache
    try:
        cache.path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        warn(
            notice(
                "plugin-cache-unwritable",
                f"cannot create the provider plugin cache {cache.path} ({err.strerror or err}); each workspace "
                "installs its own copy of the providers",
                fix=f"set {PLUGIN_CACHE_VARIABLE} to a directory you can write to",
            )
        )
        return None
    return cache


@contextmanager
def installing(cache: PluginCache | None, notify: Callable[[str], None]) -> Iterator[None]:
    """Hold the cache's install lock while terraform may install into it: a second ``init`` using
    the same cache waits for the first. A cache planton cannot write a lock file in (read-only,
    or missing) is used without one: terraform cannot install into it either; so is one on a
    filesystem that refuses locks."""
    if cache is None:
        yield
        return
    try:
        handle = open(cache.path / _INSTALL_LOCK, "a+", encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError:
        yield
        return
    with handle:
        try:
            taken = lock_exclusively(
                handle,
                INSTALL_WAIT_SECONDS,
                on_wait=lambda: notify(f"waiting for another init to finish installing providers into {cache.path}"),
            )
        except OSError:  # a filesystem without locks (some network mounts): as without planton
            yield
            return
        if not taken:
            raise EnvironmentNotReady(
                f"another init has been installing providers into {cache.path} for {INSTALL_WAIT_SECONDS / 60:g} "
                f"minutes (a running process holds {cache.path / _INSTALL_LOCK}); nothing was run. Let it finish, or "
                "stop it, and try again"
            )
        yield
