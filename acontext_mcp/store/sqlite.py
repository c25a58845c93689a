"""The SQLite database: one writer connection behind a lock, one reader connection.

WAL mode lets the reader see the last committed state while a write is in progress,
and with `synchronous=NORMAL` a committed transaction survives the process being killed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import aiosqlite
import anyio

_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)


def new_id() -> str:
    """A random UUID as text: the id of every record."""
    return str(uuid4())


def utc_now() -> str:
    """The current time as UTC ISO-8601 with microseconds, e.g. 2026-01-02T03:04:05.000006+00:00."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


class Database:
    """Async access to one SQLite file. Open with `async with Database.open(path) as db`."""

    dialect = "sqlite"
    # Appended to a SELECT that claims queue rows. Empty here: SQLite writers are already serialised.
    skip_locked = ""

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection) -> None:
        self._writer = writer
        self._reader = reader
        self._write_lock = anyio.Lock()
        # One statement at a time on the reader: a statement left open while another runs would
        # make the second read from the first one's (older) snapshot, missing committed writes.
        self._read_lock = anyio.Lock()
        # True inside a transaction of this task (tasks it spawns inherit it), so nested calls join it.
        self._in_transaction: ContextVar[bool] = ContextVar(f"in_transaction_{id(self)}", default=False)

    @classmethod
    @asynccontextmanager
    async def open(cls, path: Path) -> AsyncIterator[Database]:
        path.parent.mkdir(parents=True, exist_ok=True)
        async with aiosqlite.connect(path, isolation_level=None) as writer:
            for pragma in _PRAGMAS:
                await writer.execute(pragma)
            async with aiosqlite.connect(path, isolation_level=None) as reader:
                for pragma in _PRAGMAS[1:]:
                    await reader.execute(pragma)
                reader.row_factory = writer.row_factory = sqlite3.Row
                yield cls(writer, reader)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Writer]:
        """Run writes atomically: commit on success, roll back on any exception or cancellation.

        Transactions are serialised; a nested call joins the outer transaction.
        """
        if self._in_transaction.get():
            yield Writer(self._writer)
            return
        async with self._write_lock:
            token = self._in_transaction.set(True)
            try:
                await self._writer.execute("BEGIN IMMEDIATE")
                try:
                    yield Writer(self._writer)
                except BaseException:
                    with anyio.CancelScope(shield=True):
                        await self._writer.execute("ROLLBACK")
                    raise
                with anyio.CancelScope(shield=True):
                    await self._writer.execute("COMMIT")
            finally:
                self._in_transaction.reset(token)

    # Each statement is one round trip to the connection's thread (`execute_fetchall` runs and
    # drains it there), so a read never holds a statement, or its WAL snapshot, open.

    async def fetch_one(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        async with self._read_lock:
            return list(await self._reader.execute_fetchall(sql, tuple(params)))


class Writer:
    """The handle a transaction yields: reads and writes on the writer connection, one round trip each."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run one statement; return the number of rows it changed."""
        cursor = await self._connection.execute(sql, tuple(params))
        return cursor.rowcount

    async def execute_many(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        """Run one statement per row; no rows, no round trip."""
        if batch := [tuple(row) for row in rows]:
            await self._connection.executemany(sql, batch)

    async def fetch_one(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        return list(await self._connection.execute_fetchall(sql, tuple(params)))
