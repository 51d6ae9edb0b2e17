"""Property-based fuzzing (Hypothesis) of what a user hands planton: manifest files, ``--set``
arguments, stack inputs and provider config files. Whatever arrives, the outcome is a valid
result or planton's own error (a ``PlantonError``), whose message is lines of text that each say
something on one line; never another exception escaping from inside (a TypeError, a
RecursionError, a UnicodeError...). The private files (stack inputs, provider configs) also
never have a secret quoted back.

Every test runs a bounded, derandomized number of examples (no example database), so CI runs the
same inputs every time and the module stays well under a minute on one core.
"""

from __future__ import annotations

import json
import os
import string
import subprocess
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from planton.errors import EXIT_BAD_MANIFEST, EXIT_OK, EXIT_USAGE, ManifestError, PlantonError
from planton.findings import Finding
from planton.manifest.base import shown, snake_to_camel
from planton.manifest.loader import parse_yaml
from planton.manifest.overrides import OverrideError, apply_overrides, parse_override
from planton.operations.validation import render_validated, validate_manifest
from planton.source import ManifestSource
from planton.stack_input import read_provider_config, read_stack_input

from e2e_support import BIN_DIR
from support import HACK_MANIFEST, example_blocks

# A longer hunt, with fresh random inputs each run: PLANTON_FUZZ_EXAMPLES=5000 pytest tests/unit/test_fuzz.py
_HUNT = int(os.environ.get("PLANTON_FUZZ_EXAMPLES", "0"))
FUZZ = settings(
    max_examples=_HUNT or 200,
    deadline=None,
    derandomize=not _HUNT,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

# The valid manifests planton ships: the hack manifest and every example.
VALID_TEXTS = [HACK_MANIFEST.read_text(encoding="utf-8"), *(text for _, text in example_blocks())]
VALID_DOCUMENTS: list[dict[str, Any]] = [parse_yaml(text, "example") for text in VALID_TEXTS]


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One directory for the whole module (Hypothesis runs many examples per test function, and
    a function-scoped tmp_path would be shared by them all anyway)."""
    return tmp_path_factory.mktemp("fuzz")


# --- strategies -------------------------------------------------------------------------------

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
keys = st.text(max_size=12) | st.sampled_from(["spec", "metadata", "name", "tags", "labels", "kind", "apiVersion"])
trees = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=20,
)
# Text made of YAML's own punctuation, so that the parser's error paths are reached often.
YAML_ALPHABET = string.ascii_letters[:6] + string.digits[:3] + ":-[]{}&*!|>'\"%@`#,.? \t\n\\/<=~+_\x00\x85\u2028\ufeff"
yamlish_text = st.text(alphabet=YAML_ALPHABET, max_size=80)


def dumped(tree: Any, dump: str) -> str:
    if dump == "json":
        return json.dumps(tree)
    return yaml.safe_dump(tree, allow_unicode=True)


def all_paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path to a value in ``node`` (keys and list positions), outermost first."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            yield (*prefix, key)
            yield from all_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for position, value in enumerate(node):
            yield (*prefix, position)
            yield from all_paths(value, (*prefix, position))


def replaced(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    """A copy of ``document`` with the value at ``path`` replaced by ``value``."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(document, Mapping):
        return {key: replaced(item, rest, value) if key == head else item for key, item in document.items()}
    return [replaced(item, rest, value) if position == head else item for position, item in enumerate(document)]


@st.composite
def mutated_manifests(draw: st.DrawFn) -> Any:
    """A valid manifest with one field's value replaced by an arbitrary one (or a key added)."""
    document = draw(st.sampled_from(VALID_DOCUMENTS))
    paths = list(all_paths(document))
    path = draw(st.sampled_from(paths))
    if draw(st.booleans()):
        return replaced(document, path, draw(trees))
    # A new key beside the chosen field, in the mapping that holds it.
    parent = path[:-1]
    holder: Any = document
    for part in parent:
        holder = holder[part]
    if isinstance(holder, Mapping):
        return replaced(document, parent, {**holder, draw(keys): draw(trees)})
    return replaced(document, parent, [*holder, draw(trees)])


# --- the property -----------------------------------------------------------------------------


def assert_domain_error(err: BaseException) -> None:
    """``err`` is planton's own, and its message is non-empty single lines."""
    assert isinstance(err, PlantonError), f"{type(err).__name__} escaped: {err!r}"
    lines = err.lines()
    assert lines, f"{type(err).__name__} with no message"
    for line in lines:
        assert line.strip(), f"an empty line in {lines!r}"
    if isinstance(err, ManifestError):
        assert err.problems, "a ManifestError with no problem line"
        for problem in err.problems:
            # str.splitlines breaks at \r, \x0b, \x0c, \x1c-\x1e, \x85, \u2028 and \u2029 too.
            assert problem.splitlines() == [problem], f"a problem line that is not one line: {problem!r}"
            assert problem.strip(), f"an empty problem line in {err.problems!r}"
    else:
        assert err.message.strip()


def raised(action: Callable[[], object]) -> Exception | None:
    """What ``action`` raised, or None."""
    try:
        action()
    except Exception as err:  # any: the property is about which ones
        return err
    return None


def outcome(action: Callable[[], object]) -> PlantonError | None:
    """Run ``action``: None when it succeeds, its PlantonError when it fails as planton should."""
    err = raised(action)
    if err is None:
        return None
    assert_domain_error(err)
    assert isinstance(err, PlantonError)
    return err


def validate_file(path: Path) -> PlantonError | None:
    """The path ``planton validate -f PATH`` takes (then render's too), in-process."""

    def run() -> None:
        validated = validate_manifest(ManifestSource(manifest=path), {})
        render_validated(validated, {})

    return outcome(run)


def write_text(scratch: Path, text: str, name: str = "manifest.yaml") -> Path:
    path = scratch / name
    path.write_text(text, encoding="utf-8")
    return path


# --- manifests --------------------------------------------------------------------------------


@FUZZ
@given(text=st.text(max_size=200) | yamlish_text)
def test_any_text_is_a_manifest_or_a_manifest_error(scratch: Path, text: str) -> None:
    validate_file(write_text(scratch, text))


@FUZZ
@given(data=st.binary(max_size=200) | st.text(max_size=60).map(lambda t: b"\xef\xbb\xbf" + t.encode("utf-16")))
def test_any_bytes_are_a_manifest_or_a_manifest_error(scratch: Path, data: bytes) -> None:
    path = scratch / "bytes.yaml"
    path.write_bytes(data)
    validate_file(path)


@FUZZ
@given(tree=trees, dump=st.sampled_from(["yaml", "json"]))
def test_any_yaml_tree_is_a_manifest_or_a_manifest_error(scratch: Path, tree: Any, dump: str) -> None:
    err = validate_file(write_text(scratch, dumped(tree, dump)))
    assert err is not None, "an arbitrary tree is not a manifest"


@FUZZ
@given(document=mutated_manifests(), dump=st.sampled_from(["yaml", "json"]))
def test_a_manifest_with_one_field_changed(scratch: Path, document: Any, dump: str) -> None:
    validate_file(write_text(scratch, dumped(document, dump)))


@FUZZ
@given(
    document=st.sampled_from(VALID_TEXTS),
    position=st.integers(min_value=0, max_value=2000),
    inserted=yamlish_text,
)
def test_a_manifest_with_text_spliced_in(scratch: Path, document: str, position: int, inserted: str) -> None:
    # Hand-written YAML goes wrong in the middle of a file, not only at its top.
    at = position % (len(document) + 1)
    validate_file(write_text(scratch, document[:at] + inserted + document[at:]))


# --- --set ------------------------------------------------------------------------------------


def _field_names() -> list[str]:
    names: set[str] = set()
    for document in VALID_DOCUMENTS:
        for path in all_paths(document):
            names.update(part for part in path if isinstance(part, str))
    return sorted(names | {snake_to_camel(name) for name in names})


FIELD_NAMES = _field_names()
segments = st.sampled_from(FIELD_NAMES) | st.text(alphabet=YAML_ALPHABET, max_size=8) | st.text(max_size=8)
indices = st.integers(min_value=0, max_value=3).map(lambda n: f"[{n}]") | st.sampled_from(
    ["[-1]", "[x]", "[]", "[", "]", "[99999999999999999999999]", "[0x1]", "[ 0]", "[٣]"]
)


@st.composite
def set_paths(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.tuples(segments, st.lists(indices, max_size=2)), min_size=1, max_size=5))
    return ".".join(name + "".join(positions) for name, positions in parts)


