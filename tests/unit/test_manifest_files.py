"""Which manifests the options name: directories, --exclude, precedence, --input-dir, kustomize."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from planton.errors import EnvironmentNotReady, ManifestError, UsageError
from planton.manifest_files import ManifestOptions, find_manifests

MANIFEST = "apiVersion: aws.project-planton.org/v1\nkind: AwsDynamodb\nmetadata:\n  name: {name}\n"


def touch(path: Path, name: str = "x") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(MANIFEST.format(name=name), encoding="utf-8")
    return path


def names(options: ManifestOptions) -> list[str]:
    return [found.label for found in find_manifests(options, {"PATH": ""}).manifests]


def test_a_directory_is_every_yaml_below_it_in_a_stable_order(tmp_path: Path) -> None:
    for relative in ("b.yaml", "a.yml", "sub/c.yaml", "sub/deeper/d.yaml", "notes.txt", ".planton/w/state.yaml"):
        touch(tmp_path / relative)
    found = find_manifests(ManifestOptions((tmp_path,)), {})
    assert found.fleet
    assert [Path(m.label).relative_to(tmp_path).as_posix() for m in found.manifests] == [
        "a.yml",
        "b.yaml",
        "sub/c.yaml",
        "sub/deeper/d.yaml",
    ]


def test_one_file_is_no_fleet_and_several_are(tmp_path: Path) -> None:
    one, two = touch(tmp_path / "one.yaml"), touch(tmp_path / "two.yaml")
    assert not find_manifests(ManifestOptions((one,)), {}).fleet
    assert find_manifests(ManifestOptions((one, two)), {}).fleet


@pytest.mark.parametrize(
    ("pattern", "left"),
    [
        ("kustomization.yaml", ["a.yaml", "drafts/b.yaml"]),
        ("drafts", ["a.yaml", "sub/kustomization.yaml"]),
        ("drafts/*", ["a.yaml", "sub/kustomization.yaml"]),
        ("*.yaml", []),
    ],
)
def test_exclude_matches_a_path_below_the_directory_or_a_name(tmp_path: Path, pattern: str, left: list[str]) -> None:
    for relative in ("a.yaml", "drafts/b.yaml", "sub/kustomization.yaml"):
        touch(tmp_path / relative)
    options = ManifestOptions((tmp_path,), excludes=(pattern,))
    if not left:
        with pytest.raises(UsageError, match=r"holds no \*\.yaml"):
            find_manifests(options, {})
        return
    assert sorted(Path(name).relative_to(tmp_path).as_posix() for name in names(options)) == sorted(left)


def test_the_same_file_twice_is_refused(tmp_path: Path) -> None:
    one = touch(tmp_path / "one.yaml")
    with pytest.raises(UsageError, match="names the same file more than once"):
        find_manifests(ManifestOptions((one, tmp_path)), {})


def test_manifest_wins_over_input_dir_and_kustomize(tmp_path: Path) -> None:
    one = touch(tmp_path / "one.yaml")
    found = find_manifests(ManifestOptions((one,), input_dir=tmp_path, kustomize_dir=tmp_path, overlay="dev"), {})
    assert [m.path for m in found.manifests] == [one]
    assert tuple(finding.text() for finding in found.warnings) == (
        f"--input-dir {tmp_path} and --kustomize-dir {tmp_path} are ignored: --manifest names the manifests "
        "(precedence, as in project-planton: --manifest > --input-dir > --kustomize-dir)",
    )


def test_input_dir_reads_target_yaml(tmp_path: Path) -> None:
    target = touch(tmp_path / "in" / "target.yaml")
    found = find_manifests(ManifestOptions(input_dir=tmp_path / "in", kustomize_dir=tmp_path, overlay="x"), {})
    assert [m.path for m in found.manifests] == [target]
    assert not found.fleet
    assert found.input_args == ("--input-dir", str(tmp_path / "in"))
    assert "--kustomize-dir" in found.warnings[0].text()
    with pytest.raises(UsageError, match=r"holds no target\.yaml"):
        find_manifests(ManifestOptions(input_dir=tmp_path), {})


def test_overlay_and_kustomize_dir_go_together(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="give --kustomize-dir DIR too"):
        find_manifests(ManifestOptions(overlay="dev"), {})
    with pytest.raises(UsageError, match="give --overlay NAME too"):
        find_manifests(ManifestOptions(kustomize_dir=tmp_path), {})


def test_a_missing_overlay_names_the_ones_there(tmp_path: Path) -> None:
    (tmp_path / "overlays" / "dev").mkdir(parents=True)
    (tmp_path / "overlays" / "prod").mkdir(parents=True)
    with pytest.raises(UsageError, match=r"is not a directory \(its overlays: dev, prod\)"):
        find_manifests(ManifestOptions(kustomize_dir=tmp_path, overlay="qa"), {})


def test_no_kustomize_tool_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "overlays" / "dev").mkdir(parents=True)
    with pytest.raises(EnvironmentNotReady, match="needs kustomize or kubectl on PATH"):
        find_manifests(ManifestOptions(kustomize_dir=tmp_path, overlay="dev"), {"PATH": str(tmp_path)})


@pytest.mark.skipif(shutil.which("kubectl") is None and shutil.which("kustomize") is None, reason="no kustomize")
def test_a_build_with_several_documents_is_a_fleet(tmp_path: Path) -> None:
    base = tmp_path / "base"
    touch(base / "a.yaml", "alpha")
    touch(base / "b.yaml", "beta")
    (base / "kustomization.yaml").write_text("resources: [a.yaml, b.yaml]\n", encoding="utf-8")
    overlay = tmp_path / "overlays" / "dev"
    overlay.mkdir(parents=True)
    (overlay / "kustomization.yaml").write_text("resources: [../../base]\nnamePrefix: dev-\n", encoding="utf-8")
    found = find_manifests(ManifestOptions(kustomize_dir=tmp_path, overlay="dev"), dict(os.environ))
    assert found.fleet
    assert sorted(m.built["metadata"]["name"] for m in found.manifests if m.built) == ["dev-alpha", "dev-beta"]
    # Named as files in the overlay: their state lives beside it.
    assert {m.path.parent for m in found.manifests} == {overlay}


@pytest.mark.skipif(shutil.which("kubectl") is None and shutil.which("kustomize") is None, reason="no kustomize")
def test_a_build_that_fails_names_the_overlay(tmp_path: Path) -> None:
    overlay = tmp_path / "overlays" / "dev"
    overlay.mkdir(parents=True)
    (overlay / "kustomization.yaml").write_text("resources: [missing.yaml]\n", encoding="utf-8")
    with pytest.raises(ManifestError) as caught:
        find_manifests(ManifestOptions(kustomize_dir=tmp_path, overlay="dev"), dict(os.environ))
    assert str(overlay) in caught.value.lines()[0]
    assert caught.value.problems[0].startswith("(build):")


def test_links_to_directories_are_followed_once(tmp_path: Path) -> None:
    touch(tmp_path / "common" / "c.yaml")
    fleet = tmp_path / "fleet"
    touch(fleet / "real" / "a.yaml")
    (fleet / "shared").symlink_to(tmp_path / "common")
    (fleet / "real" / "loop").symlink_to(fleet)  # a loop ends where it began
    found = names(ManifestOptions((fleet,)))
    assert sorted(Path(name).relative_to(fleet).as_posix() for name in found) == ["real/a.yaml", "shared/c.yaml"]
