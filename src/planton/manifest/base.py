"""What every manifest dialect shares: the envelope's constants, strictness, the two field
spellings (snake_case and camelCase), every spelling of the table layer's enums, single-field
rules, and ``metadata``.

Types and single-field rules live on the fields; rules that span fields live in
``model_validator``s and report the exact field they blame.
"""

from __future__ import annotations

import inspect
import math
import re
import reprlib
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, InitErrorDetails, PydanticCustomError

from planton.table import (
    MAX_CAPACITY_UNITS,
    AttributeType,
    BillingMode,
    KeyType,
    ProjectionType,
    StreamViewType,
    TableClass,
    is_steering_label,
    looks_like_region,
)

API_VERSION = "aws.project-planton.org/v1"
KIND = "AwsDynamodb"

# Tag keys planton sets itself, and the manifest field each one comes from.
RESERVED_TAG_SOURCES: Mapping[str, str] = {
    "Name": "spec.table_name",
    "Environment": "metadata.env",
    "Organization": "metadata.org",
    "ManagedBy": "planton",
    "PlantonManifest": "metadata.name, org, env and id",
}


_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = 80
_SHORT.maxlist = _SHORT.maxdict = _SHORT.maxset = _SHORT.maxtuple = 4
_SHORT.maxlevel = 2


def describe_value(value: Any) -> str:
    """A value as an error message quotes it: its repr, cut short. A manifest's values can be a
    megabyte of text or a structure built from YAML aliases; a message must stay one line.
    Printable text is quoted as written (a backslash stays one backslash)."""
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]  # as YAML spells them
    if isinstance(value, str) and value.isprintable():
        return f"'{value}'" if len(value) <= _SHORT.maxstring else f"'{value[: _SHORT.maxstring - 3]}...'"
    return _SHORT.repr(value)


def shown(text: str) -> str:
    """A key or argument the user wrote, as a message shows it: as written when printable, else
    as its repr, whose escapes keep the message on one line and control characters (a line
    break, an escape sequence) away from the terminal."""
    return text if text.isprintable() else repr(text)


def camel_to_snake(name: str) -> str:
    """``readCapacityUnits`` -> ``read_capacity_units``; snake_case passes through."""
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def snake_to_camel(name: str) -> str:
    """``read_capacity_units`` -> ``readCapacityUnits``."""
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


