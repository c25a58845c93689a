"""The SQLite database: one writer connection behind a lock, one reader connection.

WAL mode lets the reader see the last committed state while a write is in progress,
and with `synchronous=NORMAL` a committed transaction survives the process being killed.

Writes run on the event loop. A short statement on a WAL file costs microseconds, less than a hop
to a worker thread and back (a `send_message` made eight such hops), so the writer connection runs
each statement inline and hands one to a worker thread only where waiting there is better:
- BEGIN or COMMIT finds the file locked by another process (the CLI importing, another replica):
  SQLite says SQLITE_BUSY at once, and the thread retries, waiting up to `BUSY_TIMEOUT_MS`;
- the transaction has held the loop for `_INLINE_BUDGET_S` already (a bulk copy, a migration): its
  remaining statements run in the thread;
- the statement took over `_SLOW_S` inline last time (a large delete): its next runs go to the thread.
The writer connection does not checkpoint by itself (that fsync would stall the loop): every
`CHECKPOINT_EVERY` commits a task checkpoints between two transactions, on a connection of its own, in a
worker thread.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
import anyio
import anyio.lowlevel
import anyio.to_thread
from anyio.abc import TaskGroup

from acontext_mcp.errors import DiskFull
from acontext_mcp.store.database import Row
from acontext_mcp.store.secrets import private_file

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
)

RESERVE_BYTES = 2 * 1024 * 1024
"""Kept in the data dir and given up when the disk fills, so deletes (which SQLite journals) can run."""

_INLINE_BUDGET_S = 0.004
"""A transaction's statements run on the event loop until together they took this long; the rest in a thread."""
_SLOW_S = 0.004
"""A statement that took longer inline runs in a thread for its next `_SLOW_RUNS` runs."""
_SLOW_RUNS = 100
CHECKPOINT_EVERY = 250
"""Commits between checkpoints (SQLite's own default is every 1,000 pages of WAL; a message writes a few)."""

T = TypeVar("T")


