"""A read after a committed write sees it, even while other tasks read concurrently."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from acontext_mcp.store.sqlite import SqliteDatabase

pytestmark = pytest.mark.anyio


async def test_reads_see_every_committed_write_under_concurrent_readers(tmp_path: Path) -> None:
    async with SqliteDatabase.open(tmp_path / "race.db") as db:
        async with db.transaction() as tx:
            await tx.execute("CREATE TABLE t (n INTEGER)")
            await tx.execute_many("INSERT INTO t VALUES (?)", [(i,) for i in range(500)])
        seen: list[tuple[int, int]] = []
        writing = True

        async def reader() -> None:
            while writing:  # fetch_one leaves a multi-row statement unfinished until its cursor closes
                await db.fetch_one("SELECT n FROM t ORDER BY n")

        async def writer() -> None:
            nonlocal writing
            for i in range(1, 201):
                async with db.transaction() as tx:
                    await tx.execute("INSERT INTO t VALUES (-1)")
                row = await db.fetch_one("SELECT COUNT(*) AS c FROM t")
                assert row is not None
                seen.append((500 + i, row["c"]))
            writing = False

        with anyio.fail_after(60):
            async with anyio.create_task_group() as group:
                for _ in range(4):
                    group.start_soon(reader)
                group.start_soon(writer)
    stale = [(expected, got) for expected, got in seen if got != expected]
    assert not stale, f"{len(stale)} of {len(seen)} reads missed a committed write, e.g. {stale[:3]}"
