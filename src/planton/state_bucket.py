"""The S3 bucket that keeps terraform's state (and planton's records beside it), made ready once:
created, versioned (so an overwritten or deleted state can be restored), encrypted by default,
and closed to the public. Every step first reads what is there and changes only what differs, so
running it again changes nothing and says so.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING

from planton.errors import EnvironmentNotReady
from planton.s3 import S3Location, aws_error, bucket_exists, s3_client

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import ServerSideEncryptionByDefaultTypeDef, ServerSideEncryptionRuleTypeDef

_PUBLIC_ACCESS_SETTINGS = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")


def bootstrap_bucket(location: S3Location, environ: Mapping[str, str], *, kms_key_id: str | None = None) -> list[str]:
    """Make ``location``'s bucket ready for state: create it in ``location.region`` unless it
    exists, turn versioning on, set default encryption (SSE-S3, AES256; or SSE-KMS with
    ``kms_key_id``) and block all public access. A bucket already encrypted with a KMS key keeps
    that key when no ``kms_key_id`` is given: it is never weakened to AES256. Returns one line per
    step saying what it did or found. Every AWS error is an ``EnvironmentNotReady`` naming the
    bucket and the error code; a bucket name another AWS account owns is one too."""
    client = s3_client(location, environ)
    bucket = location.bucket
    return [
        _create(client, bucket, location.region),
        _versioning(client, bucket),
        _encryption(client, bucket, kms_key_id),
        _public_access_block(client, bucket),
    ]


def _create(client: S3Client, bucket: str, region: str) -> str:
    from botocore.exceptions import ClientError

    existed = bucket_exists(client, bucket)
    if existed and region == "us-east-1":
        # There S3 answers CreateBucket for one's own bucket with a success that resets the
        # bucket's ACLs (its legacy behaviour), so it is not asked. Another account's bucket
        # answers HeadBucket with 403 (bucket_exists's error) unless that account lets these
        # credentials use it.
        return f"bucket {bucket} already exists"
    # CreateBucket even when the bucket exists: its answer tells whose it is (this account's is
    # BucketAlreadyOwnedByYou, another's BucketAlreadyExists), which HeadBucket cannot.
    with _aws_errors(f"cannot create the bucket {bucket} in {region}"):
        try:
            if region == "us-east-1":
                # us-east-1 is S3's default, and refuses to be named as a location constraint.
                client.create_bucket(Bucket=bucket)
            else:
                # (The stubs type the constraint as a literal list of today's regions.)
                constraint = {"LocationConstraint": region}
                client.create_bucket(Bucket=bucket, CreateBucketConfiguration=constraint)  # type: ignore[arg-type]
        except ClientError as err:
            code = err.response.get("Error", {}).get("Code")
            if code == "BucketAlreadyOwnedByYou":
                return f"bucket {bucket} already exists"
            if code == "BucketAlreadyExists":
                raise EnvironmentNotReady(
                    f"cannot create the bucket {bucket}: BucketAlreadyExists; another AWS account owns a bucket of "
                    "that name (bucket names are global across all accounts), so choose another name"
                ) from None
            raise
    return f"bucket {bucket} already exists" if existed else f"created bucket {bucket} in {region}"


def _versioning(client: S3Client, bucket: str) -> str:
    with _aws_errors(f"cannot turn on versioning of the bucket {bucket}"):
        status = client.get_bucket_versioning(Bucket=bucket).get("Status")
        if status == "Enabled":
            return "versioning already on"
        client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return "turned versioning on (it was suspended)" if status == "Suspended" else "turned versioning on"


def _encryption(client: S3Client, bucket: str, kms_key_id: str | None) -> str:
    from botocore.exceptions import ClientError

    with _aws_errors(f"cannot set default encryption of the bucket {bucket}"):
        try:
            rules = client.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") != "ServerSideEncryptionConfigurationNotFoundError":
                raise
            rules = []
        current = rules[0].get("ApplyServerSideEncryptionByDefault", {}) if rules else {}
        algorithm, key = current.get("SSEAlgorithm"), current.get("KMSMasterKeyID")
        if kms_key_id is None and algorithm in {"AES256", "aws:kms", "aws:kms:dsse"}:
            return f"default encryption already {_described(algorithm, key)}"
        if kms_key_id is not None and algorithm == "aws:kms" and key == kms_key_id:
            return f"default encryption already {_described(algorithm, key)}"
        wanted: ServerSideEncryptionByDefaultTypeDef = (
            {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key_id} if kms_key_id else {"SSEAlgorithm": "AES256"}
        )
        rule: ServerSideEncryptionRuleTypeDef = {"ApplyServerSideEncryptionByDefault": wanted}
        if kms_key_id:
            # An S3 Bucket Key: S3 asks KMS for a data key per bucket, not one per object.
            rule["BucketKeyEnabled"] = True
        client.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [rule]})
    return f"set default encryption to {_described(wanted['SSEAlgorithm'], kms_key_id)}"


def _public_access_block(client: S3Client, bucket: str) -> str:
    from botocore.exceptions import ClientError

    with _aws_errors(f"cannot block public access to the bucket {bucket}"):
        try:
            current = client.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") != "NoSuchPublicAccessBlockConfiguration":
                raise
            current = {}
        if all(current.get(setting) is True for setting in _PUBLIC_ACCESS_SETTINGS):
            return "public access already blocked"
        client.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
    return "blocked all public access"


def _described(algorithm: str | None, key: str | None) -> str:
    return f"{algorithm} with key {key}" if key else str(algorithm)


@contextmanager
def _aws_errors(what: str) -> Iterator[None]:
    """Any botocore error inside becomes ``EnvironmentNotReady("<what>: <code> ...")``."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError) as err:
        raise aws_error(err, what) from None
