"""Where terraform keeps a manifest's state: the backend, chosen from the manifest's labels and
the ``--backend-type`` / ``--backend-config`` flags. Labels and flags in (and the backend config
files those flags name, read through a function the caller may replace), a backend
configuration and the file terraform reads it from out; nothing written, nothing run.

Project Planton selects the backend with two labels, both or neither:

* ``terraform.project-planton.org/backend.type``: ``local`` or ``s3``;
* ``terraform.project-planton.org/backend.object``: ``bucket/path/to/key.tfstate`` for s3.

The flags win over the labels. Every mistake is refused, naming the label or flag: planton never
falls back to local state because a remote one was misspelled (Project Planton logs such errors
at debug level and does).

Credentials are never backend settings: terraform saves the backend's settings in clear text in
``.terraform/terraform.tfstate``. They reach terraform only through the child environment.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from planton.credentials import is_loopback_endpoint
from planton.errors import ManifestError, UsageError
from planton.table import looks_like_region

TYPE_LABEL = "terraform.project-planton.org/backend.type"
OBJECT_LABEL = "terraform.project-planton.org/backend.object"
# The file planton writes into the workspace for a remote backend (none for local state: a
# workspace without a backend block keeps its state in terraform.tfstate, as it always has).
BACKEND_FILE = "planton_backend.tf.json"

SUPPORTED_TYPES = ("local", "s3")
_NOT_YET = {"gcs": "Google Cloud Storage", "azurerm": "Azure Blob Storage"}
# The --backend-config keys planton accepts for s3, and what each one is.
S3_KEYS: Mapping[str, str] = {
    "bucket": "the state bucket",
    "key": "the state object's key",
    "region": "the state bucket's region (default: the manifest's)",
    "use_lockfile": "lock with S3's native lock file (default true)",
    "dynamodb_table": "lock with this DynamoDB table as well",
    "kms_key_id": "encrypt the state with this KMS key",
}
_BOOLEAN_KEYS = frozenset({"use_lockfile"})
_CREDENTIAL_KEYS = frozenset(
    {
        "access_key",
        "secret_key",
        "token",
        "profile",
        "shared_credentials_file",
        "shared_credentials_files",
        "shared_config_files",
        "assume_role",
        "assume_role_with_web_identity",
        "role_arn",
        "session_name",
        "external_id",
    }
)
_ENDPOINT_KEYS = frozenset(
    {
        "endpoint",
        "endpoints",
        "dynamodb_endpoint",
        "sts_endpoint",
        "iam_endpoint",
        "use_path_style",
        "force_path_style",
        "skip_credentials_validation",
        "skip_requesting_account_id",
        "skip_metadata_api_check",
        "skip_region_validation",
    }
)


@dataclass(frozen=True)
class LocalBackend:
    """State in the workspace's ``terraform.tfstate``."""

    kind: Literal["local"] = "local"

    def describe(self) -> str:
        return "local state"

    def place(self) -> Mapping[str, str]:
        """What says where the state is: a change of it (but the bucket's region, which only
        says where to find the bucket) moves the state."""
        return {"type": "local"}


@dataclass(frozen=True)
class S3Backend:
    """State in ``s3://bucket/key``, locked with S3's lock file (and/or a DynamoDB table),
    encrypted; ``endpoint`` (and ``dynamodb_endpoint``) when an emulator or another endpoint
    stands in for AWS."""

    bucket: str
    key: str
    region: str
    use_lockfile: bool = True
    dynamodb_table: str | None = None
    kms_key_id: str | None = None
    endpoint: str | None = None
    dynamodb_endpoint: str | None = None
    # The region was given (--backend-config region=), not taken from the manifest.
    explicit_region: bool = False
    kind: Literal["s3"] = "s3"

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def describe(self) -> str:
        return f"{self.url} ({self.region})"

    def place(self) -> Mapping[str, str]:
        return {
            "type": "s3",
            "bucket": self.bucket,
            "key": self.key,
            "endpoint": self.endpoint or "",
            "region": self.region,
        }

    @property
    def lock(self) -> str:
        """How the state is locked, in words."""
        locks = [f"the lock file {self.url}.tflock"] if self.use_lockfile else []
        locks += [f"the DynamoDB table {self.dynamodb_table}"] if self.dynamodb_table else []
        return " and ".join(locks)