set_values = (
    st.sampled_from(["null", "true", "false", "[]", "{}", "[a, b]", "{enabled: true}", "'null'", "yes", "1:30", "0x1F"])
    | st.integers().map(str)
    | st.floats().map(str)
    | yamlish_text
    | st.text(max_size=30)
)
set_arguments = st.builds(lambda path, value: f"{path}={value}", set_paths(), set_values) | st.text(max_size=60)


@FUZZ
@given(raw=set_arguments)
def test_any_set_argument_parses_or_is_a_usage_error(raw: str) -> None:
    err = raised(lambda: parse_override(raw))
    if err is not None:
        assert isinstance(err, OverrideError), f"{type(err).__name__} escaped: {err!r}"
        assert_domain_error(err)
        assert err.message.startswith(f"--set {shown(raw)}: ")


@FUZZ
@given(raws=st.lists(set_arguments, min_size=1, max_size=3), document=st.sampled_from(VALID_DOCUMENTS))
def test_any_set_applies_and_validates_or_is_a_domain_error(raws: list[str], document: Any) -> None:
    def apply_and_validate() -> None:
        overrides = [parse_override(raw) for raw in raws]
        original = json.dumps(document, sort_keys=True)
        apply_overrides(document, overrides)
        assert json.dumps(document, sort_keys=True) == original, "apply_overrides changed its input"

    err = outcome(apply_and_validate)
    assert err is None or isinstance(err, OverrideError | ManifestError), type(err)


