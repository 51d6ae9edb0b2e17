"""Read a manifest file into the model, turning every YAML and validation problem into
``dotted.path: message`` lines inside one ``ManifestError``."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, cast

import yaml
from pydantic import BaseModel, ValidationError

from planton.errors import ManifestError
from planton.manifest.base import LENIENT, camel_to_snake, describe_value, models_in, shown, snake_to_camel
from planton.manifest.normalise import Manifest, MixedDialects, manifest_model
from planton.manifest.yaml12 import Ambiguity, Yaml12Constructor, Yaml12Resolver, ambiguity
from planton.textfile import UnreadableFile, read_text_file

MAX_MANIFEST_BYTES = 1024 * 1024
# How long a manifest arriving through a pipe, FIFO or device may take (PLANTON_PIPE_TIMEOUT).
DEFAULT_WAIT_SECONDS = 30.0
# A manifest is a few levels deep (spec.globalSecondaryIndexes[0].keySchema[0].keyType is 5).
MAX_NESTING_DEPTH = 32
# Every key and value counts, aliases expanded; a full manifest has a few hundred.
MAX_VALUES = 10_000

_Model = TypeVar("_Model", bound=BaseModel)


@dataclass(frozen=True)
class LoadedManifest:
    """A validated manifest and the document it came from."""

    path: Path
    document: Mapping[str, Any]
    model: Manifest
    # False for a pipe, FIFO or device (``/dev/stdin``, ``<(...)``): nothing to keep state beside.
    regular_file: bool = True


class _StrictSafeLoader(
    yaml.reader.Reader,
    yaml.scanner.Scanner,
    yaml.parser.Parser,
    yaml.composer.Composer,
    Yaml12Constructor,
    Yaml12Resolver,
):
    """PyYAML's safe loader, made strict and bounded:

    * plain scalars are read with the YAML 1.2 core schema, and one that YAML 1.1 reads
      otherwise (``yes``, ``1:30``, ``010``) or an integer in another base (``0x1F``) is refused
      where it is written, every one of them at once (see ``yaml12``);
    * a key given twice in one mapping is an error (plain PyYAML silently keeps the last one,
      hiding a typo'd override);
    * nesting and size are bounded, counting what aliases expand to: PyYAML composes nested
      collections recursively (5,000 levels end in a RecursionError), and a few hundred bytes
      of aliases can stand for a billion values that validation would then walk;
    * a value PyYAML cannot build (``2023-02-29`` read as a date, ``!!int abc``) is a YAML
      error at its line, not an exception from inside PyYAML.
    """

    # Whether an error may quote the value it could not read (not in files that hold secrets).
    quote_values = True

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        Yaml12Constructor.__init__(self)
        Yaml12Resolver.__init__(self)
        self._depth = 0
        self._nodes = 0
        self._path: list[str] = []  # where the node being composed is, as written
        self._ambiguous: list[str] = []  # problem lines for plain scalars YAML 1.1 reads otherwise

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        # Bounds the file as written, before anything is built; construct_document bounds what
        # its aliases expand to.
        self._depth += 1
        self._nodes += 1
        self._path.append(_segment(parent, index))
        try:
            if self._depth > MAX_NESTING_DEPTH:
                raise _too_deep(self.peek_event().start_mark)  # type: ignore[no-untyped-call]
            if self._nodes > MAX_VALUES:
                raise _too_big(self.peek_event().start_mark)  # type: ignore[no-untyped-call]
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1
            self._path.pop()

    def compose_scalar_node(self, anchor: Any) -> yaml.ScalarNode:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        node: yaml.ScalarNode = super().compose_scalar_node(anchor)
        plain = event.implicit[0] and event.tag is None
        found = ambiguity(node.value) if plain else None
        if found is not None:
            self._ambiguous.append(self._ambiguity_problem(node, found))
        return node

    def _ambiguity_problem(self, node: yaml.ScalarNode, found: Ambiguity) -> str:
        is_key = self._path[-1] == _KEY
        parents = "".join(self._path[:-1]).lstrip(".")
        path = (f"{parents}." if parents else "") + shown(node.value) if is_key else "".join(self._path).lstrip(".")
        where = f"line {node.start_mark.line + 1}, column {node.start_mark.column + 1}"
        if is_key:
            said = f"the key {node.value!r} is {found.reading}; quote it"
        elif self.quote_values:
            said = f"{describe_value(node.value)} is {found.reading}; {found.fix}"
        else:  # the value may be a secret: say what it reads as, not what it is
            said = f"this value is {found.kinds}; {found.fix}"
        return f"{path or '(document)'}: {said} ({where})"

    def construct_document(self, node: yaml.Node) -> Any:
        if self._ambiguous:
            problems, self._ambiguous = self._ambiguous, []
            raise AmbiguousScalars(problems)
        _check_expanded_shape(node)
        return super().construct_document(node)

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, ArithmeticError, LookupError, AttributeError, TypeError) as err:
            tag = node.tag.rsplit(":", 1)[-1]
            if not self.quote_values:  # the value may be a secret: say where, not what
                raise yaml.constructor.ConstructorError(
                    None, None, f"cannot read this value as {tag}; quote it if it is text", node.start_mark
                ) from None
            reason = str(err).split(";", 1)[0]  # Python's own advice after a ';' is not for users
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"cannot read {describe_value(node.value)} as {tag} ({reason}); quote it if it is text",
                node.start_mark,
            ) from None


class AmbiguousScalars(yaml.YAMLError):
    """Plain scalars whose meaning depends on the YAML version, one problem line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


_KEY = "\0key"  # the path segment of a mapping key being composed


def _segment(parent: yaml.Node | None, index: Any) -> str:
    """The path segment of a node composed under ``parent`` at ``index`` (PyYAML's Composer
    passes a sequence position, None for a mapping's key, or the key node for its value)."""
    if isinstance(parent, yaml.SequenceNode):
        return f"[{index}]"
    if isinstance(parent, yaml.MappingNode):
        if index is None:
            return _KEY
        return f".{shown(index.value)}" if isinstance(index, yaml.ScalarNode) else ".?"
    return ""


def _too_deep(mark: yaml.Mark | None) -> yaml.MarkedYAMLError:
    return yaml.composer.ComposerError(
        None, None, f"nested more than {MAX_NESTING_DEPTH} levels deep; a manifest is never that deep", mark
    )


def _too_big(mark: yaml.Mark | None) -> yaml.MarkedYAMLError:
    return yaml.composer.ComposerError(
        None, None, f"holds more than {MAX_VALUES} values (aliases expanded); a manifest is far smaller", mark
    )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def _check_expanded_shape(root: yaml.Node) -> None:
    """Raise when the document, with every alias expanded, is too deep, too big or refers to
    itself. Iterative, and each node is measured once, so an alias bomb costs its own size."""
    sizes: dict[int, int] = {}
    depths: dict[int, int] = {}
    in_progress: set[int] = set()
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        if children_done:
            children = _children(node)
            sizes[key] = 1 + sum(sizes[id(child)] for child in children)
            depths[key] = 1 + max((depths[id(child)] for child in children), default=0)
            in_progress.discard(key)
            if depths[key] > MAX_NESTING_DEPTH:
                raise _too_deep(node.start_mark)
            if sizes[key] > MAX_VALUES:
                raise _too_big(node.start_mark)
            continue
        if key in sizes:
            continue
        if key in in_progress:
            raise yaml.composer.ComposerError(
                None, None, "an alias here refers to a collection that contains it", node.start_mark
            )
        in_progress.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in _children(node) if id(child) not in sizes)


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _construct_mapping(loader: _StrictSafeLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    # Only keys written in this mapping count: a key that overrides one pulled in by a
    # ``<<: *anchor`` merge is standard YAML, so the check runs before merges are flattened.
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == _MERGE_TAG:
            continue
        key = loader.construct_object(key_node, deep=deep)
        try:
            duplicate = key in seen
        except TypeError:
            raise yaml.constructor.ConstructorError(
                None, None, "a list or mapping cannot be a key", key_node.start_mark
            ) from None
        if duplicate:
            raise yaml.constructor.ConstructorError(
                None, None, f"key {key!r} appears twice in the same mapping", key_node.start_mark
            )
        seen.add(key)
    loader.flatten_mapping(node)
    return loader.construct_mapping(node, deep=deep)


_StrictSafeLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)  # type: ignore[type-var]


