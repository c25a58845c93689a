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

import math
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
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


def _literal(value: Any) -> str | None:
    """`value` as an SQL literal (standard_conforming_strings is on), or None when it has no safe one.

    In parentheses, so nothing before it can change its meaning (`-` and a negative number make a comment,
    `E` and a string an escape string)."""
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return None if "\x00" in value else "('" + value.replace("'", "''") + "')"
    if type(value) is int or (type(value) is float and math.isfinite(value)):  # not bool: it has no integer literal
        return f"({value!r})"
    return None


def _inlined(sql: str, params: tuple[Any, ...]) -> str | None:
    """`sql` with each `?` replaced by its parameter as a literal, or None when one has no safe literal."""
    literals = [_literal(value) for value in params]
    if None in literals or sum(m.group(0) == "?" for m in _LITERAL_OR_PLACEHOLDER.finditer(sql)) != len(literals):
        return None
    values = iter(literals)
    return _LITERAL_OR_PLACEHOLDER.sub(lambda m: m.group(0) if m.group(0) != "?" else str(next(values)), sql)


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
                    with anyio.CancelScope(shield=True):
                        await writer.finish(commit=False)
                    raise
                try:
                    with anyio.CancelScope(shield=True):
                        await writer.finish(commit=True)
                except BaseException:  # a deferred statement failed: the transaction is aborted
                    with anyio.CancelScope(shield=True), suppress(asyncpg.PostgresError, asyncpg.InterfaceError,
                                                                  OSError):
                        await connection.execute("ROLLBACK")
                    raise
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
    """The handle a transaction yields: statements on the transaction's connection.

    What the server has not been sent yet (`BEGIN`, deferred statements) travels with the next lock or
    statement where that can share its round trip, else just before it.
    """

    def __init__(self, connection: asyncpg.Connection, lock_timeout_s: float = 0) -> None:
        self._connection = connection
        self._lock_timeout_s = lock_timeout_s
        self.begun = False
        """Whether `BEGIN` was sent: an empty transaction costs nothing."""
        self._deferred: list[str] = []

    def _unsent(self) -> str:
        """`BEGIN` (once) and the deferred statements, as one simple-protocol text; now counted as sent."""
        text = "; ".join(([] if self.begun else ["BEGIN"]) + self._deferred)
        self.begun, self._deferred = True, []
        return text

    async def _send_unsent(self) -> None:
        if text := self._unsent():
            with self._explaining("row"):
                await self._connection.execute(text)

    async def finish(self, commit: bool) -> None:
        """End the transaction: COMMIT (with what is still unsent, in one round trip) or ROLLBACK."""
        if not commit:
            self._deferred = []
            if self.begun:
                await self._connection.execute("ROLLBACK")
            return
        if self.begun or self._deferred:
            with self._explaining("row"):
                await self._connection.execute("; ".join(filter(None, [self._unsent(), "COMMIT"])))

    @contextmanager
    def _explaining(self, what: str) -> Iterator[None]:
        """Turn a lock wait that ran out of time into `Unavailable` naming `what`; other errors pass unchanged."""
        try:
            yield
        except asyncpg.PostgresError as exc:
            if getattr(exc, "sqlstate", None) != _LOCK_WAIT:
                raise
            raise Unavailable(
                f"the database {what} stayed held by another transaction (another replica's or this one's) past "
                f"the lock timeout of {self._lock_timeout_s:g} s (ACONTEXT_DB_LOCK_TIMEOUT_S); try again"
            ) from exc

    async def lock(self, key: str) -> None:
        """Hold `key` until the transaction ends: other transactions locking it, on any replica, wait.

        A wait longer than the lock timeout raises `Unavailable` naming the key.
        """
        with self._explaining(f"lock {key!r}"):
            if (literal := _literal(key)) is not None:  # one round trip with whatever is unsent
                unsent = self._unsent()
                await self._connection.execute(
                    "; ".join(filter(None, [unsent, f"SELECT pg_advisory_xact_lock(hashtextextended({literal}, 0))"])))
                return
            await self._send_unsent()
            await self._connection.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", key)

    async def defer(self, sql: str, params: Iterable[Any] = ()) -> None:
        """Run a statement whose row count nobody reads by the next statement or the commit, in that round trip.

        Its values go inline as SQL literals; a value that has no safe literal runs the statement now.
        """
        if (inline := _inlined(sql, tuple(params))) is None:
            await self.execute(sql, params)
        else:
            self._deferred.append(inline)

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run one statement; return the number of rows it changed."""
        await self._send_unsent()
        with self._explaining("row"):
            return _rowcount(await self._connection.execute(to_postgres(sql), *params))

    async def execute_many(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        """Run one statement per row, all in one round trip; no rows, no round trip."""
        if batch := [tuple(row) for row in rows]:
            await self._send_unsent()
            with self._explaining("row"):
                await self._connection.executemany(to_postgres(sql), batch)

    async def fetch_one(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        await self._send_unsent()
        with self._explaining("row"):
            return await self._connection.fetchrow(to_postgres(sql), *params)

    async def fetch_all(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        await self._send_unsent()
        with self._explaining("row"):
            return list(await self._connection.fetch(to_postgres(sql), *params))
