"""Reading manifest files: every way a file can fail to be a manifest, and the YAML rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from planton.errors import EXIT_BAD_MANIFEST, ManifestError
from planton.manifest import LoadedManifest
from planton.manifest.loader import MAX_MANIFEST_BYTES, parse_yaml, read_manifest_document, validate_document
from planton.source import ManifestSource, load_input
from planton.table import AttributeType, BillingMode

from support import HACK_MANIFEST

VALID = """\
apiVersion: aws.project-planton.org/v1
kind: AwsDynamodb
metadata:
  name: orders
spec:
  partitionKeyName: id
  partitionKeyType: STRING
"""


def write(tmp_path: Path, content: str | bytes, name: str = "manifest.yaml") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def load_manifest(path: Path) -> LoadedManifest:
    """The manifest at ``path``, read the way every command reads one (``--manifest``)."""
    return load_input(ManifestSource(manifest=path)).manifest


def load_error(path: Path) -> ManifestError:
    """The ManifestError reading ``path`` raises (as ``validate`` and ``tofu`` read it), after
    checking its header."""
    with pytest.raises(ManifestError) as excinfo:
        load_manifest(path)
    err = excinfo.value
    assert err.source == str(path)
    assert err.lines()[0] == f"{path} is not a valid AwsDynamodb manifest:"
    assert err.lines()[1:] == err.problems
    assert err.exit_code == EXIT_BAD_MANIFEST
    return err


# ---------------------------------------------------------------------------------------------
# Happy paths


def test_load_valid_manifest(tmp_path: Path) -> None:
    path = write(tmp_path, VALID)
    loaded = load_manifest(path)
    assert isinstance(loaded, LoadedManifest)
    assert loaded.path == path
    assert loaded.document["spec"] == {"partitionKeyName": "id", "partitionKeyType": "STRING"}
    assert loaded.model.metadata.name == "orders"
    assert loaded.model.spec.partition_key_type is AttributeType.STRING


def test_load_hack_manifest() -> None:
    spec = load_manifest(HACK_MANIFEST).model.spec
    assert spec.table_name == "planton-demo-orders"
    assert spec.billing_mode is BillingMode.PAY_PER_REQUEST
    assert (spec.partition_key_name, spec.partition_key_type) == ("customer_id", AttributeType.STRING)
    assert (spec.sort_key_name, spec.sort_key_type) == ("order_ts", AttributeType.NUMBER)
    assert spec.point_in_time_recovery_enabled is True


def test_read_manifest_document_returns_mapping(tmp_path: Path) -> None:
    document, regular = read_manifest_document(write(tmp_path, VALID))
    assert regular is True
    assert document["kind"] == "AwsDynamodb"
    assert document["metadata"] == {"name": "orders"}


def test_file_of_exactly_the_size_limit_is_read(tmp_path: Path) -> None:
    padding = MAX_MANIFEST_BYTES - len(VALID.encode()) - 1
    content = VALID + "#" * (padding - 1) + "\n"
    assert len(content.encode()) == MAX_MANIFEST_BYTES - 1
    content += "\n"
    path = write(tmp_path, content)
    assert path.stat().st_size == MAX_MANIFEST_BYTES
    assert load_manifest(path).model.metadata.name == "orders"


def test_utf8_content_is_read(tmp_path: Path) -> None:
    content = VALID.replace("  name: orders\n", "  name: orders\n  annotations:\n    note: café ☕\n")
    assert load_manifest(write(tmp_path, content)).model.metadata.annotations == {"note": "café ☕"}


# ---------------------------------------------------------------------------------------------
# Files that cannot be read


def test_missing_file(tmp_path: Path) -> None:
    err = load_error(tmp_path / "nope.yaml")
    assert err.problems == ["(file): no such file; check the --manifest path"]


def test_missing_parent_directory(tmp_path: Path) -> None:
    err = load_error(tmp_path / "no" / "such" / "dir" / "m.yaml")
    assert err.problems == ["(file): no such file; check the --manifest path"]


def test_directory(tmp_path: Path) -> None:
    err = load_error(tmp_path)
    assert err.problems == ["(file): is a directory; name the file itself"]


@pytest.mark.parametrize("content", ["", "\n\n", "# just a comment\n", "---\n", "~\n", "null\n"])
def test_empty_file(tmp_path: Path, content: str) -> None:
    err = load_error(write(tmp_path, content))
    assert err.problems == ["(file): is empty; see examples.md for a complete manifest"]


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        ("- apiVersion: aws.project-planton.org/v1\n- kind: AwsDynamodb\n", "a list"),
        ("just a string\n", "text"),
        ("42\n", "a number"),
        ("4.2\n", "a number"),
        ("true\n", "true or false"),
        ("!!binary aGVsbG8=\n", "binary data"),
    ],
)
def test_document_not_a_mapping(tmp_path: Path, content: str, kind: str) -> None:
    err = load_error(write(tmp_path, content))
    assert err.problems == [f"(document): must be a mapping with apiVersion, kind, metadata and spec, not {kind}"]


def test_non_utf8_bytes(tmp_path: Path) -> None:
    err = load_error(write(tmp_path, VALID.encode() + b"# caf\xe9\n"))
    assert err.problems == ["(file): is not UTF-8 text"]


def test_utf16_file_is_not_utf8(tmp_path: Path) -> None:
    err = load_error(write(tmp_path, VALID.encode("utf-16")))
    assert err.problems == ["(file): is not UTF-8 text"]


@pytest.mark.parametrize(
    ("content", "where", "code"),
    [
        (VALID.replace("kind:", "\0\0kind:"), "line 2, column 1", "0000"),
        (VALID + "  tableName: orders\x07\n", "line 8, column 20", "0007"),
        ("\x1b[31m", "line 1, column 1", "001B"),
    ],
)
def test_a_control_character_is_named_by_line_and_column(tmp_path: Path, content: str, where: str, code: str) -> None:
    # UTF-8, so read, but not YAML: PyYAML's own message gives an offset "in '<unicode string>'".
    err = load_error(write(tmp_path, content))
    assert err.problems == [
        f"(yaml): {where}: the non-printable character U+{code} is not allowed in YAML; remove it, or write it as "
        f"the escape \\u{code} in a double-quoted string"
    ]


def test_file_larger_than_one_mebibyte(tmp_path: Path) -> None:
    assert MAX_MANIFEST_BYTES == 1024 * 1024
    path = write(tmp_path, VALID + "#" * (MAX_MANIFEST_BYTES + 1 - len(VALID)))
    size = path.stat().st_size
    assert size == MAX_MANIFEST_BYTES + 1
    err = load_error(path)
    assert err.problems == ["(file): is larger than the 1048576 bytes planton reads"]


def test_file_of_exactly_one_mebibyte_is_read(tmp_path: Path) -> None:
    path = write(tmp_path, VALID + "#" * (MAX_MANIFEST_BYTES - len(VALID)))
    assert path.stat().st_size == MAX_MANIFEST_BYTES
    assert load_manifest(path).model.metadata.name == "orders"


def test_size_limit_is_checked_before_decoding(tmp_path: Path) -> None:
    # Both too big and not UTF-8: the size is reported, so the text was never decoded.
    path = write(tmp_path, b"\xff" * (MAX_MANIFEST_BYTES + 10))
    err = load_error(path)
    assert err.problems == ["(file): is larger than the 1048576 bytes planton reads"]


# ---------------------------------------------------------------------------------------------
# YAML errors


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        pytest.param(
            "apiVersion: [1, 2\n",
            "(yaml): line 2, column 1: while parsing a flow sequence expected ',' or ']', but got '<stream end>'",
            id="unclosed-flow-sequence",
        ),
        pytest.param(
            "kind: a: b\n",
            "(yaml): line 1, column 8: mapping values are not allowed here",
            id="mapping-in-plain-scalar",
        ),
        pytest.param(
            "metadata:\n  name: x\n    bad: indent\n",
            "(yaml): line 3, column 8: mapping values are not allowed here",
            id="bad-indent",
        ),
        pytest.param(
            "metadata:\n\tname: x\n",
            "(yaml): line 2, column 1: while scanning for the next token found character '\\t' "
            "that cannot start any token",
            id="tab",
        ),
    ],
)
def test_invalid_yaml_reports_line_and_column(tmp_path: Path, content: str, expected: str) -> None:
    err = load_error(write(tmp_path, content))
    assert err.problems == [expected]


def test_parse_yaml_names_the_source() -> None:
    with pytest.raises(ManifestError) as excinfo:
        parse_yaml("a: [\n", "some/where.yaml")
    assert excinfo.value.source == "some/where.yaml"
    assert excinfo.value.lines()[0] == "some/where.yaml is not a valid AwsDynamodb manifest:"
    assert excinfo.value.problems[0].startswith("(yaml): line 2, column 1: ")


def test_duplicate_key_rejected_with_line_number(tmp_path: Path) -> None:
    content = VALID + "  partitionKeyName: other\n"
    err = load_error(write(tmp_path, content))
    assert err.problems == ["(yaml): line 8, column 3: key 'partitionKeyName' appears twice in the same mapping"]


def test_duplicate_top_level_key_rejected() -> None:
    with pytest.raises(ManifestError) as excinfo:
        parse_yaml("kind: AwsDynamodb\nmetadata: {}\nkind: Other\n", "m.yaml")
    assert excinfo.value.problems == ["(yaml): line 3, column 1: key 'kind' appears twice in the same mapping"]


def test_duplicate_key_in_flow_mapping_rejected() -> None:
    with pytest.raises(ManifestError) as excinfo:
        parse_yaml("labels: {a: 1, b: 2, a: 3}\n", "m.yaml")
    assert excinfo.value.problems == ["(yaml): line 1, column 22: key 'a' appears twice in the same mapping"]


def test_same_key_in_different_mappings_is_fine() -> None:
    assert parse_yaml("a:\n  name: x\nb:\n  name: y\n", "m.yaml") == {"a": {"name": "x"}, "b": {"name": "y"}}


def test_camel_and_snake_spellings_are_not_yaml_duplicates() -> None:
    # Different YAML keys: the model (not the YAML loader) reports them as the same field.
    assert parse_yaml("tableName: a\ntable_name: a\n", "m.yaml") == {"tableName": "a", "table_name": "a"}


def test_multiple_documents_rejected(tmp_path: Path) -> None:
    err = load_error(write(tmp_path, VALID + "---\n" + VALID))
    assert err.problems == [
        "(yaml): line 8, column 1: expected a single document in the stream but found another document"
    ]


def test_leading_document_marker_is_fine() -> None:
    assert parse_yaml("---\nkind: AwsDynamodb\n", "m.yaml") == {"kind": "AwsDynamodb"}


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("a: !!python/object/apply:os.system ['true']\n", "!!python/object/apply:os.system"),
        ("a: !!python/name:os.system\n", "!!python/name:os.system"),
        ("a: !custom {b: 1}\n", "!custom"),
        ("a: !<tag:example.com,2000:x> 1\n", "tag:example.com,2000:x"),
    ],
)
def test_python_and_unknown_tags_are_not_constructed(text: str, written: str) -> None:
    # Named as written (PyYAML says "could not determine a constructor for the tag
    # 'tag:yaml.org,2002:python/object/apply:os.system'").
    with pytest.raises(ManifestError) as excinfo:
        parse_yaml(text, "m.yaml")
    assert excinfo.value.problems == [
        f"(yaml): line 1, column 4: the tag {written} is not one a manifest may use; remove it (a manifest "
        "holds plain values: text, numbers, true/false, lists and mappings)"
    ]


def test_yaml_scalars_keep_their_yaml_12_types() -> None:
    # The model is strict, so these types matter: a quoted '5' stays a string; a quoted 'yes' is
    # text, and so is an explicit !!str.
    text = "a: '5'\nb: 5\nc: true\nd: False\ne: 'yes'\nf: !!str on\ng: 1.5\nh: -0\ni: ~\nj: 2023-01-01\n"
    assert parse_yaml(text, "m.yaml") == {
        "a": "5",
        "b": 5,
        "c": True,
        "d": False,
        "e": "yes",
        "f": "on",
        "g": 1.5,
        "h": 0,
        "i": None,
        "j": "2023-01-01",
    }


@pytest.mark.parametrize(
    ("written", "message"),
    [
        (
            "yes",
            "'yes' is true to YAML 1.1 and the text 'yes' to YAML 1.2; "
            "quote it for text, or write true or false for a boolean",
        ),
        (
            "On",
            "'On' is true to YAML 1.1 and the text 'On' to YAML 1.2; "
            "quote it for text, or write true or false for a boolean",
        ),
        (
            "NO",
            "'NO' is false to YAML 1.1 and the text 'NO' to YAML 1.2; "
            "quote it for text, or write true or false for a boolean",
        ),
        (
            "1:30",
            "'1:30' is 90 to YAML 1.1 and the text '1:30' to YAML 1.2; write the number in decimal digits, "
            "or quote it for text",
        ),
        (
            "010",
            "'010' is 8 to YAML 1.1 (base 8, for the leading 0) and 10 to YAML 1.2; write it without the "
            "leading 0, or quote it for text",
        ),
        ("0x1F", "'0x1F' is 31 written in base 16; write it in decimal digits, or quote it for text"),
        ("0o17", "'0o17' is 15 written in base 8; write it in decimal digits, or quote it for text"),
        (
            "1_000",
            "'1_000' is 1000 to YAML 1.1 and the text '1_000' to YAML 1.2; write the number in decimal "
            "digits, or quote it for text",
        ),
        (
            "0b101",
            "'0b101' is 5 to YAML 1.1 and the text '0b101' to YAML 1.2; write the number in decimal "
            "digits, or quote it for text",
        ),
        (
            "1e3",
            "'1e3' is the text '1e3' to YAML 1.1 and 1000.0 to YAML 1.2; quote it if it is text; write a "
            "number in plain digits (1500)",
        ),
        ("012345678901", "'012345678901' is the text '012345678901' to YAML 1.1 and 12345678901 to YAML 1.2"),
    ],
)
def test_a_scalar_yaml_11_reads_otherwise_is_refused_where_it_is_written(written: str, message: str) -> None:
    with pytest.raises(ManifestError) as caught:
        parse_yaml(f"spec:\n  tags:\n    window: {written}\n", "m.yaml")
    assert caught.value.problems[0].startswith(f"spec.tags.window: {message}")
    assert caught.value.problems[0].endswith("(line 3, column 13)")


def test_every_ambiguous_scalar_is_named_at_once_keys_included() -> None:
    text = "metadata:\n  labels: {no: x, team: on}\nspec:\n  list: [1, off]\n"
    with pytest.raises(ManifestError) as caught:
        parse_yaml(text, "m.yaml")
    assert [problem.split(" is ")[0] for problem in caught.value.problems] == [
        "metadata.labels.no: the key 'no'",
        "metadata.labels.team: 'on'",
        "spec.list[1]: 'off'",
    ]


def test_an_explicit_yaml_11_boolean_is_no_boolean() -> None:
    with pytest.raises(ManifestError) as caught:
        parse_yaml("a: !!bool yes\n", "m.yaml")
    assert "cannot read 'yes' as bool (only true and false are booleans)" in caught.value.problems[0]


def test_yaml_anchor_and_alias_without_override() -> None:
    text = "base: &b\n  x: 1\nderived:\n  <<: *b\n  y: 2\n"
    assert parse_yaml(text, "m.yaml") == {"base": {"x": 1}, "derived": {"x": 1, "y": 2}}


def test_yaml_merge_key_override_is_not_a_duplicate() -> None:
    text = "base: &b\n  x: 1\nderived:\n  <<: *b\n  x: 2\n"
    assert parse_yaml(text, "m.yaml") == {"base": {"x": 1}, "derived": {"x": 2}}


@pytest.mark.parametrize("text", ["? [a, b]\n: 1\n", "? {a: 1}\n: 1\n"], ids=["list-key", "mapping-key"])
def test_unhashable_key_is_a_manifest_error(text: str) -> None:
    with pytest.raises(ManifestError) as excinfo:
        parse_yaml(text, "m.yaml")
    assert excinfo.value.problems == ["(yaml): line 1, column 3: a list or mapping cannot be a key"]


# ---------------------------------------------------------------------------------------------
# Validation errors through the loader


def test_validation_errors_come_with_header_and_user_spelling(tmp_path: Path) -> None:
    content = VALID.replace("partitionKeyType: STRING", "partitionKeyType: BOOL") + "  tabelName: x\n"
    path = write(tmp_path, content)
    err = load_error(path)
    assert err.lines() == [
        f"{path} is not a valid AwsDynamodb manifest:",
        "spec.partitionKeyType: 'BOOL' is not an attribute type; use STRING (S), NUMBER (N) or BINARY (B)",
        "spec.tabelName: unknown field; did you mean 'tableName'?",
    ]


def test_strict_yaml_types_through_the_loader(tmp_path: Path) -> None:
    content = VALID + "  billingMode: PROVISIONED\n  readCapacityUnits: '5'\n  writeCapacityUnits: 5\n"
    err = load_error(write(tmp_path, content))
    assert err.problems == ["spec.readCapacityUnits: must be a whole number"]


def test_yaml_integer_label_key_is_rejected(tmp_path: Path) -> None:
    content = VALID.replace("  name: orders\n", "  name: orders\n  labels:\n    1: one\n")
    err = load_error(write(tmp_path, content))
    assert err.problems == ["metadata.labels.1: keys here must be strings"]


# ---------------------------------------------------------------------------------------------
# Nesting depth: PyYAML composes recursively, so depth is bounded before Python's stack is


@pytest.mark.parametrize(
    "text",
    [
        "a: " + "[" * 5000 + "]" * 5000 + "\n",
        "a: " + "{b: " * 5000 + "1" + "}" * 5000 + "\n",
        "".join("  " * level + f"k{level}:\n" for level in range(200)) + "  " * 200 + "v\n",
    ],
    ids=["flow-lists", "flow-mappings", "block-mappings"],
)
def test_deep_nesting_is_a_manifest_error(text: str) -> None:
    with pytest.raises(ManifestError) as caught:
        parse_yaml(text, "deep.yaml")
    [problem] = caught.value.problems
    assert problem.startswith("(yaml): line ")
    assert problem.endswith(": nested more than 32 levels deep; a manifest is never that deep")


def test_nesting_up_to_the_limit_is_fine() -> None:
    # The top-level mapping and 31 nested lists: the innermost list is the 32nd level.
    assert parse_yaml("a: " + "[" * 31 + "]" * 31 + "\n", "ok.yaml") is not None


def test_one_level_past_the_limit() -> None:
    with pytest.raises(ManifestError, match="nested more than 32"):
        parse_yaml("a: " + "[" * 32 + "]" * 32 + "\n", "deep.yaml")


# ---------------------------------------------------------------------------------------------
# Size, counting what aliases expand to, and values PyYAML cannot build


def test_alias_bomb_is_refused_quickly() -> None:
    # Nine levels of nine aliases stand for 9**9 (387 million) values in under 1 KiB.
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    with pytest.raises(ManifestError) as caught:
        parse_yaml("\n".join(lines) + "\n", "bomb.yaml")
    [problem] = caught.value.problems
    assert problem.endswith("holds more than 10000 values (aliases expanded); a manifest is far smaller")


def test_too_many_values_as_written() -> None:
    text = "a: [" + ", ".join(["1"] * 10_001) + "]\n"
    with pytest.raises(ManifestError, match=r"holds more than 10000 values"):
        parse_yaml(text, "big.yaml")


def test_aliases_that_deepen_past_the_limit() -> None:
    lines = ["l0: &l0 [x]"] + [f"l{i}: &l{i} [*l{i - 1}]" for i in range(1, 40)]
    with pytest.raises(ManifestError, match=r"nested more than 32 levels deep"):
        parse_yaml("\n".join(lines) + "\n", "deep.yaml")


def test_an_alias_inside_its_own_anchor() -> None:
    with pytest.raises(ManifestError, match=r"an alias here refers to a collection that contains it"):
        parse_yaml("a: &x [1, *x]\n", "self.yaml")


def test_a_few_aliases_are_fine() -> None:
    assert parse_yaml("a: &x [1, 2]\nb: [*x, *x]\n", "ok.yaml") == {"a": [1, 2], "b": [[1, 2], [1, 2]]}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("a: !!timestamp 2023-02-29\n", "cannot read '2023-02-29' as timestamp (day is out of range for month)"),
        ("a: !!int abc\n", "cannot read 'abc' as int (not an integer as YAML 1.2 writes one)"),
        ("a: !!float abc\n", "cannot read 'abc' as float (could not convert string to float: 'abc')"),
    ],
)
def test_a_value_yaml_cannot_build_is_a_manifest_error(text: str, expected: str) -> None:
    with pytest.raises(ManifestError) as caught:
        parse_yaml(text, "bad.yaml")
    [problem] = caught.value.problems
    assert problem.startswith("(yaml): line 1, column 4: ")
    assert problem.endswith(expected + "; quote it if it is text")


def test_errors_name_the_fields_of_the_model_that_was_used() -> None:
    # Each dialect has its own model; the translation must not assume the seed's.
    from planton.manifest.base import ManifestModel
    from planton.manifest.loader import validate_as

    class Inner(ManifestModel):
        partition_key: str

    class Other(ManifestModel):
        key_schema: Inner

    with pytest.raises(ManifestError) as caught:
        validate_as(Other, {"keySchema": {"partitionKee": "x"}}, "other.yaml")
    assert sorted(caught.value.problems) == [
        "keySchema.partitionKee: unknown field; did you mean 'partitionKey'?",
        "keySchema.partitionKey: required",
    ]


# ---------------------------------------------------------------------------------------------
# Found by tests/unit/test_fuzz.py: every problem is one line


def test_a_control_character_is_one_line_naming_its_line_and_column(tmp_path: Path) -> None:
    # PyYAML's own message was two lines, naming "<unicode string>" and a character offset.
    err = load_error(write(tmp_path, 'a: b\r\nc: "\x07"\n'))
    assert err.problems == [
        "(yaml): line 2, column 5: the non-printable character U+0007 is not allowed in YAML; remove it, "
        "or write it as the escape \\u0007 in a double-quoted string"
    ]


def test_a_control_character_alone_is_at_line_1_column_1(tmp_path: Path) -> None:
    assert load_error(write(tmp_path, "\x1f")).problems[0].startswith("(yaml): line 1, column 1: ")


@pytest.mark.parametrize("key", ["a\nb", "a\rb", "\x1e", "\u2028", "\x1b[31mred"])
def test_a_key_with_a_line_break_or_control_character_is_escaped_in_its_path(key: str) -> None:
    # Keys go into a problem's dotted path as written: a line break split the message, and an
    # escape sequence reached the terminal.
    document = parse_yaml(VALID, "m.yaml")
    document["spec"][key] = 1
    with pytest.raises(ManifestError) as excinfo:
        validate_document(document, "m.yaml")
    assert excinfo.value.problems[0].startswith(f"spec.{key!r}: unknown field")
    assert all(problem.isprintable() for problem in excinfo.value.problems)


def test_an_ambiguous_scalar_under_a_key_with_a_line_break(tmp_path: Path) -> None:
    err = load_error(write(tmp_path, '"a\\nb":\n  c: yes\n'))
    assert err.problems[0].startswith("'a\\nb'.c: 'yes' is ")