_CORE_TAG_PREFIX = "tag:yaml.org,2002:"


def _construct_undefined(loader: _StrictSafeLoader, node: yaml.Node) -> Any:
    # PyYAML says "could not determine a constructor for the tag 'tag:yaml.org,2002:python/...'".
    tag = "!!" + node.tag.removeprefix(_CORE_TAG_PREFIX) if node.tag.startswith(_CORE_TAG_PREFIX) else node.tag
    raise yaml.constructor.ConstructorError(
        None,
        None,
        f"the tag {tag} is not one a manifest may use; remove it (a manifest holds plain values: text, "
        "numbers, true/false, lists and mappings)",
        node.start_mark,
    )


_StrictSafeLoader.add_constructor(None, _construct_undefined)  # type: ignore[type-var]


class _PrivateLoader(_StrictSafeLoader):
    """The same loader for files that hold secrets: its errors never quote a value."""

    quote_values = False


@dataclass(frozen=True)
class YamlFileKind:
    """What a YAML file a user names is meant to be, for the messages about it."""

    what: str  # "AwsDynamodb manifest"
    option: str  # the option that names it, for "check the --manifest path"
    shape: str  # what its top level holds
    example: str  # where to find a complete one
    private: bool = False  # holds secrets: errors never quote its values


MANIFEST_FILE = YamlFileKind(
    "AwsDynamodb manifest",
    "--manifest",
    "apiVersion, kind, metadata and spec",
    "see examples.md for a complete manifest",
)


