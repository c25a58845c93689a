"""The observer loop: waits for sessions to become due and runs their batches, bounded and in order.

One session's batches never overlap (a session is claimed until its batch ends); different
sessions run concurrently, at most `concurrency` at once. The loop sleeps until something changes
(a message queued, a batch done, a flush) or the next session's idle or backoff timer is up.
"""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

import anyio
from anyio.abc import TaskStatus

if TYPE_CHECKING:
    from acontext_mcp.services.observer import ObserverService

log = logging.getLogger(__name__)


class Observer:
    def __init__(self, service: ObserverService, concurrency: int = 4) -> None:
        self._service = service
        self._limiter = anyio.CapacityLimiter(concurrency)

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        async with anyio.create_task_group() as tg:
            task_status.started()
            while True:
                changed = self._service.changes()
                due, wait_s = await self._service.schedule()
                for session_id in due:
                    self._service.claim(session_id)
                    tg.start_soon(self._batch, session_id)
                with anyio.move_on_after(math.inf if wait_s is None else wait_s):
                    await changed.wait()

    async def _batch(self, session_id: str) -> None:
        try:
            async with self._limiter:
                await self._service.process(session_id)
        except Exception:  # process() records batch failures; this is the store failing too
            log.exception("observer could not record the outcome of session %s's batch", session_id)
