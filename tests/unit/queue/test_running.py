"""`running`: background loops beside a body, stopped when it ends, errors surfaced as themselves."""

from __future__ import annotations

import anyio
import pytest
from anyio.abc import TaskStatus

from acontext_mcp.queue.loop import running

pytestmark = pytest.mark.anyio


async def test_loops_run_during_the_body_and_stop_after() -> None:
    state: list[str] = []

    async def loop(*, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        state.append("started")
        task_status.started()
        try:
            await anyio.sleep_forever()
        finally:
            state.append("stopped")

    async with running(loop, loop):
        assert state == ["started", "started"]
    assert state == ["started", "started", "stopped", "stopped"]


async def test_a_body_error_comes_out_unwrapped() -> None:
    async def loop(*, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        await anyio.sleep_forever()

    with pytest.raises(KeyError, match="boom"):
        async with running(loop):
            raise KeyError("boom")


async def test_a_crashed_loop_surfaces() -> None:
    crashed = anyio.Event()

    async def loop(*, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        task_status.started()
        crashed.set()
        raise RuntimeError("loop crashed")

    with pytest.raises(ExceptionGroup) as raised:
        async with running(loop):
            await crashed.wait()
            await anyio.sleep_forever()
    assert raised.group_contains(RuntimeError, match="loop crashed")
