"""The installed `acontext-mcp` command as a real process: stdio, streamable HTTP, SSE, restarts."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from mcp import Client
from mcp.client.sse import sse_client

from acontext_mcp import __version__
from tests.support.mcp import call, call_error
from tests.support.servers import http_server, stdio_params

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

TOOL_CALL = {
    "role": "assistant",
    "content": None,
    "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "ls", "arguments": "{}"}}],
}
CONVERSATION = [
    {"role": "user", "content": "list files"},
    TOOL_CALL,
    {"role": "tool", "tool_call_id": "c1", "content": "a.txt"},
    {"role": "assistant", "content": "One file: a.txt"},
]


async def store_and_read(client: Client) -> str:
    """Store the conversation, check it reads back in both formats, return the session id."""
    session_id = (await call(client, "create_session", metadata={"via": "test"}))["id"]
    for message in CONVERSATION:
        await call(client, "send_message", session_id=session_id, message=message)
    assert (await call(client, "get_messages", session_id=session_id))["items"] == CONVERSATION
    anthropic = await call(client, "get_messages", session_id=session_id, format="anthropic")
    assert anthropic["items"][1]["content"][0]["type"] == "tool_use"
    assert "not found" in await call_error(client, "get_session", session_id="nope")
    return session_id


async def test_stdio_console_script(data_dir: Path) -> None:
    async with Client(stdio_params(data_dir)) as client:
        assert client.server_info.name == "acontext-mcp"
        assert client.server_info.version == __version__
        session_id = await store_and_read(client)
    assert (data_dir / "acontext.db").is_file()
    # A new process on the same data dir sees everything.
    async with Client(stdio_params(data_dir)) as client:
        assert (await call(client, "get_messages", session_id=session_id))["items"] == CONVERSATION


async def test_streamable_http_and_sse_share_one_store(data_dir: Path) -> None:
    with http_server(data_dir) as server:
        health = httpx.get(f"{server.base_url}/health")
        assert health.json() == {"status": "ok", "version": __version__}
        async with Client(server.mcp_url) as client:
            session_id = await store_and_read(client)
        async with Client(sse_client(server.sse_url)) as client:
            assert (await call(client, "get_messages", session_id=session_id))["items"] == CONVERSATION
            await store_and_read(client)
        async with Client(server.mcp_url) as client:
            assert len((await call(client, "list_sessions"))["items"]) == 2


async def test_acknowledged_writes_survive_kill_9_and_restart(data_dir: Path) -> None:
    with http_server(data_dir) as server:
        async with Client(server.mcp_url) as client:
            session_id = (await call(client, "create_session"))["id"]
            ids = [
                (await call(client, "send_message", session_id=session_id,
                            message={"role": "user", "content": f"m{i}"}))["id"]
                for i in range(25)
            ]
        server.kill()
    with http_server(data_dir) as server:
        async with Client(server.mcp_url) as client:
            page = await call(client, "get_messages", session_id=session_id)
    assert page["message_ids"] == ids
    assert [m["content"] for m in page["items"]] == [f"m{i}" for i in range(25)]


async def test_oversized_http_payload_gets_the_tool_error(data_dir: Path) -> None:
    """Over the message limit but under the HTTP body limit: the client sees our clear error."""
    with http_server(data_dir, ACONTEXT_MAX_MESSAGE_BYTES="2000") as server:
        async with Client(server.mcp_url) as client:
            session_id = (await call(client, "create_session"))["id"]
            error = await call_error(client, "send_message", session_id=session_id,
                                     message={"role": "user", "content": "x" * 5000})
            assert "over the limit of 2000 bytes" in error
            await call(client, "send_message", session_id=session_id, message={"role": "user", "content": "ok"})
