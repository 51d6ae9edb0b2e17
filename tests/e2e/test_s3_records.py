"""planton's S3 side against a real moto server, checked with boto3: the records kept beside an
S3 state (one object, written only with conditional writes, so concurrent writers lose nothing),
the S3 helpers' errors, and the state bucket's bootstrap."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

import planton.records
from planton.errors import EnvironmentNotReady
from planton.records import S3_WRITE_ATTEMPTS, SAVED_PLANS_KEPT, InterruptedCreate, S3RecordStore
from planton.s3 import S3Location, bucket_exists, read_object, s3_client
from planton.state_bucket import bootstrap_bucket

from e2e_support import other_account_keys

pytestmark = [pytest.mark.e2e, pytest.mark.lowest]

REGION = "eu-west-1"
KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}
STATE_KEY = "env/orders/terraform.tfstate"
RECORDS_KEY = STATE_KEY + ".planton.json"


def s3(endpoint: str, keys: dict[str, str] = KEYS, region: str = REGION) -> Any:
    """A boto3 client of the test's own, to set things up and check what planton did."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=keys["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=keys["AWS_SECRET_ACCESS_KEY"],
        config=Config(s3={"addressing_style": "path"}),
    )


def new_bucket_name() -> str:
    return f"planton-test-{uuid.uuid4().hex[:16]}"


@pytest.fixture
def location(moto_endpoint: str) -> S3Location:
    """An existing bucket of this test's own, and a state key in it."""
    bucket = new_bucket_name()
    s3(moto_endpoint).create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    return S3Location(bucket=bucket, key=STATE_KEY, region=REGION, endpoint=moto_endpoint)


def stored(location: S3Location) -> dict[str, Any]:
    assert location.endpoint is not None
    body = s3(location.endpoint).get_object(Bucket=location.bucket, Key=RECORDS_KEY)["Body"].read()
    document: dict[str, Any] = json.loads(body)
    return document


# --- the records -----------------------------------------------------------------------------


def test_records_round_trip_in_one_object_beside_the_state(location: S3Location) -> None:
    store = S3RecordStore(location, KEYS)
    assert store.where == f"s3://{location.bucket}/{RECORDS_KEY}"
    assert store.interrupted_create() is None
    assert store.saved_plan("abc") is None
    store.clear_interrupted_create()  # nothing to clear: nothing is written
    store.mark_plan_applied("abc")  # nothing to mark: nothing is written
    assert location.endpoint is not None
    assert s3(location.endpoint).list_objects_v2(Bucket=location.bucket).get("KeyCount") == 0

    store.record_interrupted_create(InterruptedCreate("orders", REGION, "111111111111"))
    store.record_saved_plan("abc", destroy=False, account="111111111111")
    store.record_saved_plan("def", destroy=True, account=None)
    assert store.interrupted_create() == InterruptedCreate("orders", REGION, "111111111111")
    first, second = store.saved_plan("abc"), store.saved_plan("def")
    assert first is not None
    assert second is not None
    assert (first.destroy, first.applied, first.account, first.failed) == (False, None, "111111111111", None)
    assert (second.destroy, second.account) == (True, None)
    store.mark_plan_failed("abc")
    store.mark_plan_applied("abc")
    marked = store.saved_plan("abc")
    assert marked is not None
    assert marked.failed is not None
    assert marked.applied is not None
    store.clear_interrupted_create()
    assert store.interrupted_create() is None

    document = stored(location)
    assert set(document) == {"interrupted_create", "saved_plans"}
    assert document["interrupted_create"] is None
    assert set(document["saved_plans"]) == {"abc", "def"}


def test_a_plan_saved_by_one_runner_is_known_to_another(location: S3Location) -> None:
    S3RecordStore(location, KEYS).record_saved_plan("abc", destroy=True, account="111111111111")
    elsewhere = S3RecordStore(location, KEYS).saved_plan("abc")
    assert elsewhere is not None
    assert (elsewhere.destroy, elsewhere.account) == (True, "111111111111")


def test_the_newest_saved_plans_are_kept(location: S3Location) -> None:
    store = S3RecordStore(location, KEYS)
    total = SAVED_PLANS_KEPT + 5
    for number in range(total):
        store.record_saved_plan(f"plan-{number}", destroy=False, account=None)
    assert set(stored(location)["saved_plans"]) == {f"plan-{number}" for number in range(5, total)}
    assert store.saved_plan("plan-4") is None