class ManifestModel(BaseModel):
    """Strict base: unknown fields are errors, values are not coerced, camelCase is accepted,
    null is the same as leaving a field out."""

    # defer_build: a model's validator is built when it first validates, not when its class is
    # defined, so a command builds only the dialect its manifest is written in (and no stack
    # input model when there is none).
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True, defer_build=True)

    @model_validator(mode="before")
    @classmethod
    def _accept_camel_case(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        normalised: dict[Any, Any] = {}
        spelled_as: dict[str, str] = {}
        # Exactly two spellings per field: snake_case and camelCase (not TABLE_NAME, not Kind).
        camel_names = {snake_to_camel(field): field for field in cls.model_fields}
        for key, value in data.items():
            name = camel_names.get(key, key) if isinstance(key, str) else key
            if name in normalised:
                raise PydanticCustomError(
                    "duplicate_field",
                    "{first} and {second} are the same field; keep one",
                    {"first": spelled_as[name], "second": key},
                )
            spelled_as[name] = str(key)
            normalised[name] = value
        # null means "not set", as Project Planton reads manifests (protojson): the default
        # applies, and a required field is reported missing.
        return {name: value for name, value in normalised.items() if value is not None}

    @field_validator("*", mode="before")
    @classmethod
    def _only_text_that_can_leave_planton(cls, value: Any, info: ValidationInfo) -> Any:
        # One rule for all text, whichever field of whichever model holds it (names, labels,
        # annotations, tags, credentials). It runs first, in both passes (see LENIENT), so that
        # no other rule of the field gets to quote the value: it may be a secret. A field that
        # holds models leaves their text to them.
        field = cls.model_fields.get(info.field_name or "")
        if field is not None and next(models_in(field.annotation), None) is None:
            raise_problems(cls.__name__, text_problems(value))
        return value


# A problem: the path of the field it blames, the message, and the value found there.
Loc = tuple[str | int, ...]
Problem = tuple[Loc, str, Any]
Problems = list[Problem]


# A lone surrogate is no character at all: a YAML escape of half of one ("\ud83d"), or, from the
# command line or the environment, bytes that are not UTF-8.
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be used where planton passes text on (terraform's UTF-8 variables file,
    its environment and arguments, AWS), or None when it can. Never quotes ``text``: it may be a
    secret."""
    if "\0" in text:
        return "holds a NUL character (\\0), which no text planton passes on may hold"
    if _LONE_SURROGATE.search(text):
        return (
            "holds a lone surrogate (U+D800-U+DFFF), which is not a character: an escape of half of one "
            '("\\ud83d") or bytes that are not UTF-8; write the character itself'
        )
    return None


def text_problems(value: Any, loc: Loc = ()) -> Problems:
    """``text_problem`` for every string in ``value`` (a field's value: text, or lists and mappings
    of it), located by key and position. A key that is not text is blamed on its mapping. The
    problems carry no value."""
    if isinstance(value, str):
        problem = text_problem(value)
        return [(loc, problem, None)] if problem else []
    problems: Problems = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            key_problem = text_problem(key) if isinstance(key, str) else None
            if key_problem:
                problems.append((loc, f"a key here {key_problem}", None))
            else:
                problems += text_problems(item, (*loc, key if isinstance(key, str | int) else str(key)))
    elif isinstance(value, list | tuple):
        for position, item in enumerate(value):
            problems += text_problems(item, (*loc, position))
    return problems


def models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    """The models inside a field's type (``X``, ``X | None``, ``list[X]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for argument in typing.get_args(annotation):
        yield from models_in(argument)


def located(prefix: Loc, problems: Iterable[Problem]) -> Problems:
    """``problems`` found inside the field at ``prefix``."""
    return [((*prefix, *loc), message, value) for loc, message, value in problems]


def raise_problems(title: str, problems: Iterable[Problem]) -> None:
    """Raise one ValidationError blaming each (field path, message, input) in ``problems``."""
    details = [
        InitErrorDetails(
            type=PydanticCustomError("rule", message),
            loc=loc,
            input=value,
        )
        for loc, message, value in problems
    ]
    if details:
        raise ValidationError.from_exception_data(title, details)


# ---------------------------------------------------------------------------------------------
# The table layer's enums, in every spelling manifests use


_BILLING_MODE_SPELLINGS: Mapping[str, BillingMode] = {
    spelling: mode for mode in BillingMode for spelling in (mode.value, f"BILLING_MODE_{mode.value}")
}

_ATTRIBUTE_TYPE_SPELLINGS: Mapping[str, AttributeType] = {
    spelling: kind
    for kind in AttributeType
    for spelling in (kind.name, kind.value, f"ATTRIBUTE_TYPE_{kind.name}", f"ATTRIBUTE_TYPE_{kind.value}")
}


def _enum_parser(spellings: Mapping[str, Enum], error_type: str, message: str) -> Callable[[Any], Any]:
    """A before-validator accepting any spelling in ``spellings`` (case-insensitive)."""

    def parse(value: Any) -> Any:
        if isinstance(value, Enum):
            return value
        if isinstance(value, str) and value.strip().upper() in spellings:
            return spellings[value.strip().upper()]
        raise PydanticCustomError(error_type, message, {"value": describe_value(value)})

    return parse


_parse_billing_mode = _enum_parser(
    _BILLING_MODE_SPELLINGS, "billing_mode", "{value} is not a billing mode; use PAY_PER_REQUEST or PROVISIONED"
)
_parse_attribute_type = _enum_parser(
    _ATTRIBUTE_TYPE_SPELLINGS,
    "attribute_type",
    "{value} is not an attribute type; use STRING (S), NUMBER (N) or BINARY (B)",
)


def _prefixed_spellings(enum: type[Enum], prefix: str) -> dict[str, Enum]:
    """Each member as AWS spells it and with the proto's ``PREFIX_`` (before December 2025)."""
    return {spelling: member for member in enum for spelling in (str(member.value), f"{prefix}_{member.value}")}


_KEY_TYPE_SPELLINGS = _prefixed_spellings(KeyType, "KEY_TYPE")
_PROJECTION_SPELLINGS = {
    **_prefixed_spellings(ProjectionType, "PROJECTION_TYPE"),
    **{f"{kind.value}_PROJECTION": kind for kind in ProjectionType},  # KEYS_ONLY_PROJECTION
}
_STREAM_VIEW_SPELLINGS = _prefixed_spellings(StreamViewType, "STREAM_VIEW_TYPE")
_TABLE_CLASS_SPELLINGS = _prefixed_spellings(TableClass, "TABLE_CLASS")


def _one_of(enum: type[Enum]) -> str:
    names = [str(member.value) for member in enum]
    return ", ".join(names[:-1]) + " or " + names[-1]


@dataclass(frozen=True)
class _SpelledAs:
    """JSON Schema only (``planton schema``): ``enum`` as every spelling in ``spellings`` (the
    keys of the field's parser), so an editor offers and accepts each of them. The parser also
    takes them in any letter case and with surrounding spaces; the schema lists them upper case
    only. Validation never reads this."""

    enum: type[Enum]
    spellings: tuple[str, ...]

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        # Inline rather than the enum's $defs entry: older pydantic (2.7) has not built that
        # entry yet when this runs, so it cannot be changed in place.
        return {
            "description": inspect.cleandoc(self.enum.__doc__ or ""),
            "enum": list(self.spellings),
            "title": self.enum.__name__,
            "type": "string",
        }


BillingModeField = Annotated[
    BillingMode, BeforeValidator(_parse_billing_mode), _SpelledAs(BillingMode, tuple(_BILLING_MODE_SPELLINGS))
]
AttributeTypeField = Annotated[
    AttributeType, BeforeValidator(_parse_attribute_type), _SpelledAs(AttributeType, tuple(_ATTRIBUTE_TYPE_SPELLINGS))
]
KeyTypeField = Annotated[
    KeyType,
    BeforeValidator(_enum_parser(_KEY_TYPE_SPELLINGS, "key_type", "{value} is not a key type; use HASH or RANGE")),
    _SpelledAs(KeyType, tuple(_KEY_TYPE_SPELLINGS)),
]
ProjectionTypeField = Annotated[
    ProjectionType,
    BeforeValidator(
        _enum_parser(
            _PROJECTION_SPELLINGS, "projection", f"{{value}} is not a projection; use {_one_of(ProjectionType)}"
        )
    ),
    _SpelledAs(ProjectionType, tuple(_PROJECTION_SPELLINGS)),
]
StreamViewTypeField = Annotated[
    StreamViewType,
    BeforeValidator(
        _enum_parser(
            _STREAM_VIEW_SPELLINGS,
            "stream_view_type",
            f"{{value}} is not a stream view type; use {_one_of(StreamViewType)}",
        )
    ),
    _SpelledAs(StreamViewType, tuple(_STREAM_VIEW_SPELLINGS)),
]
TableClassField = Annotated[
    TableClass,
    BeforeValidator(
        _enum_parser(
            _TABLE_CLASS_SPELLINGS, "table_class", f"{{value}} is not a table class; use {_one_of(TableClass)}"
        )
    ),
    _SpelledAs(TableClass, tuple(_TABLE_CLASS_SPELLINGS)),
]


# ---------------------------------------------------------------------------------------------
# Single-field rules

_TABLE_NAME = re.compile(r"[a-zA-Z0-9_.-]{3,255}")
_PATH_SAFE = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9._-]{0,62}")
_TAG_CHARS = re.compile(r"[\w .:/=+\-@]*")


