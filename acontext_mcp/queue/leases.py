"""Leases: which process works on which queue item, so replicas sharing a database split the work.

A claim is a `queue_leases` row naming its owner (a random id per process) and an expiry. Taking
one locks the row (`SELECT ... FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent claimers pass
over each other; SQLite serialises writers anyway) and only takes rows whose lease has run out. The
owner renews its leases while it works (`kept`) and deletes them when done; a process that dies
stops renewing, and its items are anyone's again after `lease_s`. An acknowledgement checks, in its
own transaction, that the lease is still held (`confirm`), so work whose lease was taken over is
rolled back rather than applied twice. Leases compare the replicas' clocks: keep them in sync (NTP).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

import anyio
from pydantic import BaseModel, Field

from acontext_mcp.store.database import Database, Writer, new_id, utc_now

log = logging.getLogger(__name__)

MAX_CANDIDATES = 500  # keys one claim looks at, well under the databases' limits on parameters
_WAIT_STEP_S = 0.05  # how often `hold` looks again for a lease someone else has


class QueueLease(BaseModel):
    """A queue item some server process (replica) works on right now."""

    key: str = Field(description="The item: a session id for the observer, a learning item id for the learner")
    owner: str = Field(description="The replica working on it (its `replica` id in the status)")
    lease_until: str = Field(description="When other replicas may take it over unless the owner renews the lease")


class LeaseLost(Exception):
    """This process's lease on an item ran out and another took the item over."""


class Leases:
    """Claims on queue items for one process (`owner`), lasting `lease_s` seconds unless renewed."""

    def __init__(self, db: Database, lease_s: float = 60.0) -> None:
        self._db = db
        self.lease_s = lease_s
        self.owner = new_id()

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[Writer]:
        """A short write shielded from cancellation, which could cut it off mid-statement inside a transaction."""
        with anyio.CancelScope(shield=True):
            async with self._db.transaction() as tx:
                yield tx

    def _until(self) -> str:
        return (datetime.now(UTC) + timedelta(seconds=self.lease_s)).isoformat(timespec="microseconds")

    async def claim(self, queue: str, keys: Sequence[str], limit: int | None = None) -> list[str]:
        """Take the leases of those `keys` nobody holds (at most `limit`, in the given order); return them.

        Looks at the first `MAX_CANDIDATES` keys only; callers pass the ones no lease is known to hold.
        """
        keys = list(dict.fromkeys(keys))[:MAX_CANDIDATES]
        if not keys or limit == 0:
            return []
        async with self._transaction() as tx:
            marks = ",".join("?" * len(keys))
            taken = await tx.fetch_all(
                f"SELECT item_key FROM queue_leases WHERE queue = ? AND item_key IN ({marks}) AND lease_until >= ?",
                (queue, *keys, utc_now()),
            )
            busy = {row["item_key"] for row in taken}
            keys = [key for key in keys if key not in busy][:limit]
            if not keys:
                return []
            marks = ",".join("?" * len(keys))
            await tx.execute_many(
                "INSERT INTO queue_leases (queue, item_key, owner, lease_until) VALUES (?, ?, '', '') "
                "ON CONFLICT (queue, item_key) DO NOTHING",
                [(queue, key) for key in sorted(keys)],  # one order for every claimer: no deadlock on PostgreSQL
            )
            rows = await tx.fetch_all(
                f"SELECT item_key FROM queue_leases WHERE queue = ? AND item_key IN ({marks}) AND lease_until < ?"
                f"{self._db.skip_locked}",
                (queue, *keys, utc_now()),
            )
            free = {row["item_key"] for row in rows}
            claimed = [key for key in keys if key in free]
            if claimed:
                await tx.execute(
                    f"UPDATE queue_leases SET owner = ?, lease_until = ? WHERE queue = ? "
                    f"AND item_key IN ({','.join('?' * len(claimed))})",
                    (self.owner, self._until(), queue, *claimed),
                )
        return claimed

    async def renew(self, queue: str, key: str) -> bool:
        """Push the lease's expiry `lease_s` ahead; False if it is no longer ours."""
        async with self._transaction() as tx:
            return await tx.execute(
                "UPDATE queue_leases SET lease_until = ? WHERE queue = ? AND item_key = ? AND owner = ?",
                (self._until(), queue, key, self.owner),
            ) == 1

    async def confirm(self, tx: Writer, queue: str, key: str) -> None:
        """Inside an acknowledging transaction: raise `LeaseLost` unless the lease is still ours.

        The row stays locked until the transaction ends, so no one takes it over in between.
        """
        if not await tx.execute(
            "UPDATE queue_leases SET owner = owner WHERE queue = ? AND item_key = ? AND owner = ?",
            (queue, key, self.owner),
        ):
            raise LeaseLost(f"the lease on {queue} item {key!r} ran out and another process took it over")

    async def release(self, queue: str, key: str) -> None:
        async with self._transaction() as tx:
            await tx.execute(
                "DELETE FROM queue_leases WHERE queue = ? AND item_key = ? AND owner = ?", (queue, key, self.owner)
            )

    async def held(self, queue: str) -> dict[str, QueueLease]:
        """The unexpired leases of a queue, any process's, by item key."""
        rows = await self._db.fetch_all(
            "SELECT item_key, owner, lease_until FROM queue_leases WHERE queue = ? AND lease_until >= ? "
            "ORDER BY item_key",
            (queue, utc_now()),
        )
        return {row["item_key"]: QueueLease(key=row["item_key"], owner=row["owner"], lease_until=row["lease_until"])
                for row in rows}

    @asynccontextmanager
    async def kept(self, queue: str, key: str) -> AsyncIterator[None]:
        """Renew a claimed lease every third of `lease_s` while the body runs; release it after."""

        async def heartbeat() -> None:
            while True:
                await anyio.sleep(self.lease_s / 3)
                try:
                    if not await self.renew(queue, key):
                        log.warning("lost the lease on %s item %s; its acknowledgement will be dropped", queue, key)
                        return
                except Exception:  # a database hiccup: the next beat tries again
                    log.exception("could not renew the lease on %s item %s", queue, key)

        failure: BaseException | None = None
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(heartbeat)
                try:
                    yield
                except BaseException as exc:  # re-raised below as itself, not in an ExceptionGroup
                    failure = exc
                tg.cancel_scope.cancel()
        finally:
            await self.release(queue, key)
        if failure is not None:
            raise failure

    @asynccontextmanager
    async def hold(self, queue: str, key: str, timeout_s: float) -> AsyncIterator[bool]:
        """Wait up to `timeout_s` to claim one lease, keep it while the body runs; yields whether it was got.

        A mutex across processes (and tasks: a lease held here is not taken again here).
        """
        deadline = anyio.current_time() + timeout_s
        while True:
            got = key not in await self.held(queue) and bool(await self.claim(queue, [key]))
            if got or anyio.current_time() >= deadline:
                break
            await anyio.sleep(_WAIT_STEP_S)
        if not got:
            yield False
            return
        async with self.kept(queue, key):
            yield True