def parse_yaml(text: str, source: str, *, what: str = MANIFEST_FILE.what, private: bool = False) -> Any:
    """Parse one YAML document safely; errors name the line and column (and, unless the file is
    ``private``, the value they could not read)."""
    loader = _PrivateLoader if private else _StrictSafeLoader
    try:
        return yaml.load(text, Loader=cast(Any, loader))  # noqa: S506 - a SafeLoader subclass
    except AmbiguousScalars as err:
        raise ManifestError(source, err.problems, what=what) from None
    except yaml.YAMLError as err:
        raise _yaml_problem(err, source, what, text) from None


def _yaml_problem(err: yaml.YAMLError, source: str, what: str, text: str) -> ManifestError:
    """PyYAML's error as a problem line naming the line and column when it knows them."""
    if isinstance(err, yaml.reader.ReaderError):
        # PyYAML's own text is two lines naming "<unicode string>" and a character offset.
        where = _line_and_column(text, err.position)
        return ManifestError(
            source,
            [
                f"(yaml): {where}the non-printable character U+{err.character:04X} is not allowed in YAML; "
                f"remove it, or write it as the escape \\u{err.character:04X} in a double-quoted string"
            ],
            what=what,
        )
    if isinstance(err, yaml.MarkedYAMLError):
        mark = err.problem_mark or err.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = " ".join(part for part in (err.context, err.problem) if part)
        return ManifestError(source, [f"(yaml): {where}{problem}"], what=what)
    return ManifestError(source, [f"(yaml): {err}"], what=what)


def parse_yaml_stream(text: str, source: str, *, what: str = MANIFEST_FILE.what) -> list[Any]:
    """Parse every document of a YAML stream (``---``-separated, as a kustomize build emits),
    with the same strict loader as a single document."""
    try:
        return list(yaml.load_all(text, Loader=cast(Any, _StrictSafeLoader)))
    except AmbiguousScalars as err:
        raise ManifestError(source, err.problems, what=what) from None
    except yaml.YAMLError as err:
        raise _yaml_problem(err, source, what, text) from None


def _line_and_column(text: str, position: int) -> str:
    """``line L, column C: `` of the character at ``position``, counted as PyYAML's marks count
    them (a line ends at \\n, \\r not before \\n, U+0085, U+2028 and U+2029)."""
    line = column = 0
    for index, char in enumerate(text[:position]):
        if char in "\n\x85\u2028\u2029" or (char == "\r" and text[index + 1 : index + 2] != "\n"):
            line, column = line + 1, 0
        else:
            column += 1
    return f"line {line + 1}, column {column + 1}: "


def read_yaml_mapping(
    path: Path, kind: YamlFileKind, *, wait_seconds: float = DEFAULT_WAIT_SECONDS
) -> tuple[Mapping[str, Any], bool]:
    """The YAML file at ``path`` as a mapping, and whether it is a regular file (not a pipe or
    device); or a ManifestError saying why it is not one."""
    source = str(path)
    try:
        read = read_text_file(path, limit=MAX_MANIFEST_BYTES, wait_seconds=wait_seconds)
    except UnreadableFile as err:
        hint = f"; check the {kind.option} path" if str(err) == "no such file" else ""
        raise ManifestError(source, [f"(file): {err}{hint}"], what=kind.what) from None
    document = parse_yaml(read.text, source, what=kind.what, private=kind.private)
    if document is None:
        raise ManifestError(source, [f"(file): is empty; {kind.example}"], what=kind.what)
    if not isinstance(document, Mapping):
        raise ManifestError(
            source,
            [f"(document): must be a mapping with {kind.shape}, not {_kind_of(document)}"],
            what=kind.what,
        )
    return document, read.regular


