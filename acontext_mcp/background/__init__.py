"""Background loops that drain database-backed queues, and a helper to run them beside a service."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import anyio

Loop = Callable[..., Awaitable[Any]]


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