Backend = LocalBackend | S3Backend


# What a place records that is no part of where the state is: a bucket's region (bucket names
# are global), and the endpoint (each endpoint has workspaces of its own, keyed by it, and the
# local emulator's port changes every time it starts).
_NOT_WHERE = frozenset({"region", "endpoint"})


def same_place(one: Mapping[str, str], other: Mapping[str, str]) -> bool:
    """Two backends' places name the same state."""
    return {k: v for k, v in one.items() if k not in _NOT_WHERE} == {
        k: v for k, v in other.items() if k not in _NOT_WHERE
    }


@dataclass(frozen=True)
class BackendFlags:
    """``--backend-type`` and ``--backend-config`` as given (each config ``key=value`` or a file)."""

    type: str | None = None
    configs: tuple[str, ...] = ()


def select_backend(
    labels: Mapping[str, str],
    flags: BackendFlags,
    *,
    region: str,
    endpoints: Mapping[str, str],
    manifest: str,
    read_text: Callable[[Path], str] | None = None,
) -> Backend:
    """The backend for a manifest with these ``labels``, under these flags: the flags win. The
    state bucket's region is ``--backend-config region=``, else ``region`` (the manifest's).
    ``endpoints`` are the AWS endpoints this run overrides (``AWS_ENDPOINT_URL``,
    ``AWS_ENDPOINT_URL_S3``, ... or the local emulator's), so that state kept for an emulator
    goes to that emulator and never to AWS. ``manifest`` names the manifest in errors."""
    label_type, label_bucket, label_key = _from_labels(labels, manifest)
    settings = _parse_configs(flags.configs, read_text or _read_text)
    kind = flags.type if flags.type is not None else label_type
    kind = _checked_type(kind, "--backend-type" if flags.type is not None else TYPE_LABEL)
    if kind == "local":
        if settings:
            raise UsageError(
                f"--backend-config {next(iter(settings))}=...: the local backend takes no settings (its state is "
                "the workspace's terraform.tfstate); give --backend-type s3 to keep the state in S3"
            )
        return LocalBackend()
    bucket = settings.pop("bucket", None) or label_bucket
    key = settings.pop("key", None) or label_key
    if not bucket or not key:
        missing = " and ".join(name for name, value in (("bucket", bucket), ("key", key)) if not value)
        raise UsageError(
            f"the s3 backend needs a {missing}: give --backend-config bucket=NAME --backend-config "
            f"key=path/to/state.tfstate, or the label {OBJECT_LABEL}: bucket/path/to/state.tfstate"
        )
    _check_bucket(bucket, "--backend-config bucket")
    _check_key(key, "--backend-config key")
    use_lockfile = _boolean(settings.pop("use_lockfile", "true"), "use_lockfile")
    dynamodb_table = settings.pop("dynamodb_table", None) or None
    if dynamodb_table is not None and not re.fullmatch(r"[A-Za-z0-9_.-]{3,255}", dynamodb_table):
        raise UsageError(
            f"--backend-config dynamodb_table: {dynamodb_table!r} is not a DynamoDB table name (3-255 letters, "
            "digits, '_', '-' and '.')"
        )
    if not use_lockfile and not dynamodb_table:
        raise UsageError(
            "--backend-config use_lockfile=false leaves the state without a lock, so two applies could write it "
            "at once; keep the lock file, or lock with a table: --backend-config dynamodb_table=NAME"
        )
    given_region = settings.pop("region", None)
    if given_region and not looks_like_region(given_region):
        # Checked here: terraform's init would run first, and the records planton keeps beside the
        # state would be looked for in a bucket at an endpoint that does not exist.
        raise UsageError(
            f"--backend-config region: {given_region!r} does not look like an AWS region; name the state bucket's "
            "region with a code such as us-east-1, or leave region out for the manifest's"
        )
    state_region = given_region or region
    kms_key_id = settings.pop("kms_key_id", None) or None
    if kms_key_id is not None and not re.fullmatch(r"[A-Za-z0-9:/_.+=,@-]{1,2048}", kms_key_id):
        raise UsageError(
            "--backend-config kms_key_id: not a KMS key id, alias or ARN (it holds a space, a line break or a "
            "character none of them has)"
        )
    general = endpoints.get("AWS_ENDPOINT_URL")
    state_endpoint = s3_endpoint(endpoints)
    overridden = sorted(name for name, url in endpoints.items() if url)
    if overridden and not state_endpoint:
        raise UsageError(
            f"{', '.join(overridden)} point the tables at another endpoint, but S3 has none: the state would go to "
            "the real bucket in AWS, and an emulator's table would be written into it. Set AWS_ENDPOINT_URL_S3 "
            "(or AWS_ENDPOINT_URL) to the emulator's S3 too, or keep this state local (--backend-type local)"
        )
    return S3Backend(
        bucket=bucket,
        key=key,
        region=state_region,
        use_lockfile=use_lockfile,
        dynamodb_table=dynamodb_table,
        kms_key_id=kms_key_id,
        explicit_region=bool(given_region),
        endpoint=state_endpoint,
        dynamodb_endpoint=(endpoints.get("AWS_ENDPOINT_URL_DYNAMODB") or general) if dynamodb_table else None,
    )


