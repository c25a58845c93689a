"""A local S3-compatible server (moto's server mode) on loopback, for object-storage tests.

Import the fixture into a test module: `from tests.support.s3 import s3  # noqa: F401 (fixture)`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import pytest


@dataclass(frozen=True)
class S3:
    """A running endpoint and the standard AWS variables that point a process at it."""

    endpoint: str

    @property
    def env(self) -> dict[str, str]:
        """For a server process: botocore (s3fs) and LanceDB's object store both read these."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
        }

    def stores_env(self, bucket: str) -> dict[str, str]:
        """Everything a replica keeps beyond its database, in one bucket."""
        return {
            **self.env,
            "ACONTEXT_ARTIFACT_URL": f"s3://{bucket}/artifacts",
            "ACONTEXT_BLOB_URL": f"s3://{bucket}/blobs",
            "ACONTEXT_LANCEDB_URI": f"s3://{bucket}/lance",
            "ACONTEXT_URL_SECRET": "shared-by-every-replica-0123456789",
        }

    def client(self) -> Any:
        import boto3

        env = self.env
        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name=env["AWS_REGION"],
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )

    def new_bucket(self) -> str:
        name = f"acx-{uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def keys(self, bucket: str, prefix: str = "") -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))

    def read(self, bucket: str, key: str) -> bytes:
        return bytes(self.client().get_object(Bucket=bucket, Key=key)["Body"].read())


@pytest.fixture(scope="session")
def s3() -> Iterator[S3]:
    """moto's S3 server in a thread of the test process, on a free loopback port; each test makes its own bucket."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield S3(f"http://{host}:{port}")
    finally:
        server.stop()