def _dynamodb_name(what: str) -> Callable[[str], str]:
    """DynamoDB's rule for table and index names, naming ``what`` in its message."""

    def check(value: str) -> str:
        if not _TABLE_NAME.fullmatch(value):
            raise PydanticCustomError(
                f"{what.replace(' ', '_')}",
                f"{{value}} is not a valid {what}; use 3-255 characters of letters, digits, '_', '-' and '.'",
                {"value": describe_value(value)},
            )
        return value

    return check


_KMS_KEY = re.compile(
    r"(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/)?({id})"
    r"|(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:)?alias/[A-Za-z0-9/_-]{1,250}".replace(
        "{id}", r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32}"
    )
)


def _kms_key(value: str) -> str:
    if not _KMS_KEY.fullmatch(value):
        raise PydanticCustomError(
            "kms_key",
            "{value} is not a KMS key; use a key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID), a key id, "
            "an alias (alias/NAME) or an alias ARN",
            {"value": describe_value(value)},
        )
    return value


_SNS_TOPIC = re.compile(r"arn:aws[a-z-]*:sns:([a-z0-9-]+):[0-9]{12}:[A-Za-z0-9_-]{1,256}")


def sns_topic_region(value: str) -> str | None:
    """The region of a well-formed SNS topic ARN; None for anything else."""
    match = _SNS_TOPIC.fullmatch(value)
    return match[1] if match and looks_like_region(match[1]) else None


