"""The backend: labels and flags in, a backend configuration (and its file) out; every refusal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from planton.backend import (
    BACKEND_FILE,
    OBJECT_LABEL,
    TYPE_LABEL,
    BackendFlags,
    LocalBackend,
    S3Backend,
    backend_file,
    same_place,
    select_backend,
)
from planton.errors import ManifestError, UsageError

S3_LABELS = {TYPE_LABEL: "s3", OBJECT_LABEL: "team-state/tables/orders.tfstate"}


def _select(labels: dict[str, str], flags: BackendFlags | None = None, **given: object) -> object:
    flags = flags or BackendFlags()
    options: dict[str, object] = {"region": "eu-west-1", "endpoints": {}, "manifest": "orders.yaml"} | given
    return select_backend(labels, flags, **options)  # type: ignore[arg-type]


# --- selection -------------------------------------------------------------------------------


def test_no_labels_and_no_flags_is_local_state() -> None:
    assert _select({}) == LocalBackend()
    assert _select({"team": "payments"}) == LocalBackend()


def test_the_labels_select_s3_with_the_manifests_region() -> None:
    backend = _select(S3_LABELS)
    assert backend == S3Backend(bucket="team-state", key="tables/orders.tfstate", region="eu-west-1")
    assert isinstance(backend, S3Backend)
    assert backend.url == "s3://team-state/tables/orders.tfstate"
    assert backend.use_lockfile
    assert backend.dynamodb_table is None


def test_the_label_type_local_alone_is_local_state() -> None:
    assert _select({TYPE_LABEL: "local"}) == LocalBackend()


def test_flags_select_s3_without_labels() -> None:
    flags = BackendFlags("s3", ("bucket=flag-bucket", "key=a/b.tfstate", "region=us-west-2"))
    assert _select({}, flags) == S3Backend(
        bucket="flag-bucket", key="a/b.tfstate", region="us-west-2", explicit_region=True
    )


def test_flags_win_over_the_labels() -> None:
    assert _select(S3_LABELS, BackendFlags("local")) == LocalBackend()
    moved = _select(S3_LABELS, BackendFlags(None, ("key=other/orders.tfstate",)))
    assert moved == S3Backend(bucket="team-state", key="other/orders.tfstate", region="eu-west-1")
    rebucketed = _select(S3_LABELS, BackendFlags("s3", ("bucket=elsewhere",)))
    assert isinstance(rebucketed, S3Backend)
    assert (rebucketed.bucket, rebucketed.key) == ("elsewhere", "tables/orders.tfstate")


def test_a_later_backend_config_wins() -> None:
    flags = BackendFlags("s3", ("bucket=one-bucket", "key=k.tfstate", "bucket=two-bucket"))
    backend = _select({}, flags)
    assert isinstance(backend, S3Backend)
    assert backend.bucket == "two-bucket"


def test_a_dynamodb_lock_table_when_asked() -> None:
    backend = _select(S3_LABELS, BackendFlags(None, ("dynamodb_table=locks",)))
    assert isinstance(backend, S3Backend)
    assert backend.dynamodb_table == "locks"
    assert backend.use_lockfile
    only_table = _select(S3_LABELS, BackendFlags(None, ("dynamodb_table=locks", "use_lockfile=false")))
    assert isinstance(only_table, S3Backend)
    assert not only_table.use_lockfile
    assert "DynamoDB table locks" in only_table.lock


def test_a_backend_config_file(tmp_path: Path) -> None:
    config = tmp_path / "backend.hcl"
    config.write_text(
        '# the team\'s state\nbucket = "file-bucket"\n// its key\nkey    = "x/y.tfstate"\nuse_lockfile = true\n',
        encoding="utf-8",
    )
    backend = _select({}, BackendFlags("s3", (str(config),)))
    assert backend == S3Backend(bucket="file-bucket", key="x/y.tfstate", region="eu-west-1")


# --- refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        ({OBJECT_LABEL: "b/k"}, f"metadata.labels.{OBJECT_LABEL}: give {TYPE_LABEL} as well"),
        ({TYPE_LABEL: "s3"}, f"s3 needs {OBJECT_LABEL}"),
        ({TYPE_LABEL: "gcs", OBJECT_LABEL: "b/k"}, "gcs (Google Cloud Storage) is not supported yet"),
        ({TYPE_LABEL: "azurerm", OBJECT_LABEL: "b/k"}, "azurerm (Azure Blob Storage) is not supported yet"),
        ({TYPE_LABEL: "consul"}, "'consul' is not a backend; use local or s3"),
        ({TYPE_LABEL: "local", OBJECT_LABEL: "b/k"}, "the local backend keeps its state in the workspace"),
        ({TYPE_LABEL: "s3", OBJECT_LABEL: "team-state"}, "no state key after the bucket"),
        ({TYPE_LABEL: "s3", OBJECT_LABEL: "team-state/"}, "no state key after the bucket"),
        ({TYPE_LABEL: "s3", OBJECT_LABEL: "/k.tfstate"}, "the bucket name '' must be 3 to 63"),
        ({TYPE_LABEL: "s3", OBJECT_LABEL: "Team_State/k.tfstate"}, "may hold only lowercase letters"),
        ({TYPE_LABEL: "s3", OBJECT_LABEL: "192.168.1.1/k.tfstate"}, "may not be an IP address"),
        ({TYPE_LABEL: "s3", OBJECT_LABEL: "my..bucket/k.tfstate"}, "two dots in a row"),
        ({TYPE_LABEL: "s3", OBJECT_LABEL: "xn--bucket/k.tfstate"}, "prefix or suffix S3 reserves"),
        ({TYPE_LABEL: "s3", OBJECT_LABEL: "bucket/a//b.tfstate"}, "may not start or end with '/' or hold '//'"),
    ],
)
def test_label_mistakes_are_manifest_errors_naming_the_label(labels: dict[str, str], message: str) -> None:
    with pytest.raises(ManifestError) as caught:
        _select(labels)
    assert caught.value.source == "orders.yaml"
    text = "\n".join(caught.value.problems)
    assert message in text
    assert "metadata.labels.terraform.project-planton.org/backend." in text


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (BackendFlags("gcs"), "--backend-type: gcs (Google Cloud Storage) is not supported yet"),
        (BackendFlags("S3"), "--backend-type: 'S3' is not a backend"),
        (BackendFlags("s3"), "the s3 backend needs a bucket and key"),
        (BackendFlags("s3", ("bucket=team-state",)), "the s3 backend needs a key"),
        (BackendFlags("s3", ("bucket=", "key=k")), "--backend-config bucket=: empty"),
        (BackendFlags("local", ("bucket=b",)), "the local backend takes no settings"),
        (BackendFlags("s3", ("bucket=b-b", "key=k", "acl=private")), "unknown backend setting 'acl'"),
        (BackendFlags("s3", ("bucket=b-b", "key=k", "access_key=AKIA")), "access_key is a credential setting"),
        (BackendFlags("s3", ("bucket=b-b", "key=k", "profile=prod")), "profile is a credential setting"),
        (BackendFlags("s3", ("bucket=b-b", "key=k", "endpoints=x")), "planton sets endpoints itself"),
        (BackendFlags("s3", ("bucket=b-b", "key=k", "encrypt=false")), "planton always encrypts the state"),
        (BackendFlags("s3", ("bucket=b-b", "key=k", "use_lockfile=no")), "use_lockfile=no: expected true or false"),
        (BackendFlags("s3", ("bucket=b-b", "key=k", "use_lockfile=false")), "leaves the state without a lock"),
        (BackendFlags("s3", ("bucket=Bad_Bucket", "key=k")), "--backend-config bucket: the bucket name 'Bad_Bucket'"),
        (BackendFlags("s3", ("bucket=b-b", "key=/k")), "--backend-config key: the key '/k' may not start"),
        (BackendFlags("s3", ("/no/such/backend.hcl",)), "--backend-config /no/such/backend.hcl: not key=value"),
    ],
)
def test_flag_mistakes_are_usage_errors_naming_the_flag(flags: BackendFlags, message: str) -> None:
    with pytest.raises(UsageError, match=None) as caught:
        _select({}, flags)
    assert message in caught.value.message


def test_a_credential_given_as_a_setting_is_never_echoed() -> None:
    with pytest.raises(UsageError) as caught:
        _select({}, BackendFlags("s3", ("bucket=b-b", "key=k", "secret_key=wJalrXUtnFEMI")))
    assert "wJalrXUtnFEMI" not in caught.value.message
    assert caught.value.message.startswith("--backend-config secret_key=...: secret_key is a credential setting")


def test_a_malformed_backend_config_file_names_its_line(tmp_path: Path) -> None:
    config = tmp_path / "backend.hcl"
    config.write_text('bucket = "b-b"\nendpoints {\n', encoding="utf-8")
    with pytest.raises(UsageError, match=r"backend\.hcl, line 2: expected key = \"value\""):
        _select({}, BackendFlags("s3", (str(config),)))


def test_an_unknown_key_in_a_file_names_the_file_and_line(tmp_path: Path) -> None:
    config = tmp_path / "backend.hcl"
    config.write_text('bucket = "b-b"\nkey = "k"\nsecret_key = "x"\n', encoding="utf-8")
    with pytest.raises(UsageError, match=r"backend\.hcl, line 3: secret_key is a credential setting"):
        _select({}, BackendFlags("s3", (str(config),)))


# --- the generated backend file --------------------------------------------------------------


def test_local_state_has_no_backend_file() -> None:
    assert backend_file(LocalBackend()) is None
    assert BACKEND_FILE.endswith(".tf.json")


def test_the_backend_file_for_aws() -> None:
    text = backend_file(S3Backend(bucket="team-state", key="t/o.tfstate", region="eu-west-1"))
    assert text is not None
    assert json.loads(text) == {
        "terraform": {
            "backend": {
                "s3": {
                    "bucket": "team-state",
                    "key": "t/o.tfstate",
                    "region": "eu-west-1",
                    "encrypt": True,
                    "use_lockfile": True,
                }
            }
        }
    }


def test_the_backend_file_with_a_lock_table_and_a_key() -> None:
    flags = BackendFlags(None, ("dynamodb_table=locks", "kms_key_id=alias/state", "region=us-east-2"))
    backend = _select(S3_LABELS, flags)
    assert isinstance(backend, S3Backend)
    settings = json.loads(backend_file(backend) or "")["terraform"]["backend"]["s3"]
    assert settings["dynamodb_table"] == "locks"
    assert settings["kms_key_id"] == "alias/state"
    assert settings["region"] == "us-east-2"
    assert "endpoints" not in settings


@pytest.mark.parametrize(
    ("endpoints", "s3", "dynamodb"),
    [
        # --local: the emulator's endpoint is AWS_ENDPOINT_URL in the provider config.
        ({"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"}, "http://127.0.0.1:4566", "http://127.0.0.1:4566"),
        (
            {"AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000"},
            "http://127.0.0.1:9000",
            "http://127.0.0.1:4566",
        ),
        (
            {"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9000", "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:8000"},
            "http://127.0.0.1:9000",
            "http://127.0.0.1:8000",
        ),
    ],
)
def test_the_backend_file_for_an_emulator_never_reaches_aws(endpoints: dict[str, str], s3: str, dynamodb: str) -> None:
    backend = _select(S3_LABELS, BackendFlags(None, ("dynamodb_table=locks",)), endpoints=endpoints)
    settings = json.loads(backend_file(backend) or "")["terraform"]["backend"]["s3"]  # type: ignore[arg-type]
    assert settings["endpoints"] == {"s3": s3, "dynamodb": dynamodb}
    for flag in (
        "use_path_style",
        "skip_credentials_validation",
        "skip_requesting_account_id",
        "skip_metadata_api_check",
        "skip_region_validation",
    ):
        assert settings[flag] is True, flag


def test_another_endpoint_than_an_emulators_keeps_awss_checks() -> None:
    """An S3 endpoint of AWS's own (a VPC or FIPS endpoint) is used, but nothing is skipped."""
    backend = _select(
        S3_LABELS, endpoints={"AWS_ENDPOINT_URL_S3": "https://bucket.vpce-1a2b.s3.us-east-1.vpce.amazonaws.com"}
    )
    settings = json.loads(backend_file(backend) or "")["terraform"]["backend"]["s3"]  # type: ignore[arg-type]
    assert settings["endpoints"] == {"s3": "https://bucket.vpce-1a2b.s3.us-east-1.vpce.amazonaws.com"}
    for flag in ("skip_credentials_validation", "skip_requesting_account_id", "skip_metadata_api_check"):
        assert flag not in settings


