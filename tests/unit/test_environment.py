"""The terraform child's environment: an allowlist, with warnings for what is dropped on purpose."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from planton import environment
from planton.credentials import aws_environment, local_provider_config, provider_config_from_environment
from planton.environment import CLI_CONFIG_VARIABLE, base_environment, child_environment, go_runtime, physical_memory

PASSING = {
    "PATH": "/usr/local/bin:/usr/bin",
    "HOME": "/home/me",
    "USER": "me",
    "LANG": "en_GB.UTF-8",
    "LANGUAGE": "en_GB",
    "LC_ALL": "en_GB.UTF-8",
    "LC_CTYPE": "en_GB.UTF-8",
    "TERM": "xterm-256color",
    "TMPDIR": "/tmp",
    "NO_COLOR": "1",
    "HTTPS_PROXY": "http://proxy:3128",
    "no_proxy": "localhost",
    "SSL_CERT_FILE": "/etc/ssl/cert.pem",
    "TF_LOG": "DEBUG",
    "TF_LOG_PATH": "/tmp/tf.log",
    "TF_IN_AUTOMATION": "1",
    "TF_PLUGIN_CACHE_DIR": "/home/me/.terraform.d/plugin-cache",
    "TF_TOKEN_app_terraform_io": "registry-token",
    "TOFU_LOG": "INFO",
    # The Go runtime's settings, for terraform and its providers.
    "GOGC": "off",
    "GOMEMLIMIT": "1GiB",
    "GOMAXPROCS": "2",
}


def test_allowlisted_variables_pass() -> None:
    child, warnings = base_environment(PASSING)
    assert child == PASSING
    assert warnings == []


@pytest.mark.parametrize(
    "name",
    [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_CONFIG_FILE",
    ],
)
def test_aws_variables_do_not_pass(name: str) -> None:
    child, warnings = base_environment({"PATH": "/usr/bin", name: "value"})
    assert child == {"PATH": "/usr/bin"}
    assert warnings == []


@pytest.mark.parametrize(
    "name",
    [
        "SECRET_TOKEN",
        "GITHUB_TOKEN",
        "DATABASE_URL",
        "PYTHONPATH",
        "LD_PRELOAD",
        "TF_REATTACH_PROVIDERS",
        "TOKEN_TF_LOG",
        "XLC_ALL",
    ],
)
def test_other_variables_are_dropped_silently(name: str) -> None:
    child, warnings = base_environment({"HOME": "/home/me", name: "value"})
    assert child == {"HOME": "/home/me"}
    assert warnings == []


@pytest.mark.parametrize(
    "name",
    [
        "TF_VAR_x",
        "TF_VAR_table_name",
        "TF_CLI_ARGS",
        "TF_CLI_ARGS_plan",
        "TF_CLI_ARGS_apply",
        "TF_WORKSPACE",
        "TF_DATA_DIR",
    ],
)
def test_terraform_overrides_dropped_with_a_warning(name: str) -> None:
    child, warnings = base_environment({"PATH": "/usr/bin", name: "value"})
    assert name not in child
    assert child == {"PATH": "/usr/bin"}
    assert len(warnings) == 1
    assert name in warnings[0].text()
    assert "value" not in warnings[0].text()


def test_all_dropped_overrides_named_in_one_warning() -> None:
    environ = {
        "TF_VAR_x": "1",
        "TF_CLI_ARGS": "-lock=false",
        "TF_CLI_ARGS_plan": "-refresh=false",
        "TF_WORKSPACE": "other",
        "TF_DATA_DIR": "/elsewhere",
        "TF_LOG": "TRACE",
    }
    child, warnings = base_environment(environ)
    assert child == {"TF_LOG": "TRACE"}
    assert len(warnings) == 1
    for name in ("TF_VAR_x", "TF_CLI_ARGS", "TF_CLI_ARGS_plan", "TF_WORKSPACE", "TF_DATA_DIR"):
        assert name in warnings[0].text()
    assert "TF_LOG" not in warnings[0].text()


def test_cli_config_file_kept_when_it_exists(tmp_path: Path) -> None:
    config = tmp_path / "dev.tfrc"
    config.write_text("provider_installation { direct {} }\n", encoding="utf-8")
    child, warnings = base_environment({CLI_CONFIG_VARIABLE: str(config)})
    assert child == {CLI_CONFIG_VARIABLE: str(config)}
    assert warnings == []


def test_cli_config_dev_null_means_no_settings_and_is_kept() -> None:
    # /dev/null is no regular file, but terraform reads it as an empty configuration, as asked;
    # dropping it would make terraform read ~/.terraformrc instead.
    child, warnings = base_environment({CLI_CONFIG_VARIABLE: os.devnull})
    assert child == {CLI_CONFIG_VARIABLE: os.devnull}
    assert warnings == []


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_cli_config_file_dropped_with_warning_when_not_a_file(tmp_path: Path, kind: str) -> None:
    config = tmp_path / "dev.tfrc"
    if kind == "directory":
        config.mkdir()
    child, warnings = base_environment({"PATH": "/usr/bin", CLI_CONFIG_VARIABLE: str(config)})
    assert child == {"PATH": "/usr/bin"}
    assert len(warnings) == 1
    assert CLI_CONFIG_VARIABLE in warnings[0].text()
    assert str(config) in warnings[0].text()


@pytest.mark.parametrize("spelling", ["~/dev.tfrc", "dev.tfrc"], ids=["tilde", "relative"])
def test_cli_config_file_passed_in_a_form_terraform_can_open_from_the_workspace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spelling: str
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "dev.tfrc").write_text("disable_checkpoint = true\n", encoding="utf-8")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(home)
    child, warnings = base_environment({"HOME": str(home), CLI_CONFIG_VARIABLE: spelling})
    assert warnings == []
    passed = Path(child[CLI_CONFIG_VARIABLE])
    # terraform opens the value as-is (no '~' expansion) from the workspace directory.
    assert passed.is_absolute()
    assert passed.samefile(home / "dev.tfrc")


def test_child_environment_aws_part_overrides_base() -> None:
    base = {"PATH": "/usr/bin", "AWS_REGION": "from-base", "SHARED": "base"}
    aws = {"AWS_REGION": "eu-west-2", "SHARED": "aws", "AWS_PROFILE": "dev"}
    assert child_environment(base, aws) == {
        "PATH": "/usr/bin",
        "AWS_REGION": "eu-west-2",
        "SHARED": "aws",
        "AWS_PROFILE": "dev",
    }


def test_child_environment_does_not_modify_its_inputs() -> None:
    base = {"PATH": "/usr/bin"}
    aws = {"AWS_REGION": "eu-west-2"}
    child_environment(base, aws)
    assert base == {"PATH": "/usr/bin"}
    assert aws == {"AWS_REGION": "eu-west-2"}


def test_local_child_environment_carries_none_of_the_users_aws_settings() -> None:
    environ = {
        "PATH": "/usr/bin",
        "HOME": "/home/me",
        "AWS_ACCESS_KEY_ID": "real-key",
        "AWS_SECRET_ACCESS_KEY": "real-secret",
        "AWS_PROFILE": "prod",
        "AWS_ENDPOINT_URL_DYNAMODB": "https://real.example.com",
        "GITHUB_TOKEN": "ghp_secret",
    }
    base, _ = base_environment(environ)
    aws = aws_environment(local_provider_config("http://127.0.0.1:5000", None), environ, local=True)
    child = child_environment(base, aws)
    assert "real-key" not in child.values()
    assert "real-secret" not in child.values()
    assert "AWS_PROFILE" not in child
    assert "AWS_ENDPOINT_URL_DYNAMODB" not in child
    assert "GITHUB_TOKEN" not in child
    assert child["AWS_ENDPOINT_URL"] == "http://127.0.0.1:5000"
    assert child["PATH"] == "/usr/bin"


def test_real_child_environment_has_credentials_only_from_config() -> None:
    environ = {
        "PATH": "/usr/bin",
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_REGION": "eu-west-2",
        "TF_VAR_spec": "{}",
    }
    base, warnings = base_environment(environ)
    child = child_environment(base, aws_environment(provider_config_from_environment(environ), environ, local=False))
    assert child == {
        "PATH": "/usr/bin",
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "secret",
        "AWS_REGION": "eu-west-2",
        "AWS_DEFAULT_REGION": "eu-west-2",
    }
    assert any("TF_VAR_spec" in warning.text() for warning in warnings)


# --- the Go runtime of terraform and the aws provider -------------------------------------------

GIB = 1 << 30


@pytest.mark.parametrize(
    ("memory", "runs", "expected"),
    [
        (24 * GIB, 1, {"GOGC": "off", "GOMEMLIMIT": "1024MiB"}),
        (4 * GIB, 1, {"GOGC": "off", "GOMEMLIMIT": "512MiB"}),
        (2 * GIB, 1, {}),  # a limit this low would keep the collector busy: Go's defaults
        (24 * GIB, 4, {"GOGC": "off", "GOMEMLIMIT": "768MiB"}),  # four runs share a quarter
        (24 * GIB, 8, {}),
        (None, 1, {}),  # memory unknown
    ],
)
def test_go_runtime_bounds_memory_by_the_machine(memory: int | None, runs: int, expected: dict[str, str]) -> None:
    assert go_runtime({"PATH": "/usr/bin"}, memory, runs) == expected


@pytest.mark.parametrize("name", ["GOGC", "GOMEMLIMIT"])
def test_a_users_own_go_settings_win(name: str) -> None:
    environ = {"PATH": "/usr/bin", name: "200" if name == "GOGC" else "3GiB"}
    assert go_runtime(environ, 24 * GIB) == {}
    child, _ = base_environment(environ)
    assert child[name] == environ[name]


def test_the_machines_memory_is_known_here() -> None:
    memory = physical_memory()
    assert memory is not None
    assert memory > 64 << 20


def _cgroups(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, membership: str, limits: dict[str, str]) -> None:
    """A fake /sys/fs/cgroup holding ``limits`` (path below it -> file content), and a fake
    /proc/self/cgroup saying which groups this process is in."""
    root = tmp_path / "cgroup"
    for relative, content in limits.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(content + "\n", encoding="ascii")
    own = tmp_path / "self-cgroup"
    own.write_text(membership, encoding="utf-8")
    monkeypatch.setattr(environment, "_CGROUP_ROOT", root)
    monkeypatch.setattr(environment, "_OWN_CGROUPS", own)


def test_a_cgroup_v2_limit_above_the_process_s_own_group_bounds_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # A systemd service's MemoryMax= on the runner's slice, the job's own group unlimited.
    _cgroups(
        monkeypatch,
        tmp_path,
        "0::/runner.slice/job-7.scope\n",
        {"runner.slice/job-7.scope/memory.max": "max", "runner.slice/memory.max": str(3 * GIB)},
    )
    assert physical_memory() == 3 * GIB
    assert go_runtime({}, physical_memory()) == {}  # 3 GiB: too little to turn the collector off


def test_a_cgroup_v1_memory_limit_bounds_the_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _cgroups(
        monkeypatch,
        tmp_path,
        "9:name=systemd:/\n4:memory:/ci/job\n0::/\n",
        {"memory/ci/job/memory.limit_in_bytes": str(6 * GIB), "memory/memory.limit_in_bytes": "9223372036854771712"},
    )
    assert physical_memory() == 6 * GIB
    assert go_runtime({}, physical_memory()) == {"GOGC": "off", "GOMEMLIMIT": "768MiB"}


def test_no_cgroup_limit_leaves_the_machine_s_memory(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _cgroups(monkeypatch, tmp_path, "0::/\n", {"memory.max": "max"})
    machine = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    assert physical_memory() == machine