def _sns_topic(value: str) -> str:
    if sns_topic_region(value) is None:
        raise PydanticCustomError(
            "sns_topic_arn",
            "{value} is not an SNS topic ARN; use arn:aws:sns:REGION:ACCOUNT:NAME (a standard topic: its name "
            "1-256 letters, digits, '-' and '_'; CloudWatch cannot notify a FIFO topic)",
            {"value": describe_value(value)},
        )
    return value


def _region(value: str) -> str:
    if not looks_like_region(value):
        raise PydanticCustomError(
            "aws_region",
            "{value} does not look like an AWS region; use a code such as us-east-1 or eu-west-2",
            {"value": describe_value(value)},
        )
    return value


def _path_safe(value: str) -> str:
    if not _PATH_SAFE.fullmatch(value):
        raise PydanticCustomError(
            "path_safe",
            "{value} must be 1-63 characters of letters, digits, '.', '_' and '-', starting "
            "with a letter or digit (planton uses it in a directory name)",
            {"value": describe_value(value)},
        )
    return value


def _attribute_name(what: str) -> Callable[[str], str]:
    def check(value: str) -> str:
        if not 1 <= len(value.encode()) <= 255:
            raise PydanticCustomError(
                "attribute_name", f"{what} must be 1-255 bytes long", {"value": describe_value(value)}
            )
        return value

    return check


def is_path_safe(value: str) -> bool:
    """True for a name planton can use in a directory name (metadata.name's rule)."""
    return bool(_PATH_SAFE.fullmatch(value))


def is_kms_key(value: str) -> bool:
    """True for a KMS key ARN, key id, alias or alias ARN."""
    return bool(_KMS_KEY.fullmatch(value))


def _tag_text(value: str, *, what: str, max_len: int, allow_empty: bool) -> str:
    if len(value) > max_len or (not value and not allow_empty):
        raise PydanticCustomError(
            "tag",
            "{what} must be {low}-{high} characters",
            {"what": what, "low": 0 if allow_empty else 1, "high": max_len},
        )
    if not _TAG_CHARS.fullmatch(value):
        raise PydanticCustomError(
            "tag",
            "{what} {value} may only use letters, digits, spaces and _ . : / = + - @",
            {"what": what, "value": describe_value(value)},
        )
    return value


# Validation runs twice when a manifest has problems: the second pass, with this context key
# set, lets values through that break only a rule of their own field (a name's characters, a
# number's range), so that the rules between fields still run and every problem is reported in
# one go. A value of the wrong type or an unknown enum spelling still stops its model.
LENIENT = "planton.lenient"

_Value = TypeVar("_Value")


def _soft(check: Callable[[_Value], _Value]) -> Callable[[_Value, ValidationInfo], _Value]:
    """``check`` as an after-validator whose failure the lenient pass notes elsewhere and ignores."""

    def validate(value: _Value, info: ValidationInfo) -> _Value:
        try:
            return check(value)
        except PydanticCustomError:
            if isinstance(info.context, Mapping) and info.context.get(LENIENT):
                return value
            raise

    return validate


def _number(value: float) -> str:
    """20, 90, 2147483647 (not 20.0 or 2.14748e+09)."""
    return str(int(value)) if float(value).is_integer() else f"{value}"