@pytest.mark.parametrize("variable", ["AWS_ENDPOINT_URL_DYNAMODB", "AWS_ENDPOINT_URL_STS"])
def test_tables_at_an_emulator_never_keep_their_state_in_aws(variable: str) -> None:
    with pytest.raises(UsageError, match=f"{variable} point the tables at another endpoint, but S3 has none"):
        _select(S3_LABELS, endpoints={variable: "http://127.0.0.1:8000"})
    assert _select({}, endpoints={variable: "http://127.0.0.1:8000"}) == LocalBackend()


def test_a_value_given_in_the_wrong_form_is_never_echoed() -> None:
    with pytest.raises(UsageError) as caught:
        _select({}, BackendFlags("s3", ("secret-key=wJalrXUtnFEMI/K7MDENG",)))
    assert "wJalrXUtnFEMI" not in caught.value.message
    assert caught.value.message.startswith("--backend-config secret-key=...: not key=value")


def test_no_credentials_ever_reach_the_backend_file() -> None:
    backend = _select(S3_LABELS, endpoints={"AWS_ENDPOINT_URL": "http://127.0.0.1:4566"})
    text = backend_file(backend) or ""  # type: ignore[arg-type]
    for word in ("access_key", "secret_key", "token", "profile"):
        assert word not in text


