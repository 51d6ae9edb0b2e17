"""planton's cache directory: which plugin cache terraform installs into, and the lock that
keeps two installs into one cache apart."""

from __future__ import annotations

import errno
import itertools
import threading
import time
from pathlib import Path

import pytest

from planton import cachedir, files
from planton.cachedir import PluginCache, installing, planton_cache_dir, plugin_cache, ready
from planton.errors import EnvironmentNotReady
from planton.findings import Finding


def test_the_cache_directory_follows_xdg(tmp_path: Path) -> None:
    assert planton_cache_dir({"HOME": "/home/u"}) == Path("/home/u/.cache/planton")
    assert planton_cache_dir({"HOME": "/home/u", "XDG_CACHE_HOME": "/var/cache/u"}) == Path("/var/cache/u/planton")
    assert planton_cache_dir({"HOME": "/home/u", "XDG_CACHE_HOME": "~/c"}) == Path("/home/u/c/planton")


def test_the_plugin_cache_is_one_per_source() -> None:
    environ = {"HOME": "/home/u"}
    default = plugin_cache(environ, None)
    assert default == PluginCache(Path("/home/u/.cache/planton/plugins/default"), owned=True)
    mirror = plugin_cache(environ, Path("/opt/tf-plugins"))
    other = plugin_cache(environ, Path("/srv/mirror"))
    assert mirror is not None
    assert other is not None
    assert mirror.path.parent == default.path.parent
    assert mirror.path.name.startswith("mirror-")
    assert len({default.path, mirror.path, other.path}) == 3
    assert plugin_cache(environ, Path("/opt/tf-plugins")) == mirror  # the same mirror, the same cache


def test_the_users_plugin_cache_wins(tmp_path: Path) -> None:
    environ = {"HOME": "/home/u", "TF_PLUGIN_CACHE_DIR": "~/plugins"}
    assert plugin_cache(environ, None) == PluginCache(Path("/home/u/plugins"), owned=False)
    # The user's cache serves a mirror's installs too: it is theirs to choose.
    assert plugin_cache(environ, Path("/opt/tf-plugins")) == PluginCache(Path("/home/u/plugins"), owned=False)
    # Set but empty: no cache at all.
    assert plugin_cache({"HOME": "/home/u", "TF_PLUGIN_CACHE_DIR": ""}, None) is None


def test_without_a_home_there_is_no_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cachedir, "home_directory", lambda environ: None)
    assert planton_cache_dir({}) is None
    assert plugin_cache({}, None) is None


def test_ready_creates_only_plantons_own(tmp_path: Path) -> None:
    notes: list[Finding] = []
    own = PluginCache(tmp_path / "cache" / "plugins" / "default", owned=True)
    assert ready(own, notes.append) == own
    assert own.path.is_dir()
    users = PluginCache(tmp_path / "theirs", owned=False)
    assert ready(users, notes.append) == users
    assert not users.path.exists()  # terraform says what it says about the user's own setting
    assert notes == []


def test_a_cache_that_cannot_be_created_is_left_out(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("", encoding="utf-8")
    notes: list[Finding] = []
    assert ready(PluginCache(tmp_path / "file" / "plugins", owned=True), notes.append) is None
    assert len(notes) == 1
    assert notes[0].code == "plugin-cache-unwritable"
    assert "cannot create the provider plugin cache" in notes[0].text()


def test_installs_into_one_cache_take_turns(tmp_path: Path) -> None:
    cache = PluginCache(tmp_path, owned=True)
    intervals: list[tuple[float, float]] = []
    notes: list[str] = []

    def install() -> None:
        with installing(cache, notes.append):
            started = time.monotonic()
            time.sleep(0.3)
            intervals.append((started, time.monotonic()))

    threads = [threading.Thread(target=install) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(intervals) == 3
    ordered = sorted(intervals)
    assert all(earlier[1] <= later[0] for earlier, later in itertools.pairwise(ordered))
    assert notes.count(f"waiting for another init to finish installing providers into {tmp_path}") == 2


def test_an_install_waits_only_so_long(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cachedir, "INSTALL_WAIT_SECONDS", 0.3)
    cache = PluginCache(tmp_path, owned=True)
    with installing(cache, lambda note: None):
        started = time.monotonic()
        with (
            pytest.raises(EnvironmentNotReady, match="another init has been installing providers into"),
            installing(cache, lambda note: None),
        ):
            pass
        assert time.monotonic() - started >= 0.3


def test_no_cache_and_an_unwritable_cache_need_no_lock(tmp_path: Path) -> None:
    with installing(None, lambda note: None):
        pass
    with installing(PluginCache(tmp_path / "missing", owned=False), lambda note: None):
        pass


def test_a_filesystem_without_locks_installs_without_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(handle: object, operation: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(files.fcntl, "flock", refuse)
    ran = []
    with installing(PluginCache(tmp_path, owned=True), lambda note: None):
        ran.append(True)
    assert ran == [True]
