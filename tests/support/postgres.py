"""Scratch PostgreSQL databases for the tests, on the server `scripts/postgres` starts (ACONTEXT_TEST_DATABASE_URL).

Without that variable the PostgreSQL cases skip, unless ACONTEXT_REQUIRE_POSTGRES=1 (as in CI) makes them fail.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit
from uuid import uuid4

import asyncpg
import pytest


def admin_url() -> str:
    """The URL of the test server's maintenance database; skips (or fails in CI) when there is none."""
    url = os.environ.get("ACONTEXT_TEST_DATABASE_URL")
    if url:
        return url
    reason = "no PostgreSQL: run scripts/postgres and set ACONTEXT_TEST_DATABASE_URL to the URL it prints"
    if os.environ.get("ACONTEXT_REQUIRE_POSTGRES") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def env_for(database_url: str | None) -> dict[str, str]:
    """The environment a server process needs to use `database_url` (None: SQLite in its data dir)."""
    return {"ACONTEXT_DATABASE_URL": database_url} if database_url else {}


async def _run(url: str, statement: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


@contextmanager
def scratch_database(admin: str | None = None) -> Iterator[str]:
    """A new empty database on the server of `admin` (default: the test server), dropped afterwards; yields its URL."""
    admin = admin or admin_url()
    name = f"acontext_test_{uuid4().hex[:12]}"
    asyncio.run(_run(admin, f"CREATE DATABASE {name}"))
    try:
        yield urlsplit(admin)._replace(path=f"/{name}").geturl()
    finally:
        asyncio.run(_run(admin, f"DROP DATABASE {name} WITH (FORCE)"))
