"""The S3 helpers' answers to the errors a moto server cannot be made to give (a refusal, a bucket
in another region), raised by a stand-in client exactly as botocore raises them. Against a real
server: tests/e2e/test_s3_records.py."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from planton.errors import EnvironmentNotReady
from planton.s3 import aws_error, bucket_exists, read_object, replace_object


def client_error(code: str, status: int, operation: str, headers: dict[str, str] | None = None) -> ClientError:
    message = {"403": "Forbidden", "404": "Not Found"}.get(code, f"{code} happened")
    return ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status, "HTTPHeaders": headers or {}},
        },
        operation,
    )


class Failing:
    """A client whose every call raises ``error``."""

    def __init__(self, error: Exception) -> None:
        self.error = error

    def __getattr__(self, name: str) -> Any:
        def call(**kwargs: Any) -> Any:
            raise self.error

        return call


def test_a_refused_read_names_the_object_and_the_code() -> None:
    with pytest.raises(EnvironmentNotReady) as caught:
        read_object(Failing(client_error("AccessDenied", 403, "GetObject")), "states", "env/a.tfstate")
    assert caught.value.message == (
        "cannot read s3://states/env/a.tfstate: AccessDenied (AccessDenied happened); "
        "these credentials may not do that; check their IAM policy and the bucket's policy"
    )


def test_an_unreachable_endpoint_names_the_object_and_the_error() -> None:
    error = EndpointConnectionError(endpoint_url="http://127.0.0.1:9/states")
    with pytest.raises(EnvironmentNotReady, match=r"^cannot write s3://states/k: EndpointConnectionError \(Could not"):
        replace_object(Failing(error), "states", "k", b"{}", expected_etag=None)


def test_a_bucket_these_credentials_cannot_use_is_an_error_not_a_missing_bucket() -> None:
    with pytest.raises(EnvironmentNotReady, match="the bucket states exists but these credentials cannot use it"):
        bucket_exists(Failing(client_error("403", 403, "HeadBucket")), "states")
    assert not bucket_exists(Failing(client_error("404", 404, "HeadBucket")), "states")
    with pytest.raises(EnvironmentNotReady, match="cannot look up the bucket states: 400"):
        bucket_exists(Failing(client_error("400", 400, "HeadBucket")), "states")


def test_a_bucket_in_another_region_says_which() -> None:
    error = client_error("PermanentRedirect", 301, "GetObject", {"x-amz-bucket-region": "ap-south-1"})
    assert aws_error(error, "cannot read s3://states/k").message == (
        "cannot read s3://states/k: PermanentRedirect (PermanentRedirect happened); the bucket is in ap-south-1"
    )