@FUZZ
@given(raws=st.lists(set_arguments, min_size=1, max_size=3), text=st.sampled_from(VALID_TEXTS))
def test_any_set_through_the_whole_load(scratch: Path, raws: list[str], text: str) -> None:
    # source.load_input: parse, apply, validate, and blame each problem on the --set that caused it.
    path = write_text(scratch, text, "set.yaml")
    err = outcome(lambda: validate_manifest(ManifestSource(manifest=path, overrides=tuple(raws)), {}))
    assert err is None or err.exit_code in (EXIT_USAGE, EXIT_BAD_MANIFEST), type(err)


# --- stack inputs and provider configs ----------------------------------------------------------

SECRET_FIELDS = ("access_key_id", "secret_access_key", "session_token")
PROVIDER_FIELDS = ("account_id", *SECRET_FIELDS, "region")
MARKER = "Qz7sEcReT"  # begins every secret, so that even a truncated quote of one is caught
secrets = st.builds(
    lambda body: MARKER + body,
    st.text(alphabet=string.ascii_letters + string.digits + "/+=", min_size=8, max_size=40)
    | st.text(min_size=1, max_size=40),
)
# How a secret may be written in the file: a plain string, or a value YAML reads otherwise.
secret_values = secrets | secrets.map(lambda s: [s]) | secrets.map(lambda s: {s[:3]: s})


@st.composite
def provider_configs(draw: st.DrawFn) -> tuple[dict[str, Any], list[str]]:
    """A provider_config mapping with secrets in some secret fields, arbitrary values elsewhere."""
    config: dict[str, Any] = {}
    planted: list[str] = []
    for name in draw(st.lists(st.sampled_from(PROVIDER_FIELDS), unique=True, max_size=5)):
        spelled = snake_to_camel(name) if draw(st.booleans()) else name
        if name in SECRET_FIELDS and draw(st.integers(0, 4)):
            value = draw(secret_values)
            planted.append(value if isinstance(value, str) else json.dumps(value))
        else:
            value = draw(st.sampled_from(["123456789012", "us-east-1", "AKIAEXAMPLE"]) | trees)
        config[spelled] = value
    if draw(st.integers(0, 5)) == 0:
        config[draw(keys)] = draw(trees)
    return config, planted


def hand_written(mapping: Mapping[str, Any], indent: str = "") -> str:
    """``mapping`` as a person types it: scalars unquoted, whatever YAML then makes of them."""
    lines = []
    for key, value in mapping.items():
        if isinstance(value, Mapping):
            lines.append(f"{indent}{key}:\n{hand_written(value, indent + '  ')}")
        elif isinstance(value, str):
            lines.append(f"{indent}{key}: {value}\n")
        else:
            lines.append(f"{indent}{key}: {json.dumps(value)}\n")
    return "".join(lines)


def assert_no_secret(err: PlantonError | None, warnings: tuple[Finding, ...], planted: list[str]) -> None:
    said = "\n".join([*(err.lines() if err is not None else []), str(err or ""), *(w.text() for w in warnings)])
    assert MARKER not in said, f"a secret was quoted: {said!r}"
    for secret in planted:
        assert secret not in said, f"a secret was quoted: {said!r}"


