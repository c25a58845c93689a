"""The loop that drains a durable work queue: due items run concurrently, bounded, each key once at a time.

Each round leases as many due items as there are free slots (`concurrency`), so replicas sharing
the database split the work, and starts them. The loop then sleeps until something changes in this
process (work queued, an item done, a flush), the next item's backoff timer is up, or `poll_s` has
passed (work queued by another process wakes nothing here). `WorkQueue.process` records failures,
so one bad item never stops the loop; a store error is logged and retried on the next round.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any

import anyio
from anyio.abc import TaskStatus

from acontext_mcp.queue.work import WorkQueue

log = logging.getLogger(__name__)


class QueueLoop:
    def __init__(self, queue: WorkQueue, concurrency: int = 4) -> None:
        self._queue = queue
        self._concurrency = concurrency

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        async with anyio.create_task_group() as tg:
            task_status.started()
            while True:
                changed = self._queue.changes()
                wait_s = self._queue.poll_s
                try:
                    due, next_s = await self._queue.schedule()
                    free = self._concurrency - self._queue.in_progress
                    for key in await self._queue.claim(due, free) if due and free > 0 else []:
                        tg.start_soon(self._item, key)
                    wait_s = min(wait_s, next_s if next_s is not None else wait_s)
                except Exception:  # e.g. the database busy or unreachable: try again next round
                    log.exception("%s: could not claim work", self._queue.log_label)
                with anyio.move_on_after(wait_s):
                    await changed.wait()

    async def _item(self, key: str) -> None:
        try:
            await self._queue.process(key)
        except Exception:  # process() records failures; this is the store failing too
            log.exception("%s %s: could not record the outcome", self._queue.log_label, key)


Loop = Callable[..., Coroutine[Any, Any, Any]]


@asynccontextmanager
async def running(*loops: Loop) -> AsyncIterator[None]:
    """Run `loops` (each started with `tg.start`) while the body runs; cancel them when it ends.

    An error raised in the body comes out as itself, not wrapped in an ExceptionGroup;
    a loop that crashes surfaces as the task group's error.
    """
    failure: BaseException | None = None
    async with anyio.create_task_group() as tg:
        for loop in loops:
            await tg.start(loop)
        try:
            yield
        except BaseException as exc:  # re-raised below, once the loops are stopped
            failure = exc
        tg.cancel_scope.cancel()
    if failure is not None:
        raise failure
