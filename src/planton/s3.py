"""S3, as planton itself uses it beside terraform's S3 backend: a client for one location, and
reads and writes whose every AWS error becomes one ``EnvironmentNotReady`` naming what failed.

boto3 is imported inside the functions that need it, never at the top of a module: importing it
and making a client take about 0.2 s, on top of the 0.3 s planton's own start-up takes, and only
commands that use S3 should pay for that.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from planton.backend import S3Backend
from planton.errors import EnvironmentNotReady

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Codes S3 answers a conditional write with when the object is no longer the one read: 412 when
# the condition failed, 409 when another conditional write to the key was in flight, and NoSuchKey
# when an ``If-Match`` names an object that was deleted since.
_LOST_RACE = frozenset({"PreconditionFailed", "ConditionalRequestConflict", "NoSuchKey"})

# What to do about the errors a person can fix, by AWS error code.
_HINTS: Mapping[str, str] = {
    "NoSuchBucket": "the bucket does not exist; create it first",
    "AccessDenied": "these credentials may not do that; check their IAM policy and the bucket's policy",
    "AllAccessDisabled": "all access to the bucket is disabled",
    "InvalidAccessKeyId": "AWS does not know these access keys",
    "SignatureDoesNotMatch": "the secret access key does not match the access key id",
    "ExpiredToken": "the session token has expired; get new credentials",
    "InvalidToken": "the session token is not valid; get new credentials",
    "PermanentRedirect": "the bucket is in another region",
    "AuthorizationHeaderMalformed": "the bucket is in another region",
    "NoCredentialsError": "no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE",
    "ProfileNotFound": "AWS_PROFILE names a profile that is not in the AWS config files",
}


@dataclass(frozen=True)
class S3Location:
    """An object in S3 (a state key, or something beside it): where, and the endpoint to reach it
    at (None for AWS itself; an emulator's URL otherwise)."""

    bucket: str
    key: str
    region: str
    endpoint: str | None

    @property
    def url(self) -> str:
        """``s3://bucket/key``."""
        return f"s3://{self.bucket}/{self.key}"

    @classmethod
    def of_state(cls, backend: S3Backend) -> S3Location:
        """Where an S3 backend keeps the state (and so, beside it, planton's records)."""
        return cls(backend.bucket, backend.key, backend.region, backend.endpoint)


@dataclass(frozen=True)
class StoredObject:
    """An object's bytes and the ETag to make a conditional write against."""

    body: bytes
    etag: str


# Clients made in this process, by region, endpoint and the credential settings they were made
# with: a run reads its state and then its records at one location, and each new client costs
# about 70 ms (botocore loads S3's service model again).
_CLIENTS: dict[tuple[str | None, ...], S3Client] = {}


def s3_client(location: S3Location, environ: Mapping[str, str]) -> S3Client:
    """A boto3 S3 client for ``location``'s region and endpoint (path-style addressing when the
    endpoint is an emulator's). Credentials: ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``
    (and ``AWS_SESSION_TOKEN``) from ``environ``, else its ``AWS_PROFILE``, else boto's default
    chain (this process's environment, the shared AWS files, instance metadata). They are never
    logged; no error planton raises shows them."""
    # Deferred to here: importing boto3 and making a client cost about 0.2 s of start-up, which only
    # commands that use S3 should pay (the module's docstring says more).
    import boto3
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError

    key_id, secret = environ.get("AWS_ACCESS_KEY_ID"), environ.get("AWS_SECRET_ACCESS_KEY")
    made_with = (
        location.region,
        location.endpoint,
        key_id,
        secret,
        environ.get("AWS_SESSION_TOKEN"),
        environ.get("AWS_PROFILE"),
    )
    if made_with in _CLIENTS:
        return _CLIENTS[made_with]
    try:
        if key_id and secret:
            session = boto3.session.Session(
                aws_access_key_id=key_id,
                aws_secret_access_key=secret,
                aws_session_token=environ.get("AWS_SESSION_TOKEN") or None,
            )
        elif environ.get("AWS_PROFILE"):
            session = boto3.session.Session(profile_name=environ["AWS_PROFILE"])
        else:
            session = boto3.session.Session()
        # The location's endpoint is the only one: an AWS_ENDPOINT_URL(_S3) in this process's
        # environment must not send these requests somewhere else. (botocore-stubs leaves this
        # option out of Config's signature; botocore has it, 1.35.94 and the newest alike.)
        config = Config(  # type: ignore[call-arg]
            s3={"addressing_style": "path"} if location.endpoint else {},
            ignore_configured_endpoint_urls=True,
        )
        client = session.client("s3", region_name=location.region, endpoint_url=location.endpoint, config=config)
    except BotoCoreError as err:
        raise aws_error(err, f"cannot use {location.url}") from None
    _CLIENTS[made_with] = client
    return client


def read_object(client: S3Client, bucket: str, key: str) -> bytes | None:
    """The object's bytes; None only when there is no such key (a missing bucket, a refusal or any
    other error is an ``EnvironmentNotReady``)."""
    found = read_object_with_etag(client, bucket, key)
    return None if found is None else found.body


def read_object_with_etag(client: S3Client, bucket: str, key: str) -> StoredObject | None:
    """The object's bytes and ETag, as ``read_object`` reads them."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        response = client.get_object(Bucket=bucket, Key=key)
        return StoredObject(body=response["Body"].read(), etag=response["ETag"])
    except ClientError as err:
        if _code(err) == "NoSuchKey":
            return None
        raise aws_error(err, f"cannot read s3://{bucket}/{key}") from None
    except BotoCoreError as err:
        raise aws_error(err, f"cannot read s3://{bucket}/{key}") from None


def replace_object(client: S3Client, bucket: str, key: str, body: bytes, *, expected_etag: str | None) -> bool:
    """Write ``body`` at ``key`` only if the object there is still the one with ``expected_etag``
    (``If-Match``), or, with None, only if there is still none (``If-None-Match: *``). False when
    another writer changed, created or deleted it first: read it again and retry."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        if expected_etag is None:
            client.put_object(Bucket=bucket, Key=key, Body=body, IfNoneMatch="*")
        else:
            client.put_object(Bucket=bucket, Key=key, Body=body, IfMatch=expected_etag)
    except ClientError as err:
        if _code(err) in _LOST_RACE:
            return False
        raise aws_error(err, f"cannot write s3://{bucket}/{key}") from None
    except BotoCoreError as err:
        raise aws_error(err, f"cannot write s3://{bucket}/{key}") from None
    return True


def bucket_exists(client: S3Client, bucket: str) -> bool:
    """Whether the bucket exists (HeadBucket). One that exists and that these credentials may not
    use (403) is an error, as is any other failure."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client.head_bucket(Bucket=bucket)
    except ClientError as err:
        status = _status(err)
        if status == 404:
            return False
        if status == 403:
            raise EnvironmentNotReady(
                f"the bucket {bucket} exists but these credentials cannot use it (403 Forbidden): it belongs to "
                "another AWS account, or their IAM policy or the bucket's policy does not allow it"
            ) from None
        raise aws_error(err, f"cannot look up the bucket {bucket}") from None
    except BotoCoreError as err:
        raise aws_error(err, f"cannot look up the bucket {bucket}") from None
    return True


def aws_error(err: Exception, what: str) -> EnvironmentNotReady:
    """``what`` failed because of ``err`` (a botocore error): the message names the AWS error code
    (or botocore's error class when AWS never answered) and, where there is one, what to do."""
    from botocore.exceptions import ClientError

    if isinstance(err, ClientError):
        code = _code(err) or str(_status(err) or "an unknown error")
        message = str(err.response.get("Error", {}).get("Message") or "")
        region = err.response.get("ResponseMetadata", {}).get("HTTPHeaders", {}).get("x-amz-bucket-region")
    else:
        code, message, region = type(err).__name__, str(err), None
    detail = f"{code} ({message})" if message and message != code else code
    hint = _HINTS.get(code)
    if region and code in {"PermanentRedirect", "AuthorizationHeaderMalformed", "301", "400"}:
        hint = f"the bucket is in {region}"
    return EnvironmentNotReady(f"{what}: {detail}" + (f"; {hint}" if hint else ""))


def _code(err: Exception) -> str | None:
    response = getattr(err, "response", None) or {}
    code = response.get("Error", {}).get("Code")
    return str(code) if code else None


def _status(err: Exception) -> int | None:
    response = getattr(err, "response", None) or {}
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return int(status) if isinstance(status, int) else None
