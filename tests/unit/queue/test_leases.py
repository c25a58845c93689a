"""Leases on queue items between two processes: two `Database` handles on one database, each with its own owner."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import anyio
import pytest
from anyio.abc import TaskStatus

from acontext_mcp.queue.leases import LeaseLost, Leases
from acontext_mcp.store.database import Database, utc_now
from acontext_mcp.store.engines import open_database
from acontext_mcp.store.migrations import migrate
from tests.support.mcp import eventually

pytestmark = pytest.mark.anyio

Pair = tuple[Database, Database]


@pytest.fixture
async def pair(tmp_path: Path, database_url: str | None) -> AsyncIterator[Pair]:
    """Two connections to one migrated database (on each engine), as two replicas have."""
    target = database_url or tmp_path / "shared.db"
    async with AsyncExitStack() as stack:
        first = await stack.enter_async_context(open_database(target))
        await migrate(first)
        second = await stack.enter_async_context(open_database(target))
        yield first, second


async def owners(leases: Leases, queue: str) -> dict[str, str]:
    return {key: lease.owner for key, lease in (await leases.held(queue)).items()}


async def lease_until(db: Database, queue: str, key: str) -> str:
    row = await db.fetch_one("SELECT lease_until FROM queue_leases WHERE queue = ? AND item_key = ?", (queue, key))
    assert row is not None
    return str(row["lease_until"])


async def test_a_claimed_item_is_not_claimed_again(pair: Pair) -> None:
    a, b = Leases(pair[0]), Leases(pair[1])
    assert await a.claim("q", ["s1", "s2"]) == ["s1", "s2"]
    assert await b.claim("q", ["s2", "s3", "s1", "s4"]) == ["s3", "s4"]
    assert await a.claim("q", ["s1"]) == []  # not even by its owner: a claim is one worker's
    assert await owners(a, "q") == {"s1": a.owner, "s2": a.owner, "s3": b.owner, "s4": b.owner}
    assert await owners(b, "other") == {}


async def test_claim_takes_at_most_limit_in_the_given_order(pair: Pair) -> None:
    a, b = Leases(pair[0]), Leases(pair[1])
    assert await a.claim("q", ["k3", "k1", "k2"], limit=2) == ["k3", "k1"]
    assert await b.claim("q", ["k1", "k2", "k3"], limit=1) == ["k2"]
    assert await b.claim("q", ["k1", "k2", "k3"], limit=0) == []
    assert await b.claim("q", [], limit=4) == []
    assert await a.claim("q", ["k4", "k4"]) == ["k4"]


async def test_a_released_item_is_free_but_only_its_owner_releases_it(pair: Pair) -> None:
    a, b = Leases(pair[0]), Leases(pair[1])
    await a.claim("q", ["s1"])
    await b.release("q", "s1")
    assert await b.claim("q", ["s1"]) == []
    await a.release("q", "s1")
    assert await a.held("q") == {}
    assert await b.claim("q", ["s1"]) == ["s1"]


async def test_renewing_keeps_the_lease_and_fails_for_others(pair: Pair) -> None:
    a, b = Leases(pair[0], lease_s=30), Leases(pair[1], lease_s=30)
    await a.claim("q", ["s1"])
    before = await lease_until(pair[0], "q", "s1")
    assert await a.renew("q", "s1") is True
    assert await lease_until(pair[1], "q", "s1") > before
    assert await b.renew("q", "s1") is False
    assert await lease_until(pair[1], "q", "s1") > before


async def test_an_expired_lease_is_taken_over_and_its_old_owner_cannot_acknowledge(pair: Pair) -> None:
    dead, alive = Leases(pair[0], lease_s=0.3), Leases(pair[1], lease_s=30)
    assert await dead.claim("q", ["s1"]) == ["s1"]
    assert await alive.claim("q", ["s1"]) == []

    async def taken_over() -> bool:
        return await alive.claim("q", ["s1"]) == ["s1"]

    await eventually(taken_over, timeout=5, what="the lease to expire")
    assert await owners(alive, "q") == {"s1": alive.owner}
    assert await dead.renew("q", "s1") is False
    async with pair[0].transaction() as tx:
        await tx.execute("CREATE TABLE acked (x INTEGER)")
    with pytest.raises(LeaseLost, match="ran out"):
        async with pair[0].transaction() as tx:
            await tx.execute("INSERT INTO acked (x) VALUES (1)")
            await dead.confirm(tx, "q", "s1")
    assert await pair[1].fetch_all("SELECT x FROM acked") == []  # the acknowledgement rolled back
    async with pair[1].transaction() as tx:
        await alive.confirm(tx, "q", "s1")


async def test_kept_renews_the_lease_past_its_length_then_releases_it(pair: Pair) -> None:
    worker, other = Leases(pair[0], lease_s=1.0), Leases(pair[1])
    await worker.claim("q", ["s1"])
    first = await lease_until(pair[0], "q", "s1")
    async with worker.kept("q", "s1"):

        async def first_expiry_passed() -> bool:
            return utc_now() > first

        await eventually(first_expiry_passed, timeout=5, what="the first expiry to pass")
        assert await other.claim("q", ["s1"]) == []  # renewed meanwhile
        assert await owners(other, "q") == {"s1": worker.owner}
    assert await other.held("q") == {}
    assert await other.claim("q", ["s1"]) == ["s1"]


async def test_hold_is_a_mutex_across_processes(pair: Pair) -> None:
    a, b = Leases(pair[0]), Leases(pair[1])
    order: list[tuple[str, bool]] = []

    async def second(*, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        async with b.hold("space", "x", timeout_s=10) as got:
            order.append(("b", got))

    async with anyio.create_task_group() as tg, a.hold("space", "x", timeout_s=1) as got_a:
        async with b.hold("space", "x", timeout_s=0.2) as got_b:
            assert (got_a, got_b) == (True, False)  # b gave up waiting, holding nothing
        assert await owners(b, "space") == {"x": a.owner}
        await tg.start(second)
        order.append(("a", got_a))
    assert order == [("a", True), ("b", True)]
    assert await a.held("space") == {}