# What a document that is no mapping is, in the user's words (not Python's "str", "int").
_KINDS: Mapping[type, str] = {
    list: "a list",
    str: "text",
    int: "a number",
    float: "a number",
    bool: "true or false",
    bytes: "binary data",
}


def _kind_of(value: Any) -> str:
    return _KINDS.get(type(value), f"a {type(value).__name__}")


def read_manifest_document(path: Path, *, wait_seconds: float = DEFAULT_WAIT_SECONDS) -> tuple[Mapping[str, Any], bool]:
    """The manifest file as a mapping, and whether it is a regular file (not a pipe or device);
    or a ManifestError saying why it is not one."""
    return read_yaml_mapping(path, MANIFEST_FILE, wait_seconds=wait_seconds)


def validate_document(document: Mapping[str, Any], source: str) -> Manifest:
    """Validate an already-parsed manifest document in whichever dialect it is written."""
    try:
        model = manifest_model(document)
    except MixedDialects as err:
        raise ManifestError(source, [err.problem()]) from None
    return validate_as(model, document, source)


def validate_as(
    model: type[_Model], document: Mapping[str, Any], source: str, *, what: str = "AwsDynamodb manifest"
) -> _Model:
    """Validate ``document`` as ``model`` (a dialect's manifest model); its errors become
    ``dotted.path: message`` lines in the user's own spelling, naming ``model``'s fields.

    A manifest with problems is validated a second time, leniently (``LENIENT``): values that
    only break a rule of their own field are let through, so the rules between fields run too
    and every problem is reported in one go."""
    try:
        return model.model_validate(dict(document))
    except ValidationError as strict:
        errors = strict.errors(include_url=False)
    try:
        model.model_validate(dict(document), context={LENIENT: True})
    except ValidationError as lenient:
        errors += lenient.errors(include_url=False)  # repeats of the first pass are dropped below
    camel = _writes_camel_case(document)
    problems = [
        # A duplicate-field message quotes the user's own two spellings: never respelled.
        _respell_fields(problem, model) if camel and error["type"] != "duplicate_field" else problem
        for error in errors
        for problem in (_describe(error, document, model, camel),)
    ]
    raise ManifestError(source, list(dict.fromkeys(problems)), what=what)


# ---------------------------------------------------------------------------------------------
# Turning pydantic's errors into lines a person can act on


def _describe(error: Mapping[str, Any], document: Mapping[str, Any], model: type[BaseModel], camel: bool) -> str:
    loc: tuple[Any, ...] = tuple(error["loc"])
    if loc and loc[-1] == "[key]":  # pydantic's marker for a bad key (not value) in a mapping
        return f"{_user_path(loc[:-1], document, camel)}: keys here must be strings"
    if error["type"] == "invalid_key":  # a key that is no string, among a model's fields
        path = _user_path(loc[:-1], document, camel) or "(document)"
        return f"{path}: keys here must be strings, not {loc[-1]!r}"
    path = _user_path(loc, document, camel)
    return f"{path or '(document)'}: {_message(error, loc, model)}"


def spelled_path(loc: Sequence[Any], document: Mapping[str, Any]) -> str:
    """``loc`` (snake_case field names and list positions, as a model's) as a dotted path in
    the manifest's own spelling: ``spec.globalSecondaryIndexes[0].autoscaling``."""
    return _user_path(loc, document, _writes_camel_case(document))


def _user_path(loc: Sequence[Any], document: Any, document_camel: bool) -> str:
    """The dotted path of ``loc``, spelled the way the user spelled each key. A key the user did
    not write (a missing field, or one a rule asks for) takes the style of the mapping it belongs
    in, else of the whole manifest (``document_camel``); top-level keys are camelCase
    (``apiVersion``)."""
    parts: list[str] = []
    node: Any = document
    for position, element in enumerate(loc):
        if isinstance(element, int) and not isinstance(node, Mapping):
            parts.append(f"[{element}]")
            node = node[element] if isinstance(node, Sequence) and 0 <= element < len(node) else None
            continue
        key = str(element)
        written = isinstance(node, Mapping) and element in node
        if not written:
            camel = snake_to_camel(key)
            spelled_camel = isinstance(node, Mapping) and camel in node
            if spelled_camel or position == 0 or _mapping_style(node, default_camel=document_camel):
                key = camel
        node = node.get(key if key in node else element) if isinstance(node, Mapping) else None
        parts.append(("." if parts else "") + shown(key))
    return "".join(parts)


