"""The Go runtime terraform runs with: planton's default (the collector off until a memory
limit), and the user's own GOGC / GOMEMLIMIT whenever either is set."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from e2e_support import Cli
from support import HACK_MANIFEST

ENV_DUMPING_TERRAFORM = """\
#!{python}
import json, os, sys
if sys.argv[1] == "version":  # the binary check: answered as terraform does
    print('{{"terraform_version": "1.11.4"}}')
    sys.exit(0)
if sys.argv[1] == "init":
    os.makedirs(".terraform", exist_ok=True)
    sys.exit(0)
if sys.argv[1] == "output":
    with open({dump!r}, "w") as dump:
        json.dump({{name: os.environ.get(name) for name in ("GOGC", "GOMEMLIMIT")}}, dump)
    print("{{}}")
    sys.exit(0)
sys.exit(1)
"""


def go_settings(cli: Cli, tmp_path: Path) -> dict[str, str | None]:
    dump = tmp_path / "go.json"
    binary = tmp_path / "env-dumping-terraform"
    binary.write_text(ENV_DUMPING_TERRAFORM.format(python=sys.executable, dump=str(dump)), encoding="utf-8")
    binary.chmod(0o755)
    result = cli.run("tofu", "output", "-f", str(HACK_MANIFEST), "--binary", str(binary))
    assert result.returncode == 0, result.stderr
    settings: dict[str, str | None] = json.loads(dump.read_text(encoding="utf-8"))
    return settings


def test_terraform_gets_planton_s_go_runtime_by_default(cli: Cli, tmp_path: Path) -> None:
    cli.env.pop("GOGC", None)
    cli.env.pop("GOMEMLIMIT", None)
    settings = go_settings(cli, tmp_path)
    assert settings["GOGC"] == "off"
    assert settings["GOMEMLIMIT"] is not None
    assert settings["GOMEMLIMIT"].endswith("MiB")
    assert 512 <= int(settings["GOMEMLIMIT"].removesuffix("MiB")) <= 1024


@pytest.mark.parametrize(("name", "value"), [("GOGC", "150"), ("GOMEMLIMIT", "3GiB")])
def test_the_users_go_settings_win(cli: Cli, tmp_path: Path, name: str, value: str) -> None:
    cli.env.pop("GOGC", None)
    cli.env.pop("GOMEMLIMIT", None)
    cli.env[name] = value
    settings = go_settings(cli, tmp_path)
    assert settings[name] == value
    other = "GOMEMLIMIT" if name == "GOGC" else "GOGC"
    assert settings[other] is None, "planton does not mix its settings with the user's"
