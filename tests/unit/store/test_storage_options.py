"""LanceDB's object store options: plain http is allowed exactly when the configured S3 endpoint is http."""

from __future__ import annotations

import pytest

from acontext_mcp.store.vectors import storage_options

ALLOW = {"allow_http": "true"}


@pytest.mark.parametrize(
    ("uri", "env", "expected"),
    [
        ("s3://bucket/lance", {"AWS_ENDPOINT_URL": "http://minio:9000"}, ALLOW),
        ("s3://bucket/lance", {"AWS_ENDPOINT_URL_S3": "http://minio:9000"}, ALLOW),
        ("s3://bucket/lance", {"AWS_ENDPOINT": "http://127.0.0.1:9000"}, ALLOW),
        ("s3://bucket/lance", {"AWS_ENDPOINT_URL": "https://s3.example.com"}, {}),
        ("s3://bucket/lance", {}, {}),
        ("/srv/acontext/lancedb", {"AWS_ENDPOINT_URL": "http://minio:9000"}, {}),
        ("gs://bucket/lance", {"AWS_ENDPOINT_URL": "http://minio:9000"}, {}),
    ],
)
def test_allow_http_follows_the_endpoint(uri: str, env: dict[str, str], expected: dict[str, str]) -> None:
    assert storage_options(uri, env) == expected
