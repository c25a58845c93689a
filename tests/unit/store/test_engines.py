"""The storage interface on both engines: what services rely on, and how PostgreSQL is told SQLite's dialect."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import anyio
import pytest

from acontext_mcp import Settings
from acontext_mcp.errors import Unavailable
from acontext_mcp.store.database import Database, shown
from acontext_mcp.store.engines import open_database
from acontext_mcp.store.migrations import MIGRATIONS, current_version, migrate
from acontext_mcp.store.postgres import PostgresDatabase, _inlined, to_postgres
from tests.support.mcp import eventually

pytestmark = pytest.mark.anyio


@pytest.fixture
def target(tmp_path: Path, database_url: str | None) -> str | Path:
    return database_url or tmp_path / "shared.db"


@pytest.fixture
async def db(target: str | Path) -> AsyncIterator[Database]:
    async with open_database(target) as opened:
        await migrate(opened)
        yield opened


def test_placeholders_are_numbered_outside_string_literals() -> None:
    assert to_postgres("SELECT ? , '?', 'it''s ?', ? WHERE x = ?") == "SELECT $1 , '?', 'it''s ?', $2 WHERE x = $3"


def test_sqlite_ddl_becomes_postgresql_ddl() -> None:
    ddl = PostgresDatabase.schema("CREATE TABLE t (\n  id INTEGER PRIMARY KEY AUTOINCREMENT,\n  n INTEGER, s TEXT)")
    assert ddl == ('CREATE TABLE t ( rowid BIGSERIAL NOT NULL,\n  id BIGSERIAL PRIMARY KEY,\n'
                   '  n BIGINT, s TEXT COLLATE "C")')
    assert PostgresDatabase.schema("ALTER TABLE t ADD COLUMN p TEXT") == 'ALTER TABLE t ADD COLUMN p TEXT COLLATE "C"'
    function = "CREATE FUNCTION f(x TEXT) RETURNS INT LANGUAGE sql AS 'SELECT 1'"
    assert PostgresDatabase.schema(function) == function


def test_shown_urls_and_settings_hide_their_password() -> None:
    settings = Settings(database_url="postgresql://acx:s3cret@db:5432/acx")
    assert "s3cret" not in repr(settings) and "s3cret" not in str(settings.model_dump())
    assert settings.database == "postgresql://acx:s3cret@db:5432/acx"
    assert shown("postgresql://acx:s3cret@db:5432/acx") == "postgresql://acx:***@db:5432/acx"
    assert shown("postgresql://acx@db/acx") == "postgresql://acx@db/acx"
    assert shown("postgresql://acx@db/acx?sslmode=require&password=s3cret") == (
        "postgresql://acx@db/acx?sslmode=require&password=***"
    )


async def test_both_engines_agree_on_rows_sums_and_rowcounts(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute_many("INSERT INTO disks (id, name, created_at, project_id) VALUES (?, ?, ?, 'p')",
                              [(f"d{i}", f"disk {i}", f"2026-01-0{i}") for i in range(1, 4)])
        changed = await tx.execute("UPDATE disks SET name = ? WHERE id IN (?, ?)", ("renamed", "d1", "d2"))
    assert changed == 2
    row = await db.fetch_one("SELECT COUNT(*) AS n, SUM(length(name)) AS chars FROM disks WHERE project_id = ?", ("p",))
    assert row is not None and (row["n"], row["chars"]) == (3, 2 * len("renamed") + len("disk 3"))
    assert type(row["chars"]) is int  # PostgreSQL's SUM is numeric: it must not come back as a Decimal
    ordered = await db.fetch_all("SELECT id FROM disks WHERE project_id = ? ORDER BY rowid", ("p",))
    assert [r["id"] for r in ordered] == ["d1", "d2", "d3"]  # rowid is insertion order on both


async def test_a_failed_transaction_leaves_nothing(db: Database) -> None:
    with pytest.raises(ValueError):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO disks (id, name, created_at, project_id) VALUES ('x', 'x', 'now', 'p')")
            raise ValueError("boom")
    assert await db.fetch_all("SELECT id FROM disks") == []


async def test_a_lock_holds_other_handles_until_the_commit(target: str | Path, db: Database) -> None:
    """Two handles, as two replicas: the second waits for the key the first holds, then sees its write."""
    async with open_database(target) as other:
        seen: list[int] = []
        async with anyio.create_task_group() as tg, db.transaction() as tx:
            await tx.lock("space:s1")
            await tx.execute("INSERT INTO disks (id, name, created_at, project_id) VALUES ('d', 'd', 'now', 'p')")

            async def second() -> None:
                async with other.transaction() as tx2:
                    await tx2.lock("space:s1")
                    row = await tx2.fetch_one("SELECT COUNT(*) AS n FROM disks")
                    seen.append(row["n"] if row else -1)

            tg.start_soon(second)
            if isinstance(db, PostgresDatabase):
                async def waiting() -> bool:
                    row = await db.fetch_one(
                        "SELECT COUNT(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                        "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                    )
                    return row is not None and row["n"] == 1

                await eventually(waiting, timeout=10, what="the second handle to wait for the lock")
            else:  # SQLite: one writer at a time, so the second transaction cannot even begin
                await anyio.wait_all_tasks_blocked()
            assert seen == []
    assert seen == [1]  # it ran after the first committed, not beside it


async def test_replicas_starting_together_migrate_once(target: str | Path) -> None:
    async with AsyncExitStack() as stack:
        handles = [await stack.enter_async_context(open_database(target)) for _ in range(3)]
        applied: list[int] = []

        async def start(handle: Database) -> None:
            applied.append(len(await migrate(handle)))

        async with anyio.create_task_group() as tg:
            for handle in handles:
                tg.start_soon(start, handle)
        assert sum(applied) == len(MIGRATIONS)  # each migration once, by whichever got there first
        assert {await current_version(h) for h in handles} == {max(m.version for m in MIGRATIONS)}


@pytest.fixture
def postgres_url(database_url: str | None) -> str:
    if database_url is None:
        pytest.skip("PostgreSQL only: SQLite runs one writer at a time and waits out its busy timeout")
    return database_url


async def test_postgres_runs_a_process_transactions_side_by_side(postgres_url: str) -> None:
    """A transaction holding a lock does not hold up another one of the same process on another key."""
    async with open_database(postgres_url) as db:
        await migrate(db)
        other_done = anyio.Event()

        async def other() -> None:
            async with db.transaction() as tx:
                await tx.lock("session:b")
                await tx.execute("INSERT INTO disks (id, name, created_at, project_id) VALUES ('b', 'b', 'now', 'p')")
            other_done.set()

        async with anyio.create_task_group() as tg, db.transaction() as tx:
            await tx.lock("session:a")
            tg.start_soon(other)
            with anyio.fail_after(60):  # a deadline for a loaded machine: serialised, this would never end
                await other_done.wait()
        assert [r["id"] for r in await db.fetch_all("SELECT id FROM disks ORDER BY id")] == ["b"]


async def test_a_stuck_lock_holder_fails_the_waiter_clearly_instead_of_stalling_it(postgres_url: str) -> None:
    """One replica holds a session's lock and hangs; another, with a lock timeout, gets a clear error, not a hang."""
    async with open_database(postgres_url) as stuck, open_database(postgres_url, lock_timeout_s=0.2) as waiter:
        await migrate(stuck)
        release = anyio.Event()
        holding = anyio.Event()

        async def hold() -> None:
            async with stuck.transaction() as tx:
                await tx.lock("session:s1")
                holding.set()
                await release.wait()

        async with anyio.create_task_group() as tg:
            tg.start_soon(hold)
            await holding.wait()
            with anyio.fail_after(60), pytest.raises(Unavailable) as caught:
                async with waiter.transaction() as tx:
                    await tx.execute("INSERT INTO disks (id, name, created_at, project_id) "
                                     "VALUES ('w', 'w', 'now', 'p')")
                    await tx.lock("session:s1")
            release.set()
        assert str(caught.value) == (
            "the database lock 'session:s1' stayed held by another transaction (another replica's or this one's) "
            "past the lock timeout of 0.2 s (ACONTEXT_DB_LOCK_TIMEOUT_S); try again")
        assert await waiter.fetch_all("SELECT id FROM disks") == []  # the waiter's transaction was rolled back
        async with waiter.transaction() as tx:  # and its connection is fine for the next one
            await tx.lock("session:s1")


