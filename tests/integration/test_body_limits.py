"""Request bodies are limited while they are read, on every route (issue 22, findings 1 and 3)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from acontext_mcp.http_limits import FORM_BYTES, BodyLimit
from acontext_mcp.server import build_http_app
from acontext_mcp.settings import MIB, Settings
from tests.support.servers import http_server

pytestmark = pytest.mark.anyio
TOKEN = "a-long-enough-token-for-the-tests-0123"
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


class Source:
    """A chunked request body of `total` bytes, counting what the server pulled."""

    def __init__(self, total: int, chunk: int = 64 * 1024) -> None:
        self.total, self.chunk, self.sent = total, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.sent < self.total:
            self.sent += self.chunk
            yield b"x" * self.chunk


def echo_app(limit: int) -> Starlette:
    async def echo(request: Request) -> PlainTextResponse:
        return PlainTextResponse(str(len(await request.body())))

    return Starlette(routes=[Route("/{path:path}", echo, methods=["POST"])],
                     middleware=[Middleware(BodyLimit, default=limit, limits=[("/small", 10)])])


async def test_a_chunked_body_is_cut_off_at_the_limit_while_it_is_read() -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(echo_app(1000)), base_url="http://t") as client:
        body = Source(100 * MIB, chunk=100)
        response = await client.post("/any", content=body)
        assert response.status_code == 413 and "ACONTEXT_MAX_REQUEST_BYTES" in response.text
        assert body.sent <= 1100  # stopped reading one chunk past the limit, not at the end
        assert (await client.post("/any", content=b"y" * 1000)).text == "1000"
        assert (await client.post("/small", content=b"y" * 11)).status_code == 413  # per-prefix limits
        assert (await client.post("/any", content=b"y" * 1001)).status_code == 413  # Content-Length up front


async def test_the_http_app_limits_login_and_mcp_bodies(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, transport="http", token=TOKEN, max_message_bytes=1000)
    app = build_http_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8029") as client:
            login = Source(1024 * MIB)
            response = await client.post("/dashboard/login", content=login)
            assert response.status_code == 413
            assert login.sent <= FORM_BYTES + 64 * 1024
            mcp = Source(120 * MIB)
            headers = {**MCP_HEADERS, "Authorization": f"Bearer {TOKEN}"}
            response = await client.post("/mcp", content=mcp, headers=headers)
            assert response.status_code == 413
            assert mcp.sent <= settings.request_body_limit + 64 * 1024
            assert settings.request_body_limit == 2 * 1000 + MIB  # tied to the message limit, not the artifact one


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def chunks(total: int, chunk: int = 1024 * 1024) -> Iterator[bytes]:
    for _ in range(total // chunk):
        yield b"x" * chunk


@pytest.mark.slow
def test_a_served_app_stays_small_under_huge_bodies(tmp_path: Path) -> None:
    with http_server(tmp_path / "data", ACONTEXT_MCP_TOKEN=TOKEN) as server:
        before = peak_rss_mb(server.process.pid)
        for path, headers in (("/dashboard/login", {}),
                              ("/mcp", {**MCP_HEADERS, "Authorization": f"Bearer {TOKEN}"})):
            try:
                response = httpx.post(f"{server.base_url}{path}", content=chunks(1024 * MIB), headers=headers,
                                      timeout=120)
                assert response.status_code == 413
            except httpx.TransportError:
                pass  # the server answered 413 and closed while the client was still sending
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                           "params": {"name": "x", "arguments": {"m": "y" * (120 * MIB)}}}).encode()
        response = httpx.post(server.mcp_url, content=body, timeout=120,
                              headers={**MCP_HEADERS, "Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 413  # refused from Content-Length, before parsing
        assert server.healthy()
        assert peak_rss_mb(server.process.pid) - before < 60, "a refused body was buffered"
