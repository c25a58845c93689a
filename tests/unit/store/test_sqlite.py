"""The SQLite store: transactions, WAL, foreign keys and versioned migrations on a real file."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import anyio
import pytest

from acontext_mcp.store.database import new_id, utc_now
from acontext_mcp.store.migrations import (
    MIGRATIONS,
    Migration,
    current_version,
    migrate,
)
from acontext_mcp.store.sqlite import CHECKPOINT_EVERY, SqliteDatabase

pytestmark = pytest.mark.anyio


class Boom(Exception):
    pass


async def test_pragmas_on_the_file(tmp_path: Path) -> None:
    async with SqliteDatabase.open(tmp_path / "a.db") as db:
        journal = await db.fetch_one("PRAGMA journal_mode")
        foreign_keys = await db.fetch_one("PRAGMA foreign_keys")
    assert journal is not None and journal[0] == "wal"
    assert foreign_keys is not None and foreign_keys[0] == 1


async def test_transaction_commits_or_rolls_back_as_a_whole(tmp_path: Path) -> None:
    async with SqliteDatabase.open(tmp_path / "a.db") as db:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE t (x INTEGER)")
            await tx.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(Boom):
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO t VALUES (2)")
                await tx.execute("INSERT INTO t VALUES (3)")
                raise Boom
        rows = await db.fetch_all("SELECT x FROM t")
    assert [row["x"] for row in rows] == [1]


async def test_nested_transaction_joins_the_outer_one(tmp_path: Path) -> None:
    async with SqliteDatabase.open(tmp_path / "a.db") as db:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE t (x INTEGER)")
        with pytest.raises(Boom):
            async with db.transaction() as outer:
                await outer.execute("INSERT INTO t VALUES (1)")
                async with db.transaction() as inner:
                    await inner.execute("INSERT INTO t VALUES (2)")
                raise Boom
        assert await db.fetch_all("SELECT x FROM t") == []


async def test_ids_and_timestamps() -> None:
    assert len({new_id() for _ in range(100)}) == 100
    assert len(new_id()) == 36
    assert utc_now().endswith("+00:00")


async def test_migrate_creates_then_is_idempotent(tmp_path: Path) -> None:
    async with SqliteDatabase.open(tmp_path / "a.db") as db:
        first = await migrate(db)
        second = await migrate(db)
        version = await current_version(db)
    assert [m.version for m in first] == [m.version for m in MIGRATIONS]
    assert second == []
    assert version == MIGRATIONS[-1].version


async def test_upgrading_an_older_file_keeps_its_data(tmp_path: Path) -> None:
    """A file written by an older release (only migration 1) is upgraded in place."""
    path = tmp_path / "old.db"
    async with SqliteDatabase.open(path) as db:
        await migrate(db, MIGRATIONS[:1])
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO sessions (id, metadata, created_at, updated_at) VALUES ('s1', '{}', ?, ?)",
                (utc_now(), utc_now()),
            )
    newer = (*MIGRATIONS,
             Migration(MIGRATIONS[-1].version + 1, "add_note", ("ALTER TABLE sessions ADD COLUMN note TEXT",)))
    async with SqliteDatabase.open(path) as db:
        applied = await migrate(db, newer)
        row = await db.fetch_one("SELECT id, note FROM sessions")
        versions = [r["version"] for r in await db.fetch_all("SELECT version FROM schema_version ORDER BY version")]
    assert [m.name for m in applied] == [m.name for m in newer[1:]]
    assert row is not None and row["id"] == "s1" and row["note"] is None
    assert versions == [m.version for m in newer]


async def test_a_failing_migration_leaves_the_file_at_the_previous_version(tmp_path: Path) -> None:
    broken = (*MIGRATIONS, Migration(999, "broken", ("CREATE TABLE ok (x)", "NOT SQL")))
    async with SqliteDatabase.open(tmp_path / "a.db") as db:
        with pytest.raises(sqlite3.OperationalError):
            await migrate(db, broken)
        assert await current_version(db) == MIGRATIONS[-1].version
        assert await db.fetch_one("SELECT 1 FROM sqlite_master WHERE name = 'ok'") is None


async def test_foreign_keys_cascade(tmp_path: Path) -> None:
    async with SqliteDatabase.open(tmp_path / "a.db") as db:
        await migrate(db)
        now = utc_now()
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO sessions (id, created_at, updated_at) VALUES ('s', ?, ?)", (now, now))
            await tx.execute(
                "INSERT INTO messages (id, session_id, seq, role, source_format, body, created_at) "
                "VALUES ('m', 's', 1, 'user', 'openai', '{}', ?)",
                (now,),
            )
        with pytest.raises(sqlite3.IntegrityError):
            async with db.transaction() as tx:
                await tx.execute(
                    "INSERT INTO messages (id, session_id, seq, role, source_format, body, created_at) "
                    "VALUES ('m2', 'nope', 1, 'user', 'openai', '{}', ?)",
                    (now,),
                )
        async with db.transaction() as tx:
            await tx.execute("DELETE FROM sessions WHERE id = 's'")
        assert await db.fetch_all("SELECT id FROM messages") == []


async def test_a_write_waits_in_a_thread_while_another_process_holds_the_lock(tmp_path: Path) -> None:
    """SQLITE_BUSY on the event loop: BEGIN is retried in a worker thread that waits for the lock; the loop
    stays free (a read answers meanwhile), and the write commits once the other writer is done."""
    path = tmp_path / "a.db"
    async with SqliteDatabase.open(path) as db:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE t (x INTEGER)")
        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)  # as the CLI's import would
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("INSERT INTO t VALUES (1)")

            async def write() -> None:
                async with db.transaction() as tx:
                    await tx.execute("INSERT INTO t VALUES (2)")

            async with anyio.create_task_group() as group:
                group.start_soon(write)
                with anyio.fail_after(30):
                    while db.writer.threaded == 0:  # the write is waiting in its thread
                        await anyio.sleep(0.01)
                count = await db.fetch_one("SELECT COUNT(*) FROM t")
                assert count is not None and count[0] == 0
                other.execute("COMMIT")
        finally:
            other.close()
        rows = await db.fetch_all("SELECT x FROM t ORDER BY rowid")
    assert [row["x"] for row in rows] == [1, 2]


async def test_a_slow_statement_runs_in_a_thread_next_time_and_rolls_back_there(tmp_path: Path) -> None:
    """A statement that held the loop for long runs in a worker thread from then on; a transaction that
    fails there still rolls back as a whole, and the next one runs on the loop again."""
    slow = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000) SELECT COUNT(*) FROM n"
    async with SqliteDatabase.open(tmp_path / "a.db") as db:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE t (x INTEGER)")
            counted = await tx.fetch_one(slow)  # on the loop: it takes well over the inline budget
        assert counted is not None and counted[0] == 1_000_000
        threaded = db.writer.threaded
        with pytest.raises(Boom):
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO t VALUES (1)")
                await tx.fetch_one(slow)  # in a thread now
                await tx.execute("INSERT INTO t VALUES (2)")
                raise Boom
        assert db.writer.threaded > threaded
        assert await db.fetch_all("SELECT x FROM t") == []
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t VALUES (3)")
        assert [row["x"] for row in await db.fetch_all("SELECT x FROM t")] == [3]


async def test_an_error_in_a_statement_rolls_back_the_whole_transaction(tmp_path: Path) -> None:
    async with SqliteDatabase.open(tmp_path / "a.db") as db:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE t (x INTEGER UNIQUE)")
        with pytest.raises(sqlite3.IntegrityError):
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO t VALUES (1)")
                await tx.execute_many("INSERT INTO t VALUES (?)", [(2,), (2,)])
        assert await db.fetch_all("SELECT x FROM t") == []
        async with db.transaction() as tx:  # the connection is usable again
            assert await tx.execute("INSERT INTO t VALUES (1)") == 1


async def test_commits_are_checkpointed_into_the_database_file(tmp_path: Path) -> None:
    """The writer does not checkpoint on the loop; a task does, so the WAL does not grow without end."""
    path = tmp_path / "a.db"
    async with SqliteDatabase.open(path) as db:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE t (x INTEGER)")
        for i in range(CHECKPOINT_EVERY):
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO t VALUES (?)", (i,))
        with anyio.fail_after(30):
            while db.writer.checkpoints == 0:
                await anyio.sleep(0.01)
        count = await db.fetch_one("SELECT COUNT(*) FROM t")
    assert count is not None and count[0] == CHECKPOINT_EVERY


async def test_a_steady_stream_of_writes_keeps_the_wal_bounded(tmp_path: Path) -> None:
    """A caller writing in a loop (never yielding otherwise) still lets each checkpoint run, between two
    transactions, so the WAL starts over instead of growing with everything ever written."""
    path = tmp_path / "a.db"
    row = "x" * 4096
    async with SqliteDatabase.open(path) as db:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE t (x TEXT)")
        for _ in range(4 * CHECKPOINT_EVERY):
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO t VALUES (?)", (row,))
        assert db.writer.checkpoints >= 3  # each one ran before the next transaction could start
        wal, database = path.with_name(f"{path.name}-wal").stat().st_size, path.stat().st_size
    assert wal < database  # about the last interval's writes, not all of them


async def test_connections_opening_a_new_file_at_once_all_open(tmp_path: Path) -> None:
    """Switching a new file to WAL fails at once with "database is locked" while another connection does the
    same (SQLite calls no busy handler there): two servers starting on one fresh data dir must both open."""
    async def open_one(path: Path) -> None:
        async with SqliteDatabase.open(path) as db:
            journal = await db.fetch_one("PRAGMA journal_mode")
        assert journal is not None and journal[0] == "wal"

    for attempt in range(25):
        async with anyio.create_task_group() as group:
            for _ in range(4):
                group.start_soon(open_one, tmp_path / f"race{attempt}.db")