def test_same_place_ignores_the_buckets_region_and_the_endpoint() -> None:
    one = S3Backend(bucket="b-b", key="k", region="eu-west-1").place()
    assert same_place(one, S3Backend(bucket="b-b", key="k", region="us-east-1").place())
    # The local emulator listens on another port each time it starts.
    emulated = S3Backend(bucket="b-b", key="k", region="eu-west-1", endpoint="http://127.0.0.1:4001").place()
    assert same_place(
        emulated, S3Backend(bucket="b-b", key="k", region="eu-west-1", endpoint="http://127.0.0.1:4002").place()
    )
    assert not same_place(one, S3Backend(bucket="b-b", key="k2", region="eu-west-1").place())
    assert not same_place(one, LocalBackend().place())


# --- found through the console script (tests/cli/test_bad_flags.py) --------------------------


@pytest.mark.parametrize("region", ["nowhere", "us-east-1\nx", "US-EAST-1"])
def test_a_state_region_that_is_no_region_is_refused(region: str) -> None:
    # It was passed on: init ran, and planton looked for its records at an endpoint that does not exist.
    with pytest.raises(UsageError) as caught:
        _select(S3_LABELS, BackendFlags(None, (f"region={region}",)))
    assert caught.value.message == (
        f"--backend-config region: {region!r} does not look like an AWS region; name the state bucket's region "
        "with a code such as us-east-1, or leave region out for the manifest's"
    )


