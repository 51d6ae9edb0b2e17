"""``--set PATH=VALUE``: changes made to a parsed manifest document before it is validated.

A path names a field the way a manifest does (``spec.billing_mode``,
``spec.globalSecondaryIndexes[0].keySchema[0].attributeName``) and is checked against the
manifest models of both dialects, so a typo is caught with a suggestion before anything is read.
The value is read as the type the model gives that field: ``--set spec.table_name=123`` is the
text "123", ``--set spec.read_capacity_units=five`` is refused, and a list, mapping or nested
model is written in YAML flow syntax (``[a, b]``, ``{enabled: true}``). ``null`` removes a field.

Everything here is pure: ``apply_overrides`` returns a new document and never touches its input.
"""

from __future__ import annotations

import copy
import difflib
import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, Literal

from pydantic import BaseModel

from planton.errors import ManifestError, UsageError
from planton.manifest.base import camel_to_snake, describe_value, shown, snake_to_camel
from planton.manifest.loader import parse_yaml
from planton.manifest.normalise import Manifest
from planton.manifest.yaml12 import FLOAT, core_tag

Path = tuple[str | int, ...]

_EXAMPLE = "spec.billing_mode=PROVISIONED"


class OverrideError(UsageError):
    """A ``--set`` that cannot be applied; the message starts with ``--set RAW: ``."""

    def __init__(self, raw: str, problem: str) -> None:
        super().__init__(f"--set {shown(raw)}: {problem}")
        self.raw = raw
        self.problem = problem


@dataclass(frozen=True)
class Override:
    """One ``--set``: the text as given, its path (list positions as ints) and its value text."""

    raw: str
    path: Path
    text: str

    @property
    def dotted(self) -> str:
        """The path as a user writes it: ``spec.global_secondary_indexes[0].name``, with a dot,
        ``[``, ``=`` or backslash inside a key escaped by a backslash."""
        return _render(self.path)


# ---------------------------------------------------------------------------------------------
# Parsing


def parse_override(raw: str) -> Override:
    """Parse one ``--set`` argument and check its path and value against the manifest models,
    so that a mistake is reported before the manifest is read. Raises ``OverrideError``."""
    path_text, equals, text = _split_at_equals(raw)
    if not equals:
        raise OverrideError(raw, f"expected PATH=VALUE, such as {_EXAMPLE}")
    if not path_text:
        raise OverrideError(raw, f"the path before '=' is empty; write PATH=VALUE, such as {_EXAMPLE}")
    override = Override(raw=raw, path=_split_path(raw, path_text), text=text)
    _typed_value(override, _resolve(override).leaf)
    return override


def _split_at_equals(raw: str) -> tuple[str, str, str]:
    """``raw`` split at its first ``=`` that no backslash escapes (a tag key may hold ``=``:
    ``spec.tags.a\\=b=c`` sets the tag ``a=b``)."""
    position = 0
    while position < len(raw):
        if raw[position] == "\\":
            position += 2
            continue
        if raw[position] == "=":
            return raw[:position], "=", raw[position + 1 :]
        position += 1
    return raw, "", ""


_POSITION = re.compile(r"[0-9]+")
_NEGATIVE = re.compile(r"-[0-9]+")


def _split_path(raw: str, text: str) -> Path:
    """``a.b[0].c\\.d`` -> ``("a", "b", 0, "c.d")``. As in Helm, a backslash takes the next
    character literally, so keys such as ``terraform.project-planton.org/backend.type`` can be
    named."""
    segments: list[str | int] = []
    position = 0
    while True:
        name: list[str] = []
        while position < len(text) and text[position] not in ".[":
            if text[position] == "\\":
                if position + 1 == len(text):
                    raise OverrideError(
                        raw, "the path ends in a lone backslash; a backslash escapes the character after it"
                    )
                position += 1
            name.append(text[position])
            position += 1
        if not name:
            raise OverrideError(
                raw,
                "the path has an empty part (a '.' at its start or end, two '.' in a row, or [N] with no "
                "name before it); write a dot inside a key as \\.",
            )
        segments.append("".join(name))
        while position < len(text) and text[position] == "[":
            close = text.find("]", position)
            inside = text[position + 1 : close] if close != -1 else ""
            if close != -1 and _NEGATIVE.fullmatch(inside):
                raise OverrideError(
                    raw,
                    f"[{inside}]: list positions count from [0] (the first entry); negative positions "
                    "are not supported",
                )
            if close == -1 or not _POSITION.fullmatch(inside):
                fragment = text[position:] if close == -1 else text[position : close + 1]
                raise OverrideError(
                    raw,
                    f"malformed list position {describe_value(fragment)}; write [N] with N a whole number "
                    "([0] is the first entry)",
                )
            segments.append(int(inside))
            position = close + 1
        if position == len(text):
            return tuple(segments)
        if text[position] != ".":
            raise OverrideError(
                raw,
                f"expected '.' or '[' after {describe_value(text[:position])}, not {describe_value(text[position])}",
            )
        position += 1


