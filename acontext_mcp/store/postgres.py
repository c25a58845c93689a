"""PostgreSQL through asyncpg: the engine for several replicas sharing one database.

Reads go to a connection pool. A process runs its own transactions one at a time, as on SQLite, so
code inside one replica sees the same ordering on both engines; between replicas, read-then-write
sequences take a lock on what they change (`Writer.lock`, a transaction-scoped advisory lock) and
queue claims skip rows another replica has locked (`FOR UPDATE SKIP LOCKED`).

Services write SQL in the dialect both engines share, with `?` placeholders; `to_postgres` numbers
them (`$1`, `$2`, ...). Migrations are written for SQLite; `schema` adapts their DDL.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

import anyio
import asyncpg

from acontext_mcp.errors import Unavailable
from acontext_mcp.store.database import Row, shown

_POOL_SIZE = 8
# A string literal (passed through whole, so a '?' inside one stays) or a placeholder.
_LITERAL_OR_PLACEHOLDER = re.compile(r"'(?:[^']|'')*'|\?")
_TABLE_DDL = re.compile(r"\s*(?:CREATE|ALTER) TABLE\b", re.IGNORECASE)
_CREATE_TABLE = re.compile(r"^(\s*CREATE TABLE (?:IF NOT EXISTS )?\w+\s*\()", re.IGNORECASE)


@lru_cache(maxsize=1024)
def to_postgres(sql: str) -> str:
    """`sql` with its `?` placeholders numbered as PostgreSQL wants them."""
    count = 0

    def number(match: re.Match[str]) -> str:
        nonlocal count
        if match.group(0) != "?":
            return match.group(0)
        count += 1
        return f"${count}"

    return _LITERAL_OR_PLACEHOLDER.sub(number, sql)


def _rowcount(status: str) -> int:
    """The row count at the end of a command tag such as `UPDATE 3` or `INSERT 0 1`."""
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else 0


def _sqlite_number(text: str) -> int | float:
    return int(text) if text.lstrip("-").isdigit() else float(text)


async def _decode_numeric_as_sqlite(connection: asyncpg.Connection) -> None:
    """`SUM` of integers is `numeric` here: hand it back as SQLite does (an int when whole), not a Decimal."""
    await connection.set_type_codec("numeric", schema="pg_catalog", decoder=_sqlite_number,
                                    encoder=str, format="text")


class PostgresDatabase:
    """Async access to one PostgreSQL database (a `store.database.Database`). Open with `PostgresDatabase.open(url)`."""

    dialect = "postgresql"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool
        self._write_lock = anyio.Lock()
        self._in_transaction: ContextVar[PostgresWriter | None] = ContextVar(f"pg_tx_{id(self)}", default=None)

    @classmethod
    @asynccontextmanager
    async def open(cls, url: str) -> AsyncIterator[PostgresDatabase]:
        try:
            pool = await asyncpg.create_pool(url, min_size=1, max_size=_POOL_SIZE, init=_decode_numeric_as_sqlite)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise Unavailable(
                f"cannot open the database {shown(url)}: {exc}; check ACONTEXT_DATABASE_URL and that PostgreSQL is up"
            ) from exc
        try:
            yield cls(pool)
        finally:
            with anyio.CancelScope(shield=True):
                await pool.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresWriter]:
        """Run writes atomically: commit on success, roll back on any exception or cancellation.

        This process's transactions are serialised; a nested call joins the outer transaction.
        """
        if (outer := self._in_transaction.get()) is not None:
            yield outer
            return
        async with self._write_lock, self._pool.acquire() as connection:
            writer = PostgresWriter(connection)
            token = self._in_transaction.set(writer)
            try:
                with anyio.CancelScope(shield=True):
                    await connection.execute("BEGIN")
                try:
                    yield writer
                except BaseException:
                    with anyio.CancelScope(shield=True):
                        await connection.execute("ROLLBACK")
                    raise
                with anyio.CancelScope(shield=True):
                    await connection.execute("COMMIT")
            finally:
                self._in_transaction.reset(token)

    @staticmethod
    def schema(statement: str) -> str:
        """A migration's DDL, written for SQLite, for PostgreSQL.

        SQLite's integers are 64-bit and its `INTEGER PRIMARY KEY` counts up by itself; it compares
        text byte by byte, whatever the database's locale; every SQLite table has a `rowid` in
        insertion order, which queries sort by: here it is a column.
        """
        statement = re.sub(r"\bINTEGER PRIMARY KEY(?: AUTOINCREMENT)?", "BIGSERIAL PRIMARY KEY", statement)
        statement = re.sub(r"\bINTEGER\b", "BIGINT", statement)
        if _TABLE_DDL.match(statement):
            statement = re.sub(r"\bTEXT\b", 'TEXT COLLATE "C"', statement)
        return _CREATE_TABLE.sub(r"\1 rowid BIGSERIAL NOT NULL,", statement)

    async def fetch_one(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        return await self._pool.fetchrow(to_postgres(sql), *params)

    async def fetch_all(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        return list(await self._pool.fetch(to_postgres(sql), *params))


class PostgresWriter:
    """The handle a transaction yields: statements on the transaction's connection."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self._connection = connection

    async def lock(self, key: str) -> None:
        """Hold `key` until the transaction ends: other replicas' transactions locking it wait."""
        await self._connection.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key)

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run one statement; return the number of rows it changed."""
        return _rowcount(await self._connection.execute(to_postgres(sql), *params))

    async def execute_many(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        """Run one statement per row; no rows, no round trip."""
        if batch := [tuple(row) for row in rows]:
            await self._connection.executemany(to_postgres(sql), batch)

    async def fetch_one(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        return await self._connection.fetchrow(to_postgres(sql), *params)

    async def fetch_all(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        return list(await self._connection.fetch(to_postgres(sql), *params))