@pytest.mark.parametrize("content", [b"not json", b"[]", b'{"saved_plans": []}', b'{"saved_plans": {"a": 1}}', b"\xff"])
def test_a_corrupt_object_is_an_error_and_is_never_overwritten(location: S3Location, content: bytes) -> None:
    assert location.endpoint is not None
    s3(location.endpoint).put_object(Bucket=location.bucket, Key=RECORDS_KEY, Body=content)
    store = S3RecordStore(location, KEYS)
    changes: list[Callable[[], object]] = [
        lambda: store.saved_plan("abc"),
        lambda: store.record_saved_plan("abc", destroy=False, account=None),
        lambda: store.mark_plan_applied("abc"),
    ]
    if not content.startswith(b"{"):  # a document whose saved plans alone are wrong still has its other record
        changes += [
            lambda: store.interrupted_create(),
            lambda: store.record_interrupted_create(InterruptedCreate("t", None)),
        ]
    for change in changes:
        with pytest.raises(EnvironmentNotReady) as caught:
            change()
        assert caught.value.message.startswith(f"s3://{location.bucket}/{RECORDS_KEY} is corrupt")
        assert "Restore an earlier version" in caught.value.message
    body = s3(location.endpoint).get_object(Bucket=location.bucket, Key=RECORDS_KEY)["Body"].read()
    assert body == content


def test_a_corrupt_interrupted_create_is_an_error_and_the_saved_plans_still_work(location: S3Location) -> None:
    assert location.endpoint is not None
    document = {"interrupted_create": {"region": REGION}, "saved_plans": {}}
    s3(location.endpoint).put_object(Bucket=location.bucket, Key=RECORDS_KEY, Body=json.dumps(document).encode())
    store = S3RecordStore(location, KEYS)
    with pytest.raises(EnvironmentNotReady, match="is corrupt: planton remembers an interrupted create") as caught:
        store.interrupted_create()
    assert f"s3://{location.bucket}/{RECORDS_KEY}" in caught.value.message
    store.record_saved_plan("abc", destroy=False, account=None)
    assert store.saved_plan("abc") is not None
    assert stored(location)["interrupted_create"] == {"region": REGION}  # left for a person to look at


def test_a_missing_bucket_is_an_error_naming_the_object_and_the_code(moto_endpoint: str) -> None:
    location = S3Location(bucket=new_bucket_name(), key=STATE_KEY, region=REGION, endpoint=moto_endpoint)
    store = S3RecordStore(location, KEYS)
    for use in (lambda: store.saved_plan("abc"), lambda: store.record_saved_plan("abc", destroy=False, account=None)):
        with pytest.raises(EnvironmentNotReady) as caught:
            use()
        assert f"s3://{location.bucket}/{RECORDS_KEY}" in caught.value.message
        assert "NoSuchBucket" in caught.value.message


