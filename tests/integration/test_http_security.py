"""HTTP transports: bearer-token auth, refusing open non-loopback binds, DNS-rebinding protection."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import httpx2
import pytest
from mcp import Client
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from tests.support.mcp import call
from tests.support.servers import COMMAND, free_port, http_server, server_env

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

TOKEN = "s3cret-token-for-tests"
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "0"}},
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def authorized(token: str) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"})


async def test_token_required_on_mcp_and_sse(tmp_path: Path) -> None:
    with http_server(tmp_path / "data", ACONTEXT_MCP_TOKEN=TOKEN) as server:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {TOKEN}"}):
            response = httpx.post(server.mcp_url, json=INITIALIZE, headers={**MCP_HEADERS, **headers})
            assert response.status_code == 401
            assert response.headers["www-authenticate"].startswith("Bearer")
        assert httpx.get(server.sse_url).status_code == 401
        assert httpx.get(f"{server.base_url}/health").status_code == 200  # load balancers need no token

        async with Client(streamable_http_client(server.mcp_url, http_client=authorized(TOKEN))) as client:
            session_id = (await call(client, "create_session"))["id"]
        async with Client(sse_client(server.sse_url, headers={"Authorization": f"Bearer {TOKEN}"})) as client:
            assert (await call(client, "get_session", session_id=session_id))["id"] == session_id


async def test_without_a_token_loopback_is_open(tmp_path: Path) -> None:
    with http_server(tmp_path / "data") as server:
        async with Client(server.mcp_url) as client:
            await call(client, "list_sessions")


def test_refuses_a_public_bind_without_a_token(tmp_path: Path) -> None:
    result = subprocess.run(
        [COMMAND, "serve", "--transport", "http", "--host", "0.0.0.0", "--port", str(free_port())],
        env=server_env(tmp_path), capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 2
    assert "refusing to serve on 0.0.0.0 without a token" in result.stderr
    assert "ACONTEXT_MCP_TOKEN" in result.stderr and "--insecure" in result.stderr


@pytest.mark.parametrize("extra", [("--insecure",), ()], ids=["insecure-flag", "with-token"])
async def test_public_bind_starts_with_a_token_or_insecure(tmp_path: Path, extra: tuple[str, ...]) -> None:
    env = {} if extra else {"ACONTEXT_MCP_TOKEN": TOKEN}
    with http_server(tmp_path / "data", "--host", "0.0.0.0", *extra, **env) as server:
        assert httpx.get(f"{server.base_url}/health").status_code == 200


async def test_dns_rebinding_protection_refuses_foreign_hosts(tmp_path: Path) -> None:
    with http_server(tmp_path / "data") as server:
        foreign = httpx.post(server.mcp_url, json=INITIALIZE, headers={**MCP_HEADERS, "Host": "evil.example"})
        assert foreign.status_code == 421
        origin = httpx.post(server.mcp_url, json=INITIALIZE, headers={**MCP_HEADERS, "Origin": "http://evil.example"})
        assert origin.status_code == 403
        local = httpx.post(server.mcp_url, json=INITIALIZE, headers=MCP_HEADERS)
        assert local.status_code == 200


async def test_allowed_hosts_are_configurable(tmp_path: Path) -> None:
    with http_server(tmp_path / "data", ACONTEXT_MCP_ALLOWED_HOSTS="ctx.internal:*, other.internal:9000") as server:
        response = httpx.post(server.mcp_url, json=INITIALIZE, headers={**MCP_HEADERS, "Host": "ctx.internal:8029"})
        assert response.status_code == 200
        refused = httpx.post(server.mcp_url, json=INITIALIZE, headers={**MCP_HEADERS, "Host": "evil.example"})
        assert refused.status_code == 421