def s3_endpoint(endpoints: Mapping[str, str]) -> str | None:
    """The S3 endpoint among a run's overridden endpoints: AWS_ENDPOINT_URL_S3, else the general
    AWS_ENDPOINT_URL; None for AWS itself."""
    return endpoints.get("AWS_ENDPOINT_URL_S3") or endpoints.get("AWS_ENDPOINT_URL") or None


def backend_file(backend: Backend) -> str | None:
    """The JSON configuration file terraform reads the backend from (``BACKEND_FILE``), or None
    for local state (no backend block: the workspace's ``terraform.tfstate``)."""
    if isinstance(backend, LocalBackend):
        return None
    settings: dict[str, Any] = {
        "bucket": backend.bucket,
        "key": backend.key,
        "region": backend.region,
        "encrypt": True,
        "use_lockfile": backend.use_lockfile,
    }
    if backend.dynamodb_table:
        settings["dynamodb_table"] = backend.dynamodb_table
    if backend.kms_key_id:
        settings["kms_key_id"] = backend.kms_key_id
    if backend.endpoint:
        endpoints = {"s3": backend.endpoint}
        if backend.dynamodb_endpoint:
            endpoints["dynamodb"] = backend.dynamodb_endpoint
        settings |= {"endpoints": endpoints, "use_path_style": True}
    if backend.endpoint and is_loopback_endpoint(backend.endpoint):
        # An emulator on this machine: no call to AWS's STS (credential check, account id) or the
        # instance metadata service, so nothing leaves for anywhere but the endpoint. (Another
        # endpoint, such as a VPC or FIPS endpoint of AWS's own, keeps those checks.)
        settings |= {
            "skip_credentials_validation": True,
            "skip_requesting_account_id": True,
            "skip_metadata_api_check": True,
            "skip_region_validation": True,
        }
    return json.dumps({"terraform": {"backend": {"s3": settings}}}, indent=2, sort_keys=True) + "\n"


