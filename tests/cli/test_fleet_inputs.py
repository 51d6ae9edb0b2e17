"""A fleet's inputs through the installed console script: every mistake is refused before any
terraform runs or anything is written."""

from __future__ import annotations

import json
from pathlib import Path

from e2e_support import Cli
from support import HACK_MANIFEST


def manifest(path: Path, name: str, table: str | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = HACK_MANIFEST.read_text(encoding="utf-8").replace("planton-demo-orders", name)
    if table is not None:
        text = text.replace(f"table_name: {name}", f"table_name: {table}")
    path.write_text(text, encoding="utf-8")
    return path


def fleet(tmp_path: Path, count: int = 3) -> Path:
    folder = tmp_path / "tables"
    for i in range(count):
        manifest(folder / f"t{i}.yaml", f"fleet-t{i}")
    return folder


def test_validate_a_folder_prints_one_line_per_manifest(cli: Cli, tmp_path: Path) -> None:
    folder = fleet(tmp_path)
    result = cli.run("validate", "-f", str(folder))
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    assert [line.split(":")[0] for line in lines[:3]] == [f"✓ {folder / f't{i}.yaml'}" for i in range(3)]
    assert lines[-1] == "✓ 3 valid manifests"


def test_every_problem_of_every_manifest_is_listed(cli: Cli, tmp_path: Path, invalid_manifest: Path) -> None:
    folder = fleet(tmp_path)
    invalid_manifest.rename(folder / "broken.yaml")
    (folder / "empty.yaml").write_text("", encoding="utf-8")
    result = cli.run("tofu", "plan", "-f", str(folder))
    assert result.returncode == 4
    assert f"{folder / 'broken.yaml'} is not a valid AwsDynamodb manifest:" in result.stderr
    assert f"{folder / 'empty.yaml'} is not a valid AwsDynamodb manifest:" in result.stderr
    assert result.stderr.rstrip().endswith("2 of 5 manifests are invalid; nothing was run")
    assert not (folder / ".planton").exists()


def test_two_manifests_for_one_table_are_refused(cli: Cli, tmp_path: Path) -> None:
    folder = fleet(tmp_path, 1)
    manifest(folder / "copy.yaml", "fleet-copy", table="fleet-t0")
    result = cli.run("validate", "-f", str(folder))
    assert result.returncode == 4
    assert f"{folder / 'copy.yaml'} and {folder / 't0.yaml'} both manage table fleet-t0 in us-east-1" in result.stderr


def test_input_dir_reads_target_yaml(cli: Cli, tmp_path: Path) -> None:
    manifest(tmp_path / "in" / "target.yaml", "from-input-dir")
    result = cli.run("validate", "--input-dir", str(tmp_path / "in"))
    assert result.returncode == 0, result.stderr
    assert "table from-input-dir" in result.stderr


def test_kustomize_mistakes(cli: Cli, tmp_path: Path) -> None:
    alone = cli.run("validate", "--overlay", "dev")
    assert alone.returncode == 2
    assert "--overlay names an overlay of a kustomization: give --kustomize-dir DIR too" in alone.stderr
    (tmp_path / "k" / "overlays" / "dev").mkdir(parents=True)
    cli.env["PATH"] = str(tmp_path / "empty-path")
    missing = cli.run("validate", "--kustomize-dir", str(tmp_path / "k"), "--overlay", "dev")
    assert missing.returncode == 3
    assert "needs kustomize or kubectl on PATH" in missing.stderr


def test_a_fleet_apply_without_a_terminal_asks_nothing_and_runs_nothing(cli: Cli, tmp_path: Path) -> None:
    folder = fleet(tmp_path)
    result = cli.run("tofu", "apply", "-f", str(folder))
    assert result.returncode == 2
    assert "there is no terminal to ask at" in result.stderr
    assert not (tmp_path / "work").exists()


def test_plan_dir_mistakes(cli: Cli, tmp_path: Path) -> None:
    folder = fleet(tmp_path)
    (tmp_path / "plans").write_text("a file", encoding="utf-8")
    out_file = cli.run("tofu", "plan", "-f", str(folder), "--out", str(tmp_path / "plans"))
    assert out_file.returncode == 2
    assert "is not a directory; a fleet's plans are saved one per manifest" in out_file.stderr
    (tmp_path / "empty").mkdir()
    no_index = cli.run("tofu", "apply", str(tmp_path / "empty"), "-f", str(folder))
    assert no_index.returncode == 2
    assert "holds no planton-plans.json" in no_index.stderr
    zero = cli.run("tofu", "plan", "-f", str(folder), "--parallelism", "0")
    assert zero.returncode == 2
    assert "--parallelism 0: run at least 1 manifest at once" in zero.stderr


def test_render_of_a_fleet_is_one_document_by_manifest(cli: Cli, tmp_path: Path) -> None:
    folder = fleet(tmp_path, 2)
    result = cli.run("render", "-f", str(folder))
    assert result.returncode == 0, result.stderr
    rendered = json.loads(result.stdout)
    assert sorted(rendered) == [str(folder / "t0.yaml"), str(folder / "t1.yaml")]
    assert rendered[str(folder / "t1.yaml")]["spec"]["table_name"] == "fleet-t1"


def test_a_stack_input_target_wins_over_a_folder(cli: Cli, tmp_path: Path) -> None:
    folder = fleet(tmp_path)
    target = HACK_MANIFEST.read_text(encoding="utf-8").replace("\n", "\n  ")
    stack = tmp_path / "stack.yaml"
    stack.write_text(f"target:\n  {target}\n", encoding="utf-8")
    result = cli.run("validate", "-i", str(stack), "-f", str(folder))
    assert result.returncode == 0, result.stderr
    assert "is ignored: the stack input's target is the manifest" in result.stderr
    assert "table planton-demo-orders" in result.stderr


def test_bootstrap_takes_one_manifest(cli: Cli, tmp_path: Path) -> None:
    result = cli.run("state", "bootstrap", "-f", str(fleet(tmp_path)))
    assert result.returncode == 2
    assert "this command takes one manifest" in result.stderr


def test_one_workspace_through_a_link_is_one_workspace(cli: Cli, tmp_path: Path) -> None:
    real = tmp_path / "real"
    manifest(real / "x.yaml", "dup", table="table-x")
    manifest(real / "y.yaml", "dup", table="table-y")
    (tmp_path / "link").symlink_to(real)
    cli.env.pop("PLANTON_WORK_DIR")
    result = cli.run("validate", "-f", str(real / "x.yaml"), "-f", str(tmp_path / "link" / "y.yaml"))
    assert result.returncode == 4
    assert "both share the workspace" in result.stderr


def test_a_pipe_cannot_feed_a_fleet(cli: Cli, tmp_path: Path) -> None:
    folder = fleet(tmp_path)
    result = cli.run("validate", "-f", str(folder), "-i", "/dev/stdin", input_text="provider_config: {}\n")
    assert result.returncode == 2
    assert "--stack-input /dev/stdin is not a regular file (a pipe or device)" in result.stderr
    result = cli.run("tofu", "plan", "-f", str(folder), "--aws-provider-config", "/dev/stdin", input_text="{}\n")
    assert result.returncode == 2
    assert "--aws-provider-config /dev/stdin is not a regular file (a pipe or device)" in result.stderr


def test_a_plan_directory_without_a_fleet(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "plans").mkdir()
    one = manifest(tmp_path / "one.yaml", "one")
    result = cli.run("tofu", "apply", str(tmp_path / "plans"), "-f", str(one))
    assert result.returncode == 2
    assert "is a directory: a fleet's saved plans are applied with the fleet's manifests" in result.stderr


def test_a_planton_module_in_the_current_directory_is_never_run(cli: Cli, tmp_path: Path) -> None:
    folder = fleet(tmp_path, 2)
    marker = tmp_path / "hijacked"
    (tmp_path / "planton.py").write_text(f"open({str(marker)!r}, 'w').close()\nprint('{{}}')\n", encoding="utf-8")
    result = cli.run("tofu", "init", "-f", str(folder), "--binary", "/bin/false")
    assert result.returncode == 3, result.stderr  # /bin/false is no terraform: each child says so
    assert not marker.exists()
    assert result.stderr.count("failed (exit 3)") >= 2