def _mapping_style(node: Any, *, default_camel: bool) -> bool:
    """True when most of ``node``'s multi-word keys are camelCase; ``default_camel`` on a tie."""
    keys = [key for key in node if isinstance(key, str)] if isinstance(node, Mapping) else []
    camel = sum(1 for key in keys if key != key.lower())
    snake = sum(1 for key in keys if "_" in key and key == key.lower())
    return default_camel if camel == snake else camel > snake


_PLAIN_MESSAGES = {
    "missing": "required",
    "model_type": "must be a mapping of fields",
    "dict_type": "must be a mapping",
    "list_type": "must be a list",
    "string_type": "must be a string",
    "int_type": "must be a whole number",
    "bool_type": "must be true or false",
    "float_type": "must be a number",
}


def _message(error: Mapping[str, Any], loc: tuple[Any, ...], model: type[BaseModel]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return _unknown_field_message(loc, model)
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        return f"must be {expected.replace(chr(39), '')}, not {describe_value(error.get('input'))}"
    if kind == "greater_than_equal":
        return f"must be {error['ctx']['ge']:g} or more"
    if kind == "less_than_equal":
        return f"must be {error['ctx']['le']:g} or less"
    if kind in _PLAIN_MESSAGES:
        return _PLAIN_MESSAGES[kind]
    return str(error["msg"])


def _unknown_field_message(loc: tuple[Any, ...], model: type[BaseModel]) -> str:
    unknown = str(loc[-1])
    fields = _fields_at(model, loc[:-1])
    # Answer in the user's style: camelCase for a camelCase key, snake_case for one with an
    # underscore; top-level fields in the manifest's usual spelling (apiVersion).
    camel_style = "_" not in unknown and (unknown != unknown.lower() or len(loc) == 1)
    spellings = {snake_to_camel(name) if camel_style else name for name in fields}
    # Compare on the snake form so that a camelCase typo still finds its field.
    by_snake = {camel_to_snake(s): s for s in spellings}
    close = difflib.get_close_matches(camel_to_snake(unknown), list(by_snake), n=1, cutoff=0.6)
    if close:
        return f"unknown field; did you mean {by_snake[close[0]]!r}?"
    known = ", ".join(sorted(spellings))
    return f"unknown field; known fields here: {known}"


def _fields_at(model: type[BaseModel], loc: Sequence[Any]) -> list[str]:
    """The field names of the model found by following ``loc`` from ``model`` (list positions
    are stepped over)."""
    current: type[BaseModel] = model
    for element in loc:
        if isinstance(element, int):
            continue
        field = current.model_fields.get(str(element))
        inner = next(models_in(field.annotation), None) if field else None
        if inner is None:
            return []
        current = inner
    return list(current.model_fields)


def _all_fields(model: type[BaseModel], seen: set[type[BaseModel]] | None = None) -> set[str]:
    """Every field name of ``model`` and the models nested in it."""
    seen = set() if seen is None else seen
    seen.add(model)
    names = set(model.model_fields)
    for field in model.model_fields.values():
        for inner in models_in(field.annotation):
            if inner not in seen:
                names |= _all_fields(inner, seen)
    return names


# Maps whose keys are the user's own words (tag keys), never field names.
_USER_KEYED = frozenset({"tags", "labels", "annotations"})

# A quoted value ('orders', not the apostrophe of "table's").
_QUOTED = re.compile(r"((?<!\w)'[^']*'(?!\w))")
_SNAKE_WORD = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def _respell_fields(problem: str, model: type[BaseModel]) -> str:
    """Field names in a message's text in camelCase, for a manifest written in camelCase. Quoted
    text ('...') is the user's own value and stays as written."""
    path, sep, message = problem.partition(": ")
    fields = _all_fields(model)
    pieces = _QUOTED.split(message)  # odd positions are quoted values
    return (
        path
        + sep
        + "".join(
            piece
            if position % 2
            else _SNAKE_WORD.sub(lambda m: snake_to_camel(m[0]) if m[0] in fields else m[0], piece)
            for position, piece in enumerate(pieces)
        )
    )


def _writes_camel_case(document: Mapping[str, Any]) -> bool:
    """True when the spec's multi-word field names are mostly camelCase (``readCapacityUnits``).
    The keys of ``tags``, ``labels`` and ``annotations`` are the user's own, not field names."""
    camel = snake = 0
    pending: list[Any] = [document.get("spec")]
    while pending:
        node = pending.pop()
        if isinstance(node, Mapping):
            for key, value in node.items():
                if isinstance(key, str):
                    camel += key != key.lower() and "_" not in key
                    snake += "_" in key and key == key.lower()
                if key not in _USER_KEYED:
                    pending.append(value)
        elif isinstance(node, list):
            pending.extend(node)
    return camel > snake