def _from_labels(labels: Mapping[str, str], manifest: str) -> tuple[str, str | None, str | None]:
    """(type, bucket, key) from the labels; ("local", None, None) when neither is set."""
    kind, where = labels.get(TYPE_LABEL), labels.get(OBJECT_LABEL)
    field = "metadata.labels"
    if kind is None and where is None:
        return "local", None, None
    if kind is None:
        raise ManifestError(
            manifest, [f"{field}.{OBJECT_LABEL}: give {TYPE_LABEL} as well (s3), or neither label for local state"]
        )
    kind = kind.strip()
    if kind in _NOT_YET:
        raise ManifestError(
            manifest,
            [
                f"{field}.{TYPE_LABEL}: {kind} ({_NOT_YET[kind]}) is not supported yet; planton keeps state locally or "
                "in S3 (local, s3)"
            ],
        )
    if kind not in SUPPORTED_TYPES:
        raise ManifestError(manifest, [f"{field}.{TYPE_LABEL}: {kind!r} is not a backend; use local or s3"])
    if kind == "local":
        if where is not None:
            raise ManifestError(
                manifest,
                [
                    f"{field}.{OBJECT_LABEL}: the local backend keeps its state in the workspace and takes no object; "
                    "remove this label, or set the type to s3"
                ],
            )
        return "local", None, None
    if where is None:
        raise ManifestError(
            manifest, [f"{field}.{TYPE_LABEL}: s3 needs {OBJECT_LABEL} as well: bucket/path/to/state.tfstate"]
        )
    bucket, _, key = where.partition("/")
    problems = []
    try:
        _check_bucket(bucket, f"{field}.{OBJECT_LABEL}")
        _check_key(key, f"{field}.{OBJECT_LABEL}")
    except UsageError as err:
        problems.append(f"{err.message} (the label is bucket/path/to/state.tfstate)")
    if problems:
        raise ManifestError(manifest, problems)
    return "s3", bucket, key


def _checked_type(kind: str, source: str) -> str:
    if kind in _NOT_YET:
        raise UsageError(
            f"{source}: {kind} ({_NOT_YET[kind]}) is not supported yet; planton keeps state locally or in S3 "
            "(local, s3)"
        )
    if kind not in SUPPORTED_TYPES:
        raise UsageError(f"{source}: {kind!r} is not a backend; use local or s3")
    return kind


# What may be shown of a value given in the wrong form, before its "=": a word that reads as a
# mistyped key (secret-key), never what could be a credential (a pasted token ends in "==", an
# access key id is 20 capitals and digits from AKIA or ASIA).
_KEY = re.compile(r"(?!AKIA|ASIA)[A-Za-z_][A-Za-z0-9_-]{0,39}")


def _parse_configs(configs: Sequence[str], read_text: Callable[[Path], str]) -> dict[str, str]:
    """``--backend-config`` values, in order (a later one wins): ``key=value``, or a file of
    ``key = value`` lines as terraform reads one."""
    settings: dict[str, str] = {}
    for given in configs:
        name, equals, value = given.partition("=")
        if equals and re.fullmatch(r"\s*[A-Za-z_][A-Za-z0-9_]*\s*", name):
            # Named without its value: a credential given by mistake is never echoed.
            pairs = [(name.strip(), value.strip(), f"--backend-config {name.strip()}=...")]
        else:
            pairs = _read_config_file(Path(given), read_text)
        for key, text, source in pairs:
            settings[_checked_key(key, source)] = text
    for key in ("bucket", "key"):
        if key in settings and not settings[key]:
            raise UsageError(f"--backend-config {key}=: empty; name the state {'bucket' if key == 'bucket' else 'key'}")
    return settings