class SqliteDatabase:
    """Async access to one SQLite file (a `store.database.Database`). Open with `SqliteDatabase.open(path)`."""

    dialect = "sqlite"
    skip_locked = ""  # SQLite writers are serialised already

    def __init__(
        self, writer: InlineConnection, reader: aiosqlite.Connection, reserve: Path | None, tasks: TaskGroup
    ) -> None:
        self._reserve = reserve  # a file given up on a full disk, so that deletes still find room
        self.writer = writer
        self._reader = reader
        self._tasks = tasks  # runs checkpoints, off the request that made one due
        self._write_lock = anyio.Lock(fast_acquire=True)  # uncontended, taking it does not yield to the loop
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
        async with InlineConnection.open(path) as writer, aiosqlite.connect(path, isolation_level=None) as reader:
            for pragma in _PRAGMAS[1:]:
                await reader.execute(pragma)
            reader.row_factory = sqlite3.Row
            async with anyio.create_task_group() as tasks:
                yield cls(writer, reader, reserve, tasks)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteWriter]:
        """Run writes atomically: commit on success, roll back on any exception or cancellation.

        Transactions are serialised; a nested call joins the outer transaction.
        """
        if self._in_transaction.get():
            yield SqliteWriter(self.writer)
            return
        checkpoint_due = False
        async with self._write_lock:
            token = self._in_transaction.set(True)
            try:
                # Shielded: cancelled mid-BEGIN, the connection would be left inside a transaction.
                with anyio.CancelScope(shield=True):
                    await self.writer.begin()
                try:
                    try:
                        yield SqliteWriter(self.writer)
                    except BaseException:
                        with anyio.CancelScope(shield=True):
                            await self.writer.rollback()
                        raise
                    with anyio.CancelScope(shield=True):
                        checkpoint_due = await self.writer.commit()
                except sqlite3.OperationalError as exc:
                    if "full" not in str(exc):
                        raise
                    raise self._disk_full() from exc
            finally:
                self._in_transaction.reset(token)
        if checkpoint_due:
            self._tasks.start_soon(self._checkpoint)
            # Let it start now: a caller that writes in a loop never yields otherwise (writes run inline), and the
            # WAL, never checkpointed, would grow without bound and slow every read.
            await anyio.lowlevel.checkpoint()

    async def _checkpoint(self) -> None:
        """Checkpoint between transactions (in a thread; the loop goes on). Beside a write, a checkpoint could not
        copy that write's pages, and under a steady stream of writes the WAL would never start over."""
        async with self._write_lock:
            await self.writer.checkpoint()

    def _disk_full(self) -> DiskFull:
        """The error for a full disk; the first time, the reserve is given up so that deletes can run."""
        if self._reserve is not None and self._reserve.exists():
            self._reserve.unlink()
            return DiskFull(str(self._reserve.parent), "room was made for deletes: delete_session or delete_disk now")
        return DiskFull(str(self._reserve.parent) if self._reserve else "the database")

    @staticmethod
    def schema(statement: str) -> str:
        return statement  # migrations are written in SQLite's dialect

    # Each read is one round trip to the reader connection's thread (`execute_fetchall` runs and
    # drains it there), so a read never holds a statement, or its WAL snapshot, open.

    async def fetch_one(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        async with self._read_lock:
            return list(await self._reader.execute_fetchall(sql, tuple(params)))


class InlineConnection:
    """The writer connection: each statement runs on the event loop, or in a worker thread when it
    would wait for another process's lock or take long (see the module's docstring). The caller runs
    one statement at a time (`SqliteDatabase` holds its write lock)."""

    def __init__(self, connection: sqlite3.Connection, checkpointer: sqlite3.Connection) -> None:
        self.connection = connection
        self._checkpointer = checkpointer
        self._slow: dict[str, int] = {}  # statement -> runs left in the thread
        self._spent = 0.0  # seconds the current transaction's statements took inline
        self._began_cpu = 0.0  # the loop thread's CPU time when it began
        self._over_budget = False  # the rest of the current transaction runs in a thread
        self._commits = 0
        self.threaded = 0  # statements run in a thread (busy, over budget or slow): for tests and benchmarks
        self.checkpoints = 0  # checkpoints done

    @classmethod
    @asynccontextmanager
    async def open(cls, path: Path) -> AsyncIterator[InlineConnection]:
        def connect() -> sqlite3.Connection:
            # timeout=0: a locked file fails at once on the loop; `_in_thread` waits with busy_timeout instead.
            connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=0)
            connection.row_factory = sqlite3.Row
            return connection

        def set_up(connection: sqlite3.Connection, checkpointer: sqlite3.Connection) -> None:
            connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")  # another process may be writing now
            for pragma in _PRAGMAS:
                _when_unlocked(connection, pragma)
            connection.execute("PRAGMA wal_autocheckpoint=0")  # `checkpoint` does it, off the loop
            connection.execute("PRAGMA busy_timeout=0")
            checkpointer.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")

        connection = await anyio.to_thread.run_sync(connect)
        try:
            checkpointer = await anyio.to_thread.run_sync(connect)
            try:
                await anyio.to_thread.run_sync(set_up, connection, checkpointer)
                yield cls(connection, checkpointer)
            finally:
                with anyio.CancelScope(shield=True):
                    await anyio.to_thread.run_sync(checkpointer.close)
        finally:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(connection.close)

    async def begin(self) -> None:
        self._spent, self._began_cpu, self._over_budget = 0.0, time.thread_time(), False
        await self.run("BEGIN IMMEDIATE", retry_busy=True)

    async def commit(self) -> bool:
        """Commit; True when a checkpoint is due."""
        await self.run("COMMIT", retry_busy=True)
        self._commits += 1
        return self._commits % CHECKPOINT_EVERY == 0

    async def rollback(self) -> None:
        await self.run("ROLLBACK")

    async def run(
        self, sql: str, params: tuple[Any, ...] = (), *, many: list[tuple[Any, ...]] | None = None,
        fetch: bool = False, retry_busy: bool = False,
    ) -> Any:
        """Run `sql` (with `params`, or once per row of `many`) on the loop, or in a thread when it is
        slow, over the transaction's budget, or (`retry_busy`: BEGIN, COMMIT) finds the file locked.
        Returns the rows with `fetch`, else the number of rows changed.

        Inside a transaction only BEGIN and COMMIT may be retried after SQLITE_BUSY; SQLite asks that any
        other statement failing so be followed by a rollback, which the transaction does."""
        def call() -> Any:
            db = self.connection
            cursor = db.executemany(sql, many) if many is not None else db.execute(sql, params)
            return cursor.fetchall() if fetch else cursor.rowcount

        runs_left = self._slow.get(sql)
        if runs_left:
            self._slow[sql] = runs_left - 1
        elif not self._over_budget:
            start = time.perf_counter()
            try:
                return call()
            except sqlite3.OperationalError as exc:
                if not (retry_busy and _is_busy(exc)):
                    raise
            finally:
                took = time.perf_counter() - start
                self._spent += took
                if took > _SLOW_S or self._spent > _INLINE_BUDGET_S:
                    # The clock says so; the thread's CPU time decides (on a busy machine the loop is preempted).
                    cpu = time.thread_time() - self._began_cpu
                    self._over_budget = cpu > _INLINE_BUDGET_S
                    if took > _SLOW_S and cpu > _SLOW_S:
                        self._slow[sql] = _SLOW_RUNS
        self.threaded += 1
        return await anyio.to_thread.run_sync(self._in_thread, call)

    def _in_thread(self, call: Callable[[], T]) -> T:
        """`call()` waiting up to busy_timeout for another process's lock, as a worker thread may."""
        self.connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        try:
            return call()
        finally:
            self.connection.execute("PRAGMA busy_timeout=0")

    async def checkpoint(self) -> None:
        """Copy the WAL into the database file (PASSIVE), in a thread; the caller keeps writers out meanwhile."""
        try:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(self._checkpointer.execute, "PRAGMA wal_checkpoint(PASSIVE)")
            self.checkpoints += 1
        except sqlite3.Error as exc:  # e.g. a full disk: the WAL keeps the data, the next checkpoint retries
            log.warning("sqlite checkpoint failed (%s); the next one retries", exc)


