"""One copy of the aws provider for every workspace, with real terraform: two plans of different
manifests start at once with an empty plugin cache and no --plugin-mirror. This machine has no
registry, so the registry is played by a packed mirror (the release zip, as the registry serves
it) named in the user's CLI configuration: terraform downloads from it and unpacks into the
cache, exactly as from the registry."""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from e2e_support import BIN_DIR, Cli, plugin_mirror
from support import HACK_MANIFEST

pytestmark = pytest.mark.e2e

PROVIDER = Path("registry.terraform.io/hashicorp/aws/5.100.0/linux_amd64")
MEGABYTE = 1024 * 1024

# Runs the real terraform, noting when each init began and ended.
TIMING_WRAPPER = textwrap.dedent(
    """\
    #!{python}
    import json, subprocess, sys, time
    started = time.time()
    status = subprocess.call([{terraform!r}, *sys.argv[1:]])
    if sys.argv[1] == "init":
        with open({log!r}, "a") as log:
            log.write(json.dumps({{"started": started, "ended": time.time()}}) + "\\n")
    sys.exit(status)
    """
)


@pytest.fixture(scope="module")
def packed_mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The provider's release zip in a packed mirror's layout (stored, not compressed: quick)."""
    mirror = plugin_mirror()
    if mirror is None or platform.machine() not in ("x86_64", "AMD64"):
        pytest.skip("needs the linux_amd64 provider in a local mirror (PLANTON_PLUGIN_MIRROR) to pack")
    unpacked = Path(mirror) / PROVIDER
    root = tmp_path_factory.mktemp("packed-mirror")
    target = root / "registry.terraform.io" / "hashicorp" / "aws" / "terraform-provider-aws_5.100.0_linux_amd64.zip"
    target.parent.mkdir(parents=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_STORED) as archive:
        for item in sorted(unpacked.iterdir()):
            archive.write(item, item.name)
    yield root
    shutil.rmtree(root)


def _manifest(tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(HACK_MANIFEST.read_text(encoding="utf-8").replace("planton-demo-orders", name), encoding="utf-8")
    return path


def _disk_use(path: Path) -> int:
    """Bytes of the files under ``path``, links not followed (as du counts them)."""
    total = 0
    for directory, _, names in os.walk(path):
        for name in names:
            total += os.lstat(os.path.join(directory, name)).st_blocks * 512
    return total


def test_two_plans_at_once_share_one_copy_of_the_provider(cli: Cli, tmp_path: Path, packed_mirror: Path) -> None:
    terraform = shutil.which("terraform")
    if terraform is None:
        pytest.skip("the packed mirror stands in for terraform's registry")
    config = tmp_path / "registry.tfrc"
    config.write_text(f'provider_installation {{\n  filesystem_mirror {{\n    path = "{packed_mirror}"\n  }}\n}}\n')
    cli.env.pop("PLANTON_PLUGIN_MIRROR", None)
    cli.env["TF_CLI_CONFIG_FILE"] = str(config)
    timings = tmp_path / "inits.jsonl"
    wrapper = tmp_path / "terraform"
    wrapper.write_text(TIMING_WRAPPER.format(python=sys.executable, terraform=terraform, log=str(timings)))
    wrapper.chmod(0o755)
    manifests = [_manifest(tmp_path, "cache-a"), _manifest(tmp_path, "cache-b")]

    running = [
        subprocess.Popen(
            [str(BIN_DIR / "planton"), "tofu", "plan", "-f", str(path), "--binary", str(wrapper), "--no-color"],
            env=cli.env,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in manifests
    ]
    outputs = [process.communicate(timeout=600) for process in running]

    for process, (stdout, stderr) in zip(running, outputs, strict=True):
        assert process.returncode == 0, stdout + stderr
        assert "to add, 0 to change, 0 to destroy" in stdout
    said = "".join(stderr for _, stderr in outputs)
    # One unpacked the provider into the cache, the other then linked what the lock file vouches for.
    assert said.count("Installed hashicorp/aws v5.100.0") == 1, said
    assert said.count("Using hashicorp/aws v5.100.0 from the shared cache directory") == 1, said
    # One at a time.
    inits = sorted((entry["started"], entry["ended"]) for entry in map(json.loads, timings.read_text().splitlines()))
    assert len(inits) == 2
    assert inits[0][1] <= inits[1][0], "the two inits installed into the cache at the same time"
    # One copy of the provider, in planton's cache; each workspace holds a link to it.
    cache = Path(cli.env["HOME"]) / ".cache" / "planton" / "plugins" / "default"
    unpacked = cache / PROVIDER
    assert unpacked.is_dir()
    assert not unpacked.is_symlink()
    provider_size = _disk_use(unpacked)
    assert provider_size > 500 * MEGABYTE
    assert _disk_use(cache) < provider_size + MEGABYTE
    workspaces = sorted((tmp_path / "work").glob("endpoint-*/*"))
    assert len(workspaces) == 2
    for workspace in workspaces:
        linked = workspace / ".terraform" / "providers" / PROVIDER
        assert linked.is_symlink()
        assert linked.resolve() == unpacked.resolve()
        assert _disk_use(workspace) < 2 * MEGABYTE, workspace