def _range(low: float | None, high: float | None) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        if isinstance(value, float) and not math.isfinite(value):
            raise PydanticCustomError("not_finite", "must be a number, not {value}", {"value": describe_value(value)})
        if low is not None and value < low:
            raise PydanticCustomError("too_small", "must be {low} or more", {"low": _number(low)})
        if high is not None and value > high:
            raise PydanticCustomError("too_big", "must be {high} or less", {"high": _number(high)})
        return value

    return check


@dataclass(frozen=True)
class _Bounded(AfterValidator):
    """``bounded``'s validator, which also gives JSON Schema (``planton schema``) its range."""

    low: float | None = None
    high: float | None = None

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        json_schema = handler(schema)
        json_schema.update(
            {key: bound for key, bound in (("minimum", self.low), ("maximum", self.high)) if bound is not None}
        )
        return json_schema


def bounded(low: float | None, high: float | None = None) -> AfterValidator:
    """A number's range, as a soft check (see ``LENIENT``)."""
    return _Bounded(_soft(_range(low, high)), low, high)


TableName = Annotated[str, AfterValidator(_soft(_dynamodb_name("DynamoDB table name")))]
Region = Annotated[str, AfterValidator(_soft(_region))]
PathSafeName = Annotated[str, AfterValidator(_soft(_path_safe))]
KeyName = Annotated[str, AfterValidator(_soft(_attribute_name("a key attribute name")))]
AttributeName = Annotated[str, AfterValidator(_soft(_attribute_name("an attribute name")))]
CapacityUnits = Annotated[int, bounded(0, MAX_CAPACITY_UNITS)]
IndexName = Annotated[str, AfterValidator(_soft(_dynamodb_name("index name")))]
KmsKey = Annotated[str, AfterValidator(_soft(_kms_key))]
SnsTopicArn = Annotated[str, AfterValidator(_soft(_sns_topic))]


# ---------------------------------------------------------------------------------------------
# metadata, the same in every dialect


def tag_problems(tags: Mapping[str, str], *, what: str) -> Problems:
    """AWS's rules for each tag in ``tags`` (``what`` is "label" or "tag"), located by key."""
    problems: Problems = []
    for key, value in tags.items():
        loc: Loc = (key,)
        if key in RESERVED_TAG_SOURCES:
            problems.append(
                (
                    loc,
                    f"planton sets the {key} tag from {RESERVED_TAG_SOURCES[key]}; remove this {what} or rename it",
                    key,
                )
            )
            continue
        if key.lower().startswith("aws:"):
            problems.append((loc, f"tag keys starting with 'aws:' are reserved by AWS; rename the {what}", key))
            continue
        for text, part, max_len, allow_empty in ((key, "key", 128, False), (value, "value", 256, True)):
            try:
                _tag_text(text, what=f"{what} {part}", max_len=max_len, allow_empty=allow_empty)
            except PydanticCustomError as err:
                problems.append((loc, err.message(), text))
    return problems


class Metadata(ManifestModel):
    """Who the resource is: ``name`` is required and names planton's working directory."""

    name: PathSafeName
    id: str | None = None
    org: str | None = None
    env: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)

    @property
    def tag_labels(self) -> dict[str, str]:
        """The labels that become table tags (steering labels do not)."""
        return {key: value for key, value in self.labels.items() if not is_steering_label(key)}

    @model_validator(mode="after")
    def _labels_are_valid_tags(self) -> Metadata:
        # Labels become AWS tags, so AWS's tag rules apply to them here, before AWS sees them.
        problems = located(("labels",), tag_problems(self.tag_labels, what="label"))
        # env and org become the Environment and Organization tags.
        for field, tag, value in (("env", "Environment", self.env), ("org", "Organization", self.org)):
            if value is None:
                continue
            try:
                # (The problem's path names the field already: "metadata.env: becomes the ...".)
                _tag_text(value, what=f"becomes the {tag} tag, whose value", max_len=256, allow_empty=True)
            except PydanticCustomError as err:
                problems.append(((field,), err.message(), value))
        raise_problems("Metadata", problems)
        return self
