"""The loop that drains a durable work queue: due items run concurrently, bounded, each key once at a time.

The loop sleeps until something changes (work queued, an item done, a flush) or the next item's
backoff timer is up; `WorkQueue.process` records failures, so one bad item never stops the loop.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

import anyio
from anyio.abc import TaskStatus

if TYPE_CHECKING:
    from acontext_mcp.services.queue import WorkQueue

log = logging.getLogger(__name__)


class QueueLoop:
    def __init__(self, queue: WorkQueue, concurrency: int = 4) -> None:
        self._queue = queue
        self._limiter = anyio.CapacityLimiter(concurrency)

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        async with anyio.create_task_group() as tg:
            task_status.started()
            while True:
                changed = self._queue.changes()
                due, wait_s = await self._queue.schedule()
                for key in due:
                    self._queue.claim(key)
                    tg.start_soon(self._item, key)
                with anyio.move_on_after(math.inf if wait_s is None else wait_s):
                    await changed.wait()

    async def _item(self, key: str) -> None:
        try:
            async with self._limiter:
                await self._queue.process(key)
        except Exception:  # process() records failures; this is the store failing too
            log.exception("%s %s: could not record the outcome", self._queue.name, key)
