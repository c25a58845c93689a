"""Call tools through a real MCP client and unwrap their results."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from mcp import Client


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    """Call a tool that must succeed; return its structured result."""
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, f"{tool} failed: {result.content[0].text}"  # type: ignore[union-attr]
    assert result.structured_content is not None
    return result.structured_content


async def call_error(client: Client, tool: str, **arguments: Any) -> str:
    """Call a tool that must fail; return the error text the client sees."""
    result = await client.call_tool(tool, arguments)
    assert result.is_error, f"{tool} unexpectedly succeeded: {result.structured_content}"
    return result.content[0].text  # type: ignore[union-attr]


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float, what: str) -> None:
    """Await `check()` until it is true; fail after `timeout` seconds. For async code that has no event to wait on."""
    with anyio.move_on_after(timeout) as scope:
        while not await check():
            await anyio.sleep(0.02)
    if scope.cancelled_caught:
        raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
