"""The container opens in the background (glue.opening): a client's handshake does not wait for it, a call
waits until it is open, and a container that cannot open answers every request that needs it with why."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.shared.exceptions import MCPError

from acontext_mcp import Container, Settings
from acontext_mcp.errors import Unavailable
from acontext_mcp.glue import Opening
from acontext_mcp.server import build_server
from tests.support.mcp import call

pytestmark = pytest.mark.anyio


async def test_the_handshake_and_lists_are_answered_before_the_container_opens(data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir)
    released, call_arrived = anyio.Event(), anyio.Event()

    @asynccontextmanager
    async def provide() -> AsyncIterator[Container]:
        await released.wait()  # the database "opens" only when the test says so
        async with Container.open(settings) as container:
            yield container

    async def arrived(ctx: ServerRequestContext[Opening, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == "tools/call":
            call_arrived.set()
        return await call_next(ctx)

    server = build_server(settings, provide)
    server.middleware.insert(0, arrived)  # outside project_scope, which holds the call until the container is open
    async with Client(server) as client:  # initialize answered
        assert len((await client.list_tools()).tools) == 52
        assert (await client.list_prompts()).prompts
        assert (await client.list_resource_templates()).resource_templates
        created: dict[str, str] = {}

        async def create() -> None:
            created.update(await call(client, "create_session"))

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(create)
            await call_arrived.wait()
            assert not created
            released.set()
        assert created["id"]


async def test_a_container_that_cannot_open_answers_each_request_that_needs_it_with_why(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(data_dir=data_dir)
    why = "cannot open the database postgresql://acx:***@db/acontext: refused; check ACONTEXT_DATABASE_URL"

    @asynccontextmanager
    async def provide() -> AsyncIterator[Container]:
        raise Unavailable(why)
        yield  # an async generator, as a provider is

    async with Client(build_server(settings, provide)) as client:
        assert len((await client.list_tools()).tools) == 52
        for _ in range(2):  # every call, not only the first
            with pytest.raises(MCPError, match="cannot open the database postgresql://acx:\\*\\*\\*@db/acontext"):
                await client.call_tool("create_session", {})
        with pytest.raises(MCPError, match="cannot open the database"):
            await client.read_resource("session://abc/messages")
    assert [record.getMessage() for record in caplog.records if record.levelname == "ERROR"] == [why]