def _escape(key: str) -> str:
    return re.sub(r"([\\.\[=])", r"\\\1", key)


def _render(path: Sequence[str | int]) -> str:
    parts: list[str] = []
    for segment in path:
        if isinstance(segment, int):
            parts.append(f"[{segment}]")
        else:
            parts.append(("." if parts else "") + shown(_escape(segment)))
    return "".join(parts)


def _where(path: Sequence[str | int]) -> str:
    return _render(path) or "the manifest"


# ---------------------------------------------------------------------------------------------
# The manifest models, seen as the types a path walks through

# Every type a field may hold, with Annotated, Optional and unions unwrapped. Both dialects'
# models are walked together, so a field of either is valid wherever the two could put it.
_Types = tuple[Any, ...]


def _alternatives(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is Annotated:
        return _alternatives(typing.get_args(annotation)[0])
    if origin is typing.Union or origin is types.UnionType:
        return [alternative for argument in typing.get_args(annotation) for alternative in _alternatives(argument)]
    if annotation is None or annotation is type(None):
        return []
    return [annotation]


def _unique(annotations: Sequence[Any]) -> _Types:
    # Compared with == (annotations need not be hashable), keeping the models' order.
    unique: list[Any] = []
    for annotation in annotations:
        if annotation not in unique:
            unique.append(annotation)
    return tuple(unique)


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _is_list(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (list, Sequence) or annotation is list


def _is_mapping(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (dict, Mapping) or annotation is dict


def _argument(annotation: Any, position: int) -> list[Any]:
    arguments = typing.get_args(annotation)
    return _alternatives(arguments[position]) if len(arguments) > position else [Any]


_ROOT: _Types = _unique(_alternatives(Manifest))


@dataclass(frozen=True)
class _Step:
    """One segment of a checked path, with the keys a document may hold it under (a field's two
    spellings, the user's first; a free key's one)."""

    key: str | int
    spellings: tuple[str, ...] = ()
    free: bool = False  # a key of labels, annotations or tags, not a field


@dataclass(frozen=True)
class _Resolved:
    steps: tuple[_Step, ...]
    leaf: _Types


def _field_named(models: Sequence[type[BaseModel]], segment: str) -> str | None:
    """The field ``segment`` spells (snake_case or camelCase, as the models accept), if any."""
    for model in models:
        for field in model.model_fields:
            if segment in (field, snake_to_camel(field)):
                return field
    return None


def _resolve(override: Override) -> _Resolved:
    """Walk ``override``'s path through the manifest models; raise ``OverrideError`` where it
    leaves them."""
    current = _ROOT
    steps: list[_Step] = []
    for position, segment in enumerate(override.path):
        prefix = override.path[:position]
        if isinstance(segment, int):
            lists = [annotation for annotation in current if _is_list(annotation)]
            if not lists:
                raise OverrideError(
                    override.raw, f"{_where(prefix)} is not a list, so [{segment}] does not apply; remove it"
                )
            steps.append(_Step(segment))
            current = _unique([item for annotation in lists for item in _argument(annotation, 0)])
            continue
        mappings = [annotation for annotation in current if _is_mapping(annotation) or annotation is Any]
        models = [annotation for annotation in current if _is_model(annotation)]
        if mappings:  # labels, annotations, tags: the keys are the user's own
            steps.append(_Step(segment, (segment,), free=True))
            current = _unique([value for annotation in mappings for value in _argument(annotation, 1)])
            continue
        if models:
            field = _field_named(models, segment)
            if field is None:
                raise _unknown_field(override, prefix, segment, models)
            other = field if segment != field else snake_to_camel(field)
            steps.append(_Step(segment, tuple(dict.fromkeys((segment, other)))))
            current = _unique(
                [
                    alternative
                    for model in models
                    if field in model.model_fields
                    for alternative in _alternatives(model.model_fields[field].annotation)
                ]
            )
            continue
        if any(_is_list(annotation) for annotation in current):
            raise OverrideError(
                override.raw,
                f"{_where(prefix)} is a list; pick an entry with [N], such as {_render((*prefix, 0, segment))}",
            )
        raise OverrideError(override.raw, _no_fields_here(override.path, position, steps))
    return _Resolved(tuple(steps), current)


def _no_fields_here(path: Path, position: int, steps: Sequence[_Step]) -> str:
    prefix, segment = path[:position], path[position]
    problem = f"{_where(prefix)} is a single value and has no field {describe_value(segment)}"
    rest = path[position - 1 :]
    # The likely cause under labels and tags: a key with dots in it, written unescaped.
    if steps and steps[-1].free and all(isinstance(part, str) for part in rest):
        key = ".".join(str(part) for part in rest)
        problem += f"; to name a key with dots in it, escape them: {_render((*path[: position - 1], key))}"
    return problem


def _is_camel(name: str) -> bool:
    return name != name.lower() and "_" not in name


def _camel_style(segment: str, prefix: Path) -> bool:
    """Whether to answer in camelCase: as the segment is written, else as the rest of the path
    is (a top-level field in the manifest's usual apiVersion style)."""
    if "_" in segment:
        return False
    if _is_camel(segment):
        return True
    names = [part for part in prefix if isinstance(part, str)]
    return not names or any(_is_camel(name) for name in names)


def _unknown_field(override: Override, prefix: Path, segment: str, models: Sequence[type[BaseModel]]) -> OverrideError:
    fields = list(dict.fromkeys(field for model in models for field in model.model_fields))
    camel = _camel_style(segment, prefix)
    spelled = {field: snake_to_camel(field) if camel else field for field in fields}
    # Compared on the snake form, so that a camelCase typo still finds its field.
    close = difflib.get_close_matches(camel_to_snake(segment), fields, n=1, cutoff=0.6)
    problem = f"{_where(prefix)} has no field {describe_value(segment)}"
    if close:
        return OverrideError(override.raw, f"{problem}; did you mean {_render((*prefix, spelled[close[0]]))}?")
    return OverrideError(override.raw, f"{problem}; the fields there are {', '.join(sorted(spelled.values()))}")


# ---------------------------------------------------------------------------------------------
# Values, typed by the model

# What ``null`` stands for: the field is removed (the models read null as "not set").
_REMOVE: Any = object()


class _Mismatch(Exception):
    """The text cannot be a value of one of the leaf's types; ``str(err)`` says why."""


class _Unreadable(Exception):
    """The text is not YAML; ``str(err)`` is the loader's reason."""


def _load_yaml(text: str) -> Any:
    try:
        return parse_yaml(text, "--set")
    except ManifestError as err:
        raise _Unreadable("; ".join(_without_place(problem) for problem in err.problems)) from None


def _without_place(problem: str) -> str:
    """A loader's problem line about a ``--set`` value, without the place in the file it never
    was: ``(yaml): `` or ``(document): `` before it, `` (line 1, column 1)`` after."""
    problem = problem.removeprefix("(yaml): ").removeprefix("(document): ")
    return re.sub(r" \(line \d+, column \d+\)$", "", problem)


def _typed_value(override: Override, leaf: _Types) -> Any:
    """The value ``override`` sets, read as the leaf field's type (the first type it fits, when
    the dialects differ), or ``_REMOVE`` for ``null``."""
    if override.text == "null":
        return _REMOVE
    camel = any(_is_camel(part) for part in override.path if isinstance(part, str))
    problems: list[str] = []
    for annotation in leaf or (Any,):
        try:
            return _read_as(annotation, override.text, override.dotted, camel=camel)
        except _Mismatch as err:
            problems.append(str(err))
    raise OverrideError(override.raw, problems[0])


# A float as people write one (1e3 too, which only YAML 1.1 reads as text).
_DECIMAL = re.compile(r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?")


def _read_as(annotation: Any, text: str, where: str, *, camel: bool) -> Any:
    if _is_model(annotation) or _is_mapping(annotation):
        return _read_flow(text, where, dict, "a mapping", _example(annotation, camel))
    if _is_list(annotation):
        return _read_flow(text, where, list, "a list", _example(annotation, camel))
    if annotation is bool:
        if text.lower() in ("true", "false"):
            return text.lower() == "true"
        raise _Mismatch(f"{where} takes true or false, not {describe_value(text)}")
    if annotation is int:
        number = _scalar(text, where, "a whole number")
        if isinstance(number, int) and not isinstance(number, bool):
            return number
        raise _Mismatch(f"{where} takes a whole number, not {describe_value(text)}")
    if annotation is float:
        if _DECIMAL.fullmatch(text) and core_tag(text) == FLOAT:  # 1.5, and 1e3 too: a number here
            return float(text)
        number = _scalar(text, where, "a number")
        if isinstance(number, int | float) and not isinstance(number, bool):
            return number
        raise _Mismatch(f"{where} takes a number, not {describe_value(text)}")
    is_enum = isinstance(annotation, type) and issubclass(annotation, Enum)
    if annotation is str or is_enum or typing.get_origin(annotation) is Literal:
        # Text as given: the model reads enum spellings and checks literals itself.
        return _unquoted(text)
    try:  # a type the models do not use today: as YAML reads it
        return _load_yaml(text)
    except _Unreadable as err:
        raise _Mismatch(f"{where}: cannot read {describe_value(text)} as YAML ({err})") from None


def _scalar(text: str, where: str, described: str) -> Any:
    try:
        return _load_yaml(text)
    except _Unreadable as err:
        raise _Mismatch(f"{where} takes {described}, not {describe_value(text)}: {err}") from None


def _unquoted(text: str) -> str:
    """``'x'`` or ``"x"`` as YAML reads it (so that ``"null"`` can be the text null); any other
    text as given."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        try:
            value = _load_yaml(text)
        except _Unreadable:
            return text
        if isinstance(value, str):
            return value
    return text


def _read_flow(text: str, where: str, kind: type, described: str, example: str) -> Any:
    try:
        value = _load_yaml(text)
    except _Unreadable as err:
        if not text.lstrip().startswith(("{", "[")):  # one scalar (yes, 1:30): no flow at all
            raise _Mismatch(
                f"{where} takes {described} in YAML flow syntax, such as {example}, not {describe_value(text)}"
            ) from None
        raise _Mismatch(
            f"{where} takes {described} in YAML flow syntax, such as {example}; "
            f"{describe_value(text)} does not read as YAML ({err})"
        ) from None
    if not isinstance(value, kind):
        raise _Mismatch(f"{where} takes {described} in YAML flow syntax, such as {example}, not {describe_value(text)}")
    return value


def _example(annotation: Any, camel: bool) -> str:
    if _is_model(annotation):
        names = [snake_to_camel(name) if camel else name for name in list(annotation.model_fields)[:2]]
        return "{" + ", ".join(f"{name}: ..." for name in names) + "}"
    if _is_mapping(annotation):
        return "{key: value}"
    item = _argument(annotation, 0)[0]
    return f"[{_example(item, camel)}]" if _is_model(item) else "[a, b]"


# ---------------------------------------------------------------------------------------------
# Applying


def apply_overrides(document: Mapping[str, Any], overrides: Sequence[Override]) -> dict[str, Any]:
    """A deep copy of ``document`` (plain dicts and lists) with ``overrides`` applied left to
    right, so later ones win. Raises ``OverrideError`` when the document's shape stands in the
    way (a list too short, a value where a mapping is needed). ``document`` is not changed."""
    result: dict[str, Any] = _plain(document)
    for override in overrides:
        _apply(result, override)
    return result


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return copy.deepcopy(value)


def _apply(root: dict[str, Any], override: Override) -> None:
    resolved = _resolve(override)
    value = _typed_value(override, resolved.leaf)
    removing = value is _REMOVE
    node: Any = root
    steps = resolved.steps
    for position, step in enumerate(steps[:-1]):
        node = _descend(override, node, step, steps[position + 1], position, removing=removing)
        if node is None:
            return  # removing a field that is not there: nothing to do
    _put(override, node, steps[-1], len(steps) - 1, value)


def _existing_key(mapping: dict[Any, Any], step: _Step) -> str | None:
    # The document may already spell the field the other way: that key is reused, so one field
    # never ends up under two spellings.
    return next((spelling for spelling in step.spellings if spelling in mapping), None)


def _descend(override: Override, node: Any, step: _Step, following: _Step, position: int, *, removing: bool) -> Any:
    """The container at ``step`` under ``node``, created when missing (``None`` when missing and
    ``removing``)."""
    fresh: Any = [] if isinstance(following.key, int) else {}
    if isinstance(step.key, int):
        entries: list[Any] = node
        _check_position(override, entries, step.key, position, removing=removing)
        if step.key == len(entries):
            entries.append(fresh)
            return fresh
        child = entries[step.key]
        if child is None:
            if removing:
                return None
            entries[step.key] = fresh
            return fresh
    else:
        mapping: dict[Any, Any] = node
        key = _existing_key(mapping, step)
        child = mapping.get(key) if key is not None else None
        if child is None:  # missing, or null (which the models read as not set)
            if removing:
                return None
            mapping[key if key is not None else step.key] = fresh
            return fresh
    wanted, kind = (list, "a list") if isinstance(following.key, int) else (dict, "a mapping")
    if not isinstance(child, wanted):
        where = _render(override.path[: position + 1])
        raise OverrideError(
            override.raw, f"{where} is {_what(child)} in the manifest, not {kind}; set {where} as a whole instead"
        )
    return child


def _put(override: Override, node: Any, step: _Step, position: int, value: Any) -> None:
    removing = value is _REMOVE
    if isinstance(step.key, int):
        entries: list[Any] = node
        _check_position(override, entries, step.key, position, removing=removing)
        if removing:
            del entries[step.key]
        elif step.key == len(entries):
            entries.append(value)
        else:
            entries[step.key] = value
        return
    mapping: dict[Any, Any] = node
    if removing:
        for spelling in step.spellings:
            mapping.pop(spelling, None)
        return
    key = _existing_key(mapping, step)
    mapping[key if key is not None else step.key] = value


def _check_position(override: Override, entries: list[Any], index: int, position: int, *, removing: bool) -> None:
    """Raise unless ``[index]`` names an entry of ``entries`` (or, when not ``removing``, the
    next one to add)."""
    count = len(entries)
    if index < count or (index == count and not removing):
        return
    where = _where(override.path[:position])
    has = "no entries" if count == 0 else "1 entry" if count == 1 else f"{count} entries"
    if removing:
        raise OverrideError(override.raw, f"{where} has {has}; [{index}] is not one of them")
    change = {0: "", 1: "use [0] to change it or ", 2: "use [0] or [1] to change one, or "}.get(
        count, f"use [0] to [{count - 1}] to change one, or "
    )
    add = f"[{count}] to add one" if change else f"use [{count}] to add one"
    raise OverrideError(override.raw, f"{where} has {has}; {change}{add}")


def _what(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return describe_value(value)


# ---------------------------------------------------------------------------------------------
# Blame


def from_overrides(problem_path: str, overrides: Sequence[Override]) -> Override | None:
    """The last of ``overrides`` that set ``problem_path`` or a field containing it: its path
    equals ``problem_path`` or is a prefix of it ending at a ``.`` or ``[``. ``problem_path`` is
    the path of a ``dotted.path: message`` line, as the loader spells it (the document's own
    spelling of each field, keys unescaped); a field matches in either spelling."""
    for override in reversed(overrides):
        if _covers(problem_path, _spellings_along(override)):
            return override
    return None


def _spellings_along(override: Override) -> list[tuple[str, ...] | int]:
    try:
        steps: Sequence[_Step] = _resolve(override).steps
    except OverrideError:  # an Override made by hand with a path the models lack: as written
        steps = [_Step(segment, () if isinstance(segment, int) else (segment,)) for segment in override.path]
    return [
        step.key
        if isinstance(step.key, int)
        else tuple(dict.fromkeys([*step.spellings, *(_escape(spelling) for spelling in step.spellings)]))
        for step in steps
    ]


def _covers(problem_path: str, segments: Sequence[tuple[str, ...] | int]) -> bool:
    at = 0
    for number, segment in enumerate(segments):
        if isinstance(segment, int):
            token = f"[{segment}]"
            if not problem_path.startswith(token, at):
                return False
            at += len(token)
            continue
        if number:
            if not problem_path.startswith(".", at):
                return False
            at += 1
        for spelling in segment:
            end = at + len(spelling)
            if problem_path.startswith(spelling, at) and (end == len(problem_path) or problem_path[end] in ".["):
                at = end
                break
        else:
            return False
    return at == len(problem_path) or problem_path[at] in ".["