@FUZZ
@given(
    config=provider_configs(),
    target=st.sampled_from(VALID_DOCUMENTS) | trees,
    extra=st.dictionaries(keys, trees, max_size=2),
    form=st.sampled_from(["yaml", "json", "hand"]),
    mode=st.sampled_from([0o600, 0o644]),
)
def test_a_stack_input_is_read_or_refused_without_quoting_a_secret(
    scratch: Path,
    config: tuple[dict[str, Any], list[str]],
    target: Any,
    extra: dict[str, Any],
    form: str,
    mode: int,
) -> None:
    provider, planted = config
    document = {"target": target, "provider_config": provider, **extra}
    if form == "hand":  # the provider config typed by hand, the rest dumped as YAML
        typed = "provider_config:\n" + hand_written(provider, "  ")
        text = yaml.safe_dump({"target": target, **extra}, allow_unicode=True) + typed
    else:
        text = dumped(document, form)
    path = write_text(scratch, text, "stack.yaml")
    path.chmod(mode)
    warnings: tuple[Finding, ...] = ()

    def read() -> None:
        nonlocal warnings
        warnings = read_stack_input(path, wait_seconds=5).warnings

    err = outcome(read)
    assert_no_secret(err, warnings, planted)
    if err is None:  # the whole load, with the target as the manifest
        err = outcome(lambda: validate_manifest(ManifestSource(stack_input=path), {}))
        assert_no_secret(err, warnings, planted)


@FUZZ
@given(config=provider_configs(), form=st.sampled_from(["yaml", "json", "hand"]), mode=st.sampled_from([0o600, 0o644]))
def test_a_provider_config_is_read_or_refused_without_quoting_a_secret(
    scratch: Path, config: tuple[dict[str, Any], list[str]], form: str, mode: int
) -> None:
    provider, planted = config
    path = write_text(scratch, hand_written(provider) if form == "hand" else dumped(provider, form), "provider.yaml")
    path.chmod(mode)
    warnings: tuple[Finding, ...] = ()

    def read() -> None:
        nonlocal warnings
        _, warnings = read_provider_config(path, wait_seconds=5)

    err = outcome(read)
    assert_no_secret(err, warnings, planted)


@FUZZ
@given(text=st.text(max_size=200) | yamlish_text, which=st.sampled_from(["stack", "provider"]))
def test_any_text_is_a_stack_input_or_provider_config_or_an_error(scratch: Path, text: str, which: str) -> None:
    path = write_text(scratch, text, f"{which}.yaml")
    if which == "stack":
        outcome(lambda: read_stack_input(path, wait_seconds=5))
    else:
        outcome(lambda: read_provider_config(path, wait_seconds=5))


@FUZZ
@given(tree=trees, which=st.sampled_from(["stack", "provider"]), dump=st.sampled_from(["yaml", "json"]))
def test_any_tree_is_a_stack_input_or_provider_config_or_an_error(
    scratch: Path, tree: Any, which: str, dump: str
) -> None:
    path = write_text(scratch, dumped(tree, dump), f"{which}-tree.yaml")
    if which == "stack":
        outcome(lambda: validate_manifest(ManifestSource(stack_input=path), {}))
    else:
        outcome(lambda: read_provider_config(path, wait_seconds=5))


# --- the console script -----------------------------------------------------------------------


@settings(FUZZ, max_examples=25)
@given(document=mutated_manifests() | trees, dump=st.sampled_from(["yaml", "json"]))
def test_planton_validate_exits_with_a_documented_code(scratch: Path, document: Any, dump: str) -> None:
    path = write_text(scratch, dumped(document, dump), "cli.yaml")
    result = subprocess.run(
        [str(BIN_DIR / "planton"), "validate", "--manifest", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(scratch), "LANG": "C.UTF-8", "NO_COLOR": "1"},
        stdin=subprocess.DEVNULL,
        check=False,
    )
    assert result.returncode in (EXIT_OK, EXIT_BAD_MANIFEST), (result.returncode, result.stderr)
    assert "Traceback" not in result.stdout + result.stderr
    if result.returncode == EXIT_BAD_MANIFEST:
        assert result.stderr.startswith(f"error: {path} is not a valid AwsDynamodb manifest:"), result.stderr
    else:
        assert "valid AwsDynamodb manifest" in result.stderr
