"""Open the configured database engine; each engine's driver loads only when it is used."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from acontext_mcp.store.database import Database, is_database_url


@asynccontextmanager
async def open_database(target: str | Path, lock_timeout_s: float = 0,
                        statement_timeout_s: float = 0) -> AsyncIterator[Database]:
    """A PostgreSQL database for a `postgresql://` URL, else the SQLite file at that path.

    The timeouts (seconds, 0: none) bound PostgreSQL's waits for locks and its statements.
    """
    if isinstance(target, str) and is_database_url(target):
        from acontext_mcp.store.postgres import PostgresDatabase

        async with PostgresDatabase.open(target, lock_timeout_s, statement_timeout_s) as db:
            yield db
        return
    from acontext_mcp.store.sqlite import SqliteDatabase

    async with SqliteDatabase.open(Path(target)) as db:
        yield db