def test_the_client_is_made_on_first_use_and_reused(location: S3Location, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[S3Location] = []

    def counting(where: S3Location, environ: dict[str, str]) -> Any:
        made.append(where)
        return s3_client(where, environ)

    monkeypatch.setattr(planton.records, "s3_client", counting)
    store = S3RecordStore(location, KEYS)
    assert made == []
    store.record_saved_plan("abc", destroy=False, account=None)
    store.mark_plan_applied("abc")
    assert store.saved_plan("abc") is not None
    assert [where.url for where in made] == [store.where]


# --- concurrent writers ------------------------------------------------------------------------
# moto (5.2.1 and later) honours both conditions of a PutObject: If-None-Match: * (412 when the
# object exists) and If-Match: <etag> (412 when the ETag is another's), as S3 does.


class Interleaved:
    """A store's S3 client that lets another writer in between each of the store's first ``times``
    reads and the write that follows it: the race two CI runners can run into."""

    def __init__(self, client: Any, other_writer: Callable[[], None], times: int) -> None:
        self._client = client
        self._other_writer = other_writer
        self.times = times

    def get_object(self, **kwargs: Any) -> Any:
        try:
            return self._client.get_object(**kwargs)
        finally:  # also after NoSuchKey: the race to create the object
            if self.times > 0:
                self.times -= 1
                self._other_writer()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


@pytest.fixture
def interleave(monkeypatch: pytest.MonkeyPatch) -> Callable[[Callable[[], None], int], None]:
    """Make the next S3 client planton.records creates an ``Interleaved`` one."""

    def arrange(other_writer: Callable[[], None], times: int) -> None:
        def interleaved(where: S3Location, environ: dict[str, str]) -> Any:
            return Interleaved(s3_client(where, environ), other_writer, times)

        monkeypatch.setattr(planton.records, "s3_client", interleaved)

    return arrange


def test_two_writers_creating_the_object_lose_nothing(location: S3Location, interleave: Any) -> None:
    other = S3RecordStore(location, KEYS)
    other.saved_plan("warm-up")  # the other store's client is made before the interleaving one
    interleave(lambda: other.record_saved_plan("theirs", destroy=False, account=None), 1)
    S3RecordStore(location, KEYS).record_saved_plan("ours", destroy=False, account=None)
    assert set(stored(location)["saved_plans"]) == {"theirs", "ours"}


def test_two_writers_changing_the_object_lose_nothing(location: S3Location, interleave: Any) -> None:
    other = S3RecordStore(location, KEYS)
    other.record_saved_plan("first", destroy=False, account=None)
    interleave(lambda: other.record_interrupted_create(InterruptedCreate("orders", REGION)), 1)
    ours = S3RecordStore(location, KEYS)
    ours.record_saved_plan("ours", destroy=True, account=None)
    document = stored(location)
    assert set(document["saved_plans"]) == {"first", "ours"}
    assert document["interrupted_create"]["table_name"] == "orders"
    assert ours.interrupted_create() == InterruptedCreate("orders", REGION)


def test_a_writer_that_always_loses_the_race_gives_up_and_says_so(location: S3Location, interleave: Any) -> None:
    other = S3RecordStore(location, KEYS)
    other.saved_plan("warm-up")
    theirs = iter(range(100))
    interleave(lambda: other.record_saved_plan(f"theirs-{next(theirs)}", destroy=False, account=None), 100)
    with pytest.raises(
        EnvironmentNotReady, match=f"another writer changed it each of the {S3_WRITE_ATTEMPTS} times"
    ) as caught:
        S3RecordStore(location, KEYS).record_saved_plan("ours", destroy=False, account=None)
    assert f"s3://{location.bucket}/{RECORDS_KEY}" in caught.value.message
    assert set(stored(location)["saved_plans"]) == {f"theirs-{number}" for number in range(S3_WRITE_ATTEMPTS)}


# --- the S3 helpers ------------------------------------------------------------------------------


def test_read_object_tells_a_missing_key_from_a_missing_bucket(location: S3Location) -> None:
    assert location.endpoint is not None
    client = s3_client(location, KEYS)
    assert read_object(client, location.bucket, "no/such/key") is None
    s3(location.endpoint).put_object(Bucket=location.bucket, Key="some/key", Body=b"content")
    assert read_object(client, location.bucket, "some/key") == b"content"
    missing = new_bucket_name()
    with pytest.raises(EnvironmentNotReady, match=f"cannot read s3://{missing}/some/key: NoSuchBucket"):
        read_object(client, missing, "some/key")


def test_bucket_exists(location: S3Location) -> None:
    client = s3_client(location, KEYS)
    assert bucket_exists(client, location.bucket)
    assert not bucket_exists(client, new_bucket_name())


def test_the_client_uses_the_credentials_it_is_given(
    location: S3Location, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert location.endpoint is not None
    other = other_account_keys(location.endpoint)
    theirs = new_bucket_name()
    s3(location.endpoint, other).create_bucket(Bucket=theirs, CreateBucketConfiguration={"LocationConstraint": REGION})

    def buckets(environ: dict[str, str]) -> set[str]:
        return {bucket["Name"] for bucket in s3_client(location, environ).list_buckets()["Buckets"]}

    assert theirs in buckets(other)
    assert theirs not in buckets(KEYS)
    # A profile, from the shared credentials file boto reads.
    credentials = tmp_path / "credentials"
    credentials.write_text(
        f"[other]\naws_access_key_id = {other['AWS_ACCESS_KEY_ID']}\n"
        f"aws_secret_access_key = {other['AWS_SECRET_ACCESS_KEY']}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    assert theirs in buckets({"AWS_PROFILE": "other"})
    assert theirs not in buckets({**KEYS, "AWS_PROFILE": "other"})  # keys come before a profile


# --- the state bucket ----------------------------------------------------------------------------


def check_bucket(endpoint: str, bucket: str, region: str, encryption: dict[str, str]) -> None:
    client = s3(endpoint, region=region)
    assert client.get_bucket_location(Bucket=bucket)["LocationConstraint"] == (
        None if region == "us-east-1" else region
    )
    assert client.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    rules = client.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert [rule["ApplyServerSideEncryptionByDefault"] for rule in rules] == [encryption]
    assert client.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True,
    }


@pytest.mark.parametrize("region", [REGION, "us-east-1"])
def test_bootstrap_makes_a_safe_bucket_and_a_second_run_changes_nothing(moto_endpoint: str, region: str) -> None:
    bucket = new_bucket_name()
    location = S3Location(bucket=bucket, key=STATE_KEY, region=region, endpoint=moto_endpoint)
    assert bootstrap_bucket(location, KEYS) == [
        f"created bucket {bucket} in {region}",
        "turned versioning on",
        "set default encryption to AES256",
        "blocked all public access",
    ]
    check_bucket(moto_endpoint, bucket, region, {"SSEAlgorithm": "AES256"})
    assert bootstrap_bucket(location, KEYS) == [
        f"bucket {bucket} already exists",
        "versioning already on",
        "default encryption already AES256",
        "public access already blocked",
    ]
    check_bucket(moto_endpoint, bucket, region, {"SSEAlgorithm": "AES256"})


def test_bootstrap_with_a_kms_key(moto_endpoint: str) -> None:
    kms = boto3.client(
        "kms",
        endpoint_url=moto_endpoint,
        region_name=REGION,
        aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"],
    )
    key = kms.create_key(Description="planton state")["KeyMetadata"]["Arn"]
    bucket = new_bucket_name()
    location = S3Location(bucket=bucket, key=STATE_KEY, region=REGION, endpoint=moto_endpoint)
    assert bootstrap_bucket(location, KEYS, kms_key_id=key)[2] == f"set default encryption to aws:kms with key {key}"
    check_bucket(moto_endpoint, bucket, REGION, {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key})
    rules = s3(moto_endpoint).get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    assert rules[0]["BucketKeyEnabled"] is True
    assert bootstrap_bucket(location, KEYS, kms_key_id=key)[2] == f"default encryption already aws:kms with key {key}"
    # Without a key, the bucket keeps its KMS key: never weakened to AES256.
    assert bootstrap_bucket(location, KEYS)[2] == f"default encryption already aws:kms with key {key}"
    check_bucket(moto_endpoint, bucket, REGION, {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key})


def test_bootstrap_completes_a_bucket_made_by_hand(location: S3Location) -> None:
    assert location.endpoint is not None
    client = s3(location.endpoint)
    client.put_bucket_versioning(Bucket=location.bucket, VersioningConfiguration={"Status": "Enabled"})
    client.put_bucket_versioning(Bucket=location.bucket, VersioningConfiguration={"Status": "Suspended"})
    client.put_public_access_block(
        Bucket=location.bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": False,
            "RestrictPublicBuckets": True,
        },
    )
    assert bootstrap_bucket(location, KEYS) == [
        f"bucket {location.bucket} already exists",
        "turned versioning on (it was suspended)",
        "set default encryption to AES256",
        "blocked all public access",
    ]
    check_bucket(location.endpoint, location.bucket, REGION, {"SSEAlgorithm": "AES256"})


def test_bootstrap_refuses_a_bucket_name_another_account_owns(location: S3Location) -> None:
    assert location.endpoint is not None
    other = other_account_keys(location.endpoint)
    with pytest.raises(EnvironmentNotReady, match="BucketAlreadyExists; another AWS account owns") as caught:
        bootstrap_bucket(location, other)
    assert location.bucket in caught.value.message
    # Nothing of the owner's bucket was changed.
    assert "Status" not in s3(location.endpoint).get_bucket_versioning(Bucket=location.bucket)