def test_a_malformed_line_of_a_backend_config_file_is_never_quoted_past_its_key(tmp_path: Path) -> None:
    # The line was quoted whole: a credential written unquoted (secret_key = wJalr...) was echoed.
    config = tmp_path / "backend.hcl"
    config.write_text('bucket = "b-b"\nsecret_key = wJalrXUtnFEMI\nwJalrXUtnFEMI\n', encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        _select({}, BackendFlags("s3", (str(config),)))
    expected = f'--backend-config {config}, line 2: expected key = "value", got'
    assert caught.value.message == f"{expected} 'secret_key' = ..."
    config.write_text('bucket = "b-b"\nwJalrXUtnFEMI\n', encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        _select({}, BackendFlags("s3", (str(config),)))
    assert caught.value.message == f"{expected} a line without '='"


def test_a_refused_key_in_a_backend_config_file_names_the_flag(tmp_path: Path) -> None:
    # It began with the file's path alone, so nothing said which option had named the file.
    config = tmp_path / "backend.hcl"
    config.write_text('bucket = "b-b"\nkey = "k"\ncolour = "blue"\n', encoding="utf-8")
    with pytest.raises(UsageError) as caught:
        _select({}, BackendFlags("s3", (str(config),)))
    assert caught.value.message.startswith(f"--backend-config {config}, line 3: unknown backend setting 'colour'")


@pytest.mark.parametrize("table", ["locks\nx", "a b", "ab", "x" * 256])
def test_a_lock_table_that_is_no_table_name_is_refused(table: str) -> None:
    # A line break was passed on to init's -backend-config, and init ran.
    with pytest.raises(UsageError, match=r"--backend-config dynamodb_table: .* is not a DynamoDB table name"):
        _select(S3_LABELS, BackendFlags(None, (f"dynamodb_table={table}",)))


@pytest.mark.parametrize("key", ["alias/state\nx", "alias/my key", ""])
def test_a_state_kms_key_that_is_no_key_is_refused_without_quoting_it(key: str) -> None:
    if not key:  # empty: no key, the bucket's default encryption
        assert _select(S3_LABELS, BackendFlags(None, ("kms_key_id=",))).kms_key_id is None  # type: ignore[union-attr]
        return
    with pytest.raises(UsageError) as caught:
        _select(S3_LABELS, BackendFlags(None, (f"kms_key_id={key}",)))
    assert caught.value.message.startswith("--backend-config kms_key_id: not a KMS key id, alias or ARN")
    assert key not in caught.value.message
