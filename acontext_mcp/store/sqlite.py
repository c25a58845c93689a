"""The SQLite database: one writer connection behind a lock, one reader connection.

WAL mode lets the reader see the last committed state while a write is in progress,
and with `synchronous=NORMAL` a committed transaction survives the process being killed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import aiosqlite
import anyio

from acontext_mcp.errors import DiskFull
from acontext_mcp.store.database import Row
from acontext_mcp.store.secrets import private_file

_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=5000",
)


RESERVE_BYTES = 2 * 1024 * 1024
"""Kept in the data dir and given up when the disk fills, so deletes (which SQLite journals) can run."""


class SqliteDatabase:
    """Async access to one SQLite file (a `store.database.Database`). Open with `SqliteDatabase.open(path)`."""

    dialect = "sqlite"
    skip_locked = ""  # SQLite writers are serialised already

    def __init__(self, writer: aiosqlite.Connection, reader: aiosqlite.Connection, reserve: Path | None = None) -> None:
        self._reserve = reserve  # a file given up on a full disk, so that deletes still find room
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
    async def open(cls, path: Path) -> AsyncIterator[SqliteDatabase]:
        private_file(path)
        reserve = path.with_name(f".{path.name}-reserve")
        if not reserve.exists():
            try:
                reserve.write_bytes(bytes(RESERVE_BYTES))
            except OSError:  # already full: nothing to keep back
                reserve.unlink(missing_ok=True)
        async with aiosqlite.connect(path, isolation_level=None) as writer:
            for pragma in _PRAGMAS:
                await writer.execute(pragma)
            async with aiosqlite.connect(path, isolation_level=None) as reader:
                for pragma in _PRAGMAS[1:]:
                    await reader.execute(pragma)
                reader.row_factory = writer.row_factory = sqlite3.Row
                yield cls(writer, reader, reserve)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteWriter]:
        """Run writes atomically: commit on success, roll back on any exception or cancellation.

        Transactions are serialised; a nested call joins the outer transaction.
        """
        if self._in_transaction.get():
            yield SqliteWriter(self._writer)
            return
        async with self._write_lock:
            token = self._in_transaction.set(True)
            try:
                # Shielded: cancelled mid-BEGIN, the connection would be left inside a transaction.
                with anyio.CancelScope(shield=True):
                    await self._writer.execute("BEGIN IMMEDIATE")
                try:
                    try:
                        yield SqliteWriter(self._writer)
                    except BaseException:
                        with anyio.CancelScope(shield=True):
                            await self._writer.execute("ROLLBACK")
                        raise
                    with anyio.CancelScope(shield=True):
                        await self._writer.execute("COMMIT")
                except sqlite3.OperationalError as exc:
                    if "full" not in str(exc):
                        raise
                    raise self._disk_full() from exc
            finally:
                self._in_transaction.reset(token)

    def _disk_full(self) -> DiskFull:
        """The error for a full disk; the first time, the reserve is given up so that deletes can run."""
        if self._reserve is not None and self._reserve.exists():
            self._reserve.unlink()
            return DiskFull(str(self._reserve.parent), "room was made for deletes: delete_session or delete_disk now")
        return DiskFull(str(self._reserve.parent) if self._reserve else "the database")

    @staticmethod
    def schema(statement: str) -> str:
        return statement  # migrations are written in SQLite's dialect

    # Each statement is one round trip to the connection's thread (`execute_fetchall` runs and
    # drains it there), so a read never holds a statement, or its WAL snapshot, open.

    async def fetch_one(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        async with self._read_lock:
            return list(await self._reader.execute_fetchall(sql, tuple(params)))


class SqliteWriter:
    """The handle a transaction yields: reads and writes on the writer connection, one round trip each."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection

    async def lock(self, key: str) -> None:
        """Nothing to do: the transaction holds SQLite's one write lock already."""

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run one statement; return the number of rows it changed."""
        cursor = await self._connection.execute(sql, tuple(params))
        return cursor.rowcount

    async def defer(self, sql: str, params: Iterable[Any] = ()) -> None:
        """Run a statement whose row count nobody reads: here, now (there is no round trip to save)."""
        await self.execute(sql, params)

    async def execute_many(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        """Run one statement per row; no rows, no round trip."""
        if batch := [tuple(row) for row in rows]:
            await self._connection.executemany(sql, batch)

    async def fetch_one(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        return list(await self._connection.execute_fetchall(sql, tuple(params)))
