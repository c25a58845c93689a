"""PostgreSQL through asyncpg: the engine for several replicas sharing one database.

Reads and transactions share a connection pool, and a process runs its transactions side by side,
as several replicas do: read-then-write sequences take a lock on what they change (`Writer.lock`, a
transaction-scoped advisory lock), upserts say `ON CONFLICT`, and queue claims skip rows another
transaction has locked (`FOR UPDATE SKIP LOCKED`). `lock_timeout` bounds every wait for a lock, so a
stuck holder on one replica fails the others' waits with a clear error instead of stalling them.

Round trips are few: `BEGIN` travels with the transaction's first lock (or statement), statements
are prepared once per connection (asyncpg's cache), and a connection goes back to the pool without
asyncpg's reset query (nothing here changes a session's state; an open transaction is still rolled back).

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

_POOL_SIZE = 10
_TRANSACTIONS = 8  # at most this many at once: the rest of the pool stays free for reads a transaction awaits
_LOCK_WAIT = "55P03"  # lock_not_available: `lock_timeout` ran out
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


def _literal(text: str) -> str | None:
    """`text` as an SQL string literal (standard_conforming_strings is on), or None when it cannot be one."""
    return None if "\x00" in text else "'" + text.replace("'", "''") + "'"


async def _keep_session(connection: asyncpg.Connection) -> None:
    """Pool reset: nothing to undo (no SET, LISTEN or session lock is ever used), so no reset round trip."""


async def _decode_numeric_as_sqlite(connection: asyncpg.Connection) -> None:
    """`SUM` of integers is `numeric` here: hand it back as SQLite does (an int when whole), not a Decimal."""
    await connection.set_type_codec("numeric", schema="pg_catalog", decoder=_sqlite_number,
                                    encoder=str, format="text")


class PostgresDatabase:
    """Async access to one PostgreSQL database (a `store.database.Database`). Open with `PostgresDatabase.open(url)`."""

    dialect = "postgresql"
    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, pool: asyncpg.Pool, lock_timeout_s: float = 0) -> None:
        self._pool = pool
        self._lock_timeout_s = lock_timeout_s
        self._transactions = anyio.Semaphore(_TRANSACTIONS)
        self._in_transaction: ContextVar[PostgresWriter | None] = ContextVar(f"pg_tx_{id(self)}", default=None)

    @classmethod
    @asynccontextmanager
    async def open(cls, url: str, lock_timeout_s: float = 0, statement_timeout_s: float = 0,
                   ) -> AsyncIterator[PostgresDatabase]:
        """A pool on `url`. A wait for a lock over `lock_timeout_s`, or a statement over `statement_timeout_s`,
        fails (0: no limit)."""
        settings = {"lock_timeout": f"{round(lock_timeout_s * 1000)}",
                    "statement_timeout": f"{round(statement_timeout_s * 1000)}",
                    "standard_conforming_strings": "on"}
        try:
            pool = await asyncpg.create_pool(url, min_size=1, max_size=_POOL_SIZE, init=_decode_numeric_as_sqlite,
                                             reset=_keep_session, server_settings=settings)
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise Unavailable(
                f"cannot open the database {shown(url)}: {exc}; check ACONTEXT_DATABASE_URL and that PostgreSQL is up"
            ) from exc
        try:
            yield cls(pool, lock_timeout_s)
        finally:
            with anyio.CancelScope(shield=True):
                await pool.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresWriter]:
        """Run writes atomically: commit on success, roll back on any exception or cancellation.

        A process's transactions run side by side (up to `_TRANSACTIONS` at once, each on its own
        connection); a nested call joins the outer transaction.
        """
        if (outer := self._in_transaction.get()) is not None:
            yield outer
            return
        async with self._transactions, self._pool.acquire() as connection:
            writer = PostgresWriter(connection, self._lock_timeout_s)
            token = self._in_transaction.set(writer)
            try:
                try:
                    yield writer
                except BaseException:
                    if writer.begun:
                        with anyio.CancelScope(shield=True):
                            await connection.execute("ROLLBACK")
                    raise
                if writer.begun:
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

    def __init__(self, connection: asyncpg.Connection, lock_timeout_s: float = 0) -> None:
        self._connection = connection
        self._lock_timeout_s = lock_timeout_s
        self.begun = False
        """Whether `BEGIN` was sent: it goes with the first lock or statement, so an empty transaction costs nothing."""

    async def _begin(self) -> None:
        if not self.begun:
            self.begun = True
            with anyio.CancelScope(shield=True):
                await self._connection.execute("BEGIN")

    async def lock(self, key: str) -> None:
        """Hold `key` until the transaction ends: other transactions locking it, on any replica, wait.

        A wait longer than the lock timeout raises `Unavailable` naming the key.
        """
        try:
            if not self.begun and (literal := _literal(key)) is not None:
                self.begun = True  # one round trip for both; a failed lock still leaves a transaction to roll back
                await self._connection.execute(f"BEGIN; SELECT pg_advisory_xact_lock(hashtextextended({literal}, 0))")
                return
            await self._begin()
            await self._connection.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key)
        except asyncpg.PostgresError as exc:
            raise self._explained(exc, f"lock {key!r}") from exc

    def _explained(self, exc: asyncpg.PostgresError, what: str) -> Exception:
        """A lock wait that ran out of time as `Unavailable`; any other error unchanged."""
        if getattr(exc, "sqlstate", None) != _LOCK_WAIT:
            return exc
        return Unavailable(
            f"the database {what} stayed held by another transaction (another replica's or this one's) past the "
            f"lock timeout of {self._lock_timeout_s:g} s (ACONTEXT_DB_LOCK_TIMEOUT_S); try again"
        )

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run one statement; return the number of rows it changed."""
        await self._begin()
        try:
            return _rowcount(await self._connection.execute(to_postgres(sql), *params))
        except asyncpg.PostgresError as exc:
            raise self._explained(exc, "row") from exc

    async def execute_many(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        """Run one statement per row, all in one round trip; no rows, no round trip."""
        if batch := [tuple(row) for row in rows]:
            await self._begin()
            try:
                await self._connection.executemany(to_postgres(sql), batch)
            except asyncpg.PostgresError as exc:
                raise self._explained(exc, "row") from exc

    async def fetch_one(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        await self._begin()
        try:
            return await self._connection.fetchrow(to_postgres(sql), *params)
        except asyncpg.PostgresError as exc:
            raise self._explained(exc, "row") from exc

    async def fetch_all(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        await self._begin()
        try:
            return list(await self._connection.fetch(to_postgres(sql), *params))
        except asyncpg.PostgresError as exc:
            raise self._explained(exc, "row") from exc
