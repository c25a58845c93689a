"""Stateless streamable HTTP over a real server process: no request depends on an earlier one's session."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from mcp import Client

from tests.support.mcp import call
from tests.support.servers import http_server

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def list_tools(url: str, session_id: str) -> httpx.Response:
    """A bare tools/list carrying a session id no process issued (as after a load balancer switched replicas)."""
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    return httpx.post(url, json=body, headers={**HEADERS, "Mcp-Session-Id": session_id}, timeout=10)


def result_of(response: httpx.Response) -> dict:
    """The JSON-RPC result of a plain JSON or one-event SSE response."""
    text = response.text
    if response.headers["content-type"].startswith("text/event-stream"):
        text = next(line[5:] for line in text.splitlines() if line.startswith("data:"))
    return dict(json.loads(text)["result"])


async def test_clients_share_a_stateless_server(data_dir: Path) -> None:
    with http_server(data_dir, "--stateless") as server:
        async with Client(server.mcp_url) as writer, Client(server.mcp_url) as reader:
            assert "send_message" in {tool.name for tool in (await reader.list_tools()).tools}
            session_id = (await call(writer, "create_session"))["id"]
            await call(writer, "send_message", session_id=session_id, message={"role": "user", "content": "hi"})
            page = await call(reader, "get_messages", session_id=session_id)
            assert page["items"] == [{"role": "user", "content": "hi"}]
    warning = server.log.read_text()
    assert "warning: stateless HTTP" in warning and "ACONTEXT_BLOB_URL, ACONTEXT_LANCEDB_URI" in warning


@pytest.mark.parametrize(("args", "env"), [(("--stateless",), {}), ((), {"ACONTEXT_STATELESS_HTTP": "true"})])
async def test_an_unknown_session_id_is_answered_when_stateless(
    data_dir: Path, args: tuple[str, ...], env: dict[str, str]
) -> None:
    with http_server(data_dir, *args, **env) as server:
        response = list_tools(server.mcp_url, "issued-by-another-replica")
        assert response.status_code == 200, response.text
        assert "send_message" in {tool["name"] for tool in result_of(response)["tools"]}


async def test_an_unknown_session_id_is_refused_by_default(data_dir: Path) -> None:
    with http_server(data_dir) as server:
        assert list_tools(server.mcp_url, "issued-by-another-replica").status_code == 404