async def test_a_replica_starting_during_a_long_migration_waits_past_the_lock_timeout(postgres_url: str) -> None:
    """The migration lock is the one wait with no lock timeout: another replica's migration may take minutes."""
    async with open_database(postgres_url) as running, open_database(postgres_url, lock_timeout_s=0.2) as starting:
        await migrate(running)
        release, holding, done = anyio.Event(), anyio.Event(), anyio.Event()

        async def hold() -> None:
            async with running.transaction() as tx:
                await tx.lock("acontext-mcp migrations")
                holding.set()
                await release.wait()

        async def start() -> None:
            await migrate(starting)
            done.set()

        async def waited_past_the_timeout() -> bool:
            return bool(await running.fetch_one(
                "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
                " AND now() - query_start > interval '1 second'"))

        async with anyio.create_task_group() as tg:
            tg.start_soon(hold)
            await holding.wait()
            tg.start_soon(start)
            await eventually(waited_past_the_timeout, 60, "the starting replica to wait on the migration lock")
            assert not done.is_set()
            release.set()
            with anyio.fail_after(60):
                await done.wait()


def test_deferred_values_go_inline_only_as_safe_literals() -> None:
    sql = "INSERT INTO t (a, b, c, d) VALUES (?, ?, ?, '?')"
    assert _inlined(sql, ("it's", 7, None)) == "INSERT INTO t (a, b, c, d) VALUES (('it''s'), (7), NULL, '?')"
    assert _inlined("SELECT 1 -?, E?", (-1.5, "\\n")) == "SELECT 1 -(-1.5), E('\\n')"
    for unsafe in ("nul\x00", True, float("nan"), b"bytes", object()):
        assert _inlined("SELECT ?", (unsafe,)) is None
    assert _inlined("SELECT ?, ?", (1,)) is None and _inlined("SELECT ?", (1, 2)) is None


async def test_deferred_statements_land_at_the_commit_or_not_at_all(db: Database) -> None:
    insert = "INSERT INTO disks (id, name, created_at, project_id) VALUES (?, ?, ?, ?)"
    async with db.transaction() as tx:
        await tx.defer(insert, ("d1", "it's", "now", "p"))
        row = await tx.fetch_one("SELECT name FROM disks WHERE id = 'd1'")  # a later read sees it
        assert row is not None and row["name"] == "it's"
        await tx.defer(insert, ("d2", "two", "now", "p"))
    with pytest.raises(Exception, match="(?i)unique"):  # the duplicate id fails at the commit, and rolls back
        async with db.transaction() as tx:
            await tx.defer(insert, ("d3", "three", "now", "p"))
            await tx.defer(insert, ("d1", "again", "now", "p"))
    assert [r["id"] for r in await db.fetch_all("SELECT id FROM disks ORDER BY id")] == ["d1", "d2"]
    async with db.transaction() as tx:  # the connection is fine afterwards
        await tx.defer(insert, ("d4", "four", "now", "p"))
    assert len(await db.fetch_all("SELECT id FROM disks")) == 3