def _when_unlocked(connection: sqlite3.Connection, sql: str) -> None:
    """Run `sql`, retrying for up to `BUSY_TIMEOUT_MS` while the file is locked. Switching a new file to WAL fails
    at once with "database is locked" while another connection does the same (SQLite calls no busy handler
    there), as when two servers start on one fresh data dir."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    pause = 0.002
    while True:
        try:
            connection.execute(sql)
            return
        except sqlite3.OperationalError as exc:
            if not _is_busy(exc) or time.monotonic() > deadline:
                raise
        time.sleep(pause)  # a worker thread, not the event loop
        pause = min(pause * 2, 0.05)


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    """Whether SQLite refused because another connection holds the lock (SQLITE_BUSY)."""
    code = getattr(exc, "sqlite_errorcode", None)  # the extended code: SQLITE_BUSY in its low byte
    return code & 0xFF == sqlite3.SQLITE_BUSY if code is not None else "locked" in str(exc)


class SqliteWriter:
    """The handle a transaction yields: reads and writes on the writer connection (`InlineConnection`)."""

    def __init__(self, connection: InlineConnection) -> None:
        self._connection = connection

    async def lock(self, key: str) -> None:
        """Nothing to do: the transaction holds SQLite's one write lock already."""

    async def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """Run one statement; return the number of rows it changed."""
        changed: int = await self._connection.run(sql, tuple(params))
        return changed

    async def defer(self, sql: str, params: Iterable[Any] = ()) -> None:
        """Run a statement whose row count nobody reads: here, now (there is no round trip to save)."""
        await self.execute(sql, params)

    async def execute_many(self, sql: str, rows: Iterable[Iterable[Any]]) -> None:
        """Run one statement per row; no rows, no round trip."""
        if batch := [tuple(row) for row in rows]:
            await self._connection.run(sql, many=batch)

    async def fetch_one(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        rows = await self.fetch_all(sql, params)
        return rows[0] if rows else None

    async def fetch_all(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        rows: list[Row] = await self._connection.run(sql, tuple(params), fetch=True)
        return rows