def _read_config_file(path: Path, read_text: Callable[[Path], str]) -> list[tuple[str, str, str]]:
    """A backend config file: ``key = "value"`` (or a bare true/false/number) per line, ``#`` and
    ``//`` comments; the subset of HCL such files are written in."""
    try:
        text = read_text(path)
    except OSError as err:
        # Only a key before a "=": a value given in the wrong form may be a secret (a pasted
        # token ends in "==", so what precedes the "=" is no key but the secret itself).
        before = str(path).partition("=")[0]
        if "=" not in str(path):
            shown = str(path)
        elif _KEY.fullmatch(before.strip()):
            shown = f"{before}=..."
        else:
            shown = "(a value not shown: neither key=value nor a file, and it may be a secret)"
        raise UsageError(
            f"--backend-config {shown}: not key=value (a key is letters, digits and _), and cannot read it as a "
            f"file: {err.strerror or err}"
        ) from None
    pairs = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "//")):
            continue
        match = re.fullmatch(r'([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|(true|false|[0-9]+))', stripped)
        if match is None:
            # Only what comes before a "=": the line may hold a secret, given in the wrong form.
            name = stripped.partition("=")[0].strip()
            if "=" not in stripped:
                got = "a line without '='"
            elif _KEY.fullmatch(name):
                got = f"{name[:60]!r} = ..."
            else:
                got = "a line whose part before '=' is no key (not shown: it may be a secret)"
            raise UsageError(f'--backend-config {path}, line {number}: expected key = "value", got {got}')
        value = match.group(2) if match.group(2) is not None else match.group(3)
        pairs.append(
            (match.group(1), value.replace('\\"', '"').replace("\\\\", "\\"), f"--backend-config {path}, line {number}")
        )
    return pairs


def _checked_key(key: str, source: str) -> str:
    if key in S3_KEYS:
        return key
    if key in _CREDENTIAL_KEYS:
        raise UsageError(
            f"{source}: {key} is a credential setting, and terraform would save it in clear text in "
            ".terraform/terraform.tfstate; give credentials through the environment (AWS_ACCESS_KEY_ID, "
            "AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_PROFILE), as for the table"
        )
    if key in _ENDPOINT_KEYS:
        raise UsageError(
            f"{source}: planton sets {key} itself: --local, AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_S3 point the "
            "state at an emulator"
        )
    if key == "encrypt":
        raise UsageError(f"{source}: planton always encrypts the state (encrypt = true); leave encrypt out")
    raise UsageError(f"{source}: unknown backend setting {key!r}; planton accepts {', '.join(S3_KEYS)}")


def _boolean(text: str, key: str) -> bool:
    if text in ("true", "false"):
        return text == "true"
    raise UsageError(f"--backend-config {key}={text}: expected true or false")


def _check_bucket(bucket: str, source: str) -> None:
    """S3's rules for a general purpose bucket's name."""
    problem = None
    if not 3 <= len(bucket) <= 63:
        problem = "must be 3 to 63 characters long"
    elif not re.fullmatch(r"[a-z0-9][a-z0-9.-]*[a-z0-9]", bucket):
        problem = (
            "may hold only lowercase letters, digits, dots and hyphens, and must start and end with a letter or digit"
        )
    elif ".." in bucket or ".-" in bucket or "-." in bucket:
        problem = "may not hold two dots in a row, or a dot beside a hyphen"
    elif _is_ip_address(bucket):
        problem = "may not be an IP address"
    elif bucket.startswith(("xn--", "sthree-", "amzn-s3-demo-")) or bucket.endswith(
        ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
    ):
        problem = "uses a prefix or suffix S3 reserves"
    if problem:
        raise UsageError(f"{source}: the bucket name {bucket!r} {problem}")


def _is_ip_address(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True


def _check_key(key: str, source: str) -> None:
    """The rules terraform's s3 backend has for a key."""
    if not key:
        raise UsageError(f"{source}: no state key after the bucket; name the object, such as tables/orders.tfstate")
    if key.startswith("/") or key.endswith("/") or "//" in key:
        raise UsageError(f"{source}: the key {key!r} may not start or end with '/' or hold '//'")
    if len(key.encode()) > 1024:
        raise UsageError(f"{source}: the key is longer than S3's 1024 bytes")


def _read_text(path: Path) -> str:
    return path.read_text(encoding="utf-8")
