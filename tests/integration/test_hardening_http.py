"""Issue 22's low findings over HTTP (httpx against the served app): login throttle, expiring and revocable
login cookies, strict Host checks, public links, external images, header injection, names, modes."""

from __future__ import annotations

import base64
import os
import stat
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from mcp import Client

from acontext_mcp import Container, Settings
from acontext_mcp.dashboard.auth import COOKIE, LOGIN_FAILURES
from acontext_mcp.http_limits import host_allowed
from acontext_mcp.server import build_http_app, build_server
from tests.support.mcp import call, call_error
from tests.support.servers import COMMAND, free_port, server_env

pytestmark = pytest.mark.anyio
TOKEN = "a-long-enough-token-for-the-tests-0123"


@pytest.fixture
async def served(data_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(data_dir=data_dir, transport="http", token=TOKEN, presign_urls=False,
                        dashboard_login_ttl_s=3600)
    app = build_http_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8029") as client:
            yield client


async def login(client: httpx.AsyncClient, token: str = TOKEN) -> httpx.Response:
    return await client.post("/dashboard/login", data={"token": token, "next": "/"})


async def test_login_attempts_are_rate_limited(served: httpx.AsyncClient) -> None:
    client = served
    for _ in range(LOGIN_FAILURES):
        assert (await login(client, "wrong")).status_code == 401
    refused = await login(client, TOKEN)  # even the right token waits: the address is guessing
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0


async def test_the_login_cookie_expires_and_signing_out_revokes_it(
    served: httpx.AsyncClient,
) -> None:
    client = served
    response = await login(client)
    assert response.status_code == 303
    set_cookie = response.headers["set-cookie"]
    assert "Max-Age=3600" in set_cookie and "HttpOnly" in set_cookie
    stolen = client.cookies[COOKIE]
    assert TOKEN not in stolen
    assert (await client.get("/dashboard/sessions")).status_code == 200
    await client.post("/dashboard/logout", headers={"Origin": "http://127.0.0.1:8029"})
    client.cookies.set(COOKIE, stolen)  # a copy of the cookie kept from before signing out
    assert (await client.get("/dashboard/sessions")).status_code == 303  # back to the login form
    forged = stolen.split(".")[0] + "." + "0" * 64
    client.cookies.set(COOKIE, forged)
    assert (await client.get("/dashboard/sessions")).status_code == 303


@pytest.mark.parametrize(("host", "allowed"), [
    ("localhost:8029", True), ("localhost", True), ("127.0.0.1:1", True),
    ("localhost:evil", False), ("localhost.evil:80", False), ("localhost:80:81", False), ("localhost:", False),
])
def test_host_patterns_match_a_port_not_a_prefix(host: str, allowed: bool) -> None:
    assert host_allowed(host, ("localhost:*", "127.0.0.1:*")) is allowed


async def test_a_foreign_host_is_refused_on_mcp_and_the_dashboard(served: httpx.AsyncClient) -> None:
    client = served
    for path in ("/mcp", "/dashboard/login"):
        response = await client.get(path, headers={"Host": "localhost:evil"})
        assert response.status_code == 421, path
    assert (await client.get("/health", headers={"Host": "10.0.0.5:8029"})).status_code == 200


async def test_public_links_hide_ids_pin_the_version_and_refuse_odd_tokens(data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir, transport="http", token=TOKEN, presign_urls=False)
    app = build_http_app(settings)
    async with app.router.lifespan_context(app), Client(build_server(settings)) as mcp:
        transport = httpx.ASGITransport(app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8029") as web:
            disk = (await call(mcp, "create_disk"))["id"]
            await call(mcp, "upsert_artifact", disk_id=disk, file_path="/", filename="a.txt", content="one")
            got = await call(mcp, "get_artifact", disk_id=disk, file_path="/", filename="a.txt",
                             with_public_url=True)
            path = "/" + got["public_url"].split("/", 3)[3]
            token = path.rsplit("/", 1)[1]
            assert disk.encode() not in base64.urlsafe_b64decode(token.split(".")[0] + "==")
            assert (await web.get(path)).text == "one"
            await call(mcp, "upsert_artifact", disk_id=disk, file_path="/", filename="a.txt", content="two")
            assert (await web.get(path)).status_code == 404  # the link shared version one, not the path
            for odd in ("é.é", "AAAA.%C3%A9", "%F0%9F%98%80", "a" * 300):
                assert (await web.get(f"/artifacts/{odd}")).status_code == 403, odd


async def test_dashboard_never_loads_external_images_nor_puts_formats_in_headers(service: Container) -> None:
    from tests.integration.test_dashboard_http import dashboard_client

    session = await service.sessions.create_session()
    await service.messages.send_message(session.id, {"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "http://169.254.169.254/latest/meta-data.png"}}]})
    await service.messages.send_message(session.id, {"role": "user", "content": [
        {"type": "input_audio", "input_audio": {"data": base64.b64encode(b"RIFF").decode(),
                                                 "format": "wav\r\nSet-Cookie: x=1"}}]})
    async with dashboard_client(service.settings, service) as web:
        page = await web.get(f"/dashboard/sessions/{session.id}")
        assert page.status_code == 200
        assert '<img src="http://169.254.169.254' not in page.text
        assert "http:" not in page.headers["content-security-policy"].split("img-src", 1)[1].split(";")[0]
        messages = (await service.messages.list_native(session.id)).items
        audio = await web.get(f"/dashboard/sessions/{session.id}/messages/{messages[1].id}/parts/0")
        assert audio.status_code == 200 and "set-cookie" not in audio.headers
        assert audio.headers["content-type"] == "application/octet-stream"


@pytest.mark.parametrize("name", ["a\u200bb.txt", "soft\u00adhyphen.md", "evil\uff0etxt", "a\u2024b", "nb\u00a0sp.md"])
async def test_invisible_and_look_alike_file_names_are_refused(client: Client, name: str) -> None:
    disk = (await call(client, "create_disk"))["id"]
    error = await call_error(client, "upsert_artifact", disk_id=disk, file_path="/", filename=name, content="x")
    assert "filename" in error and "U+" in error
    assert (await call(client, "list_artifacts", disk_id=disk))["files"] == []


async def test_out_of_range_integers_name_the_argument(client: Client) -> None:
    session = (await call(client, "create_session"))["id"]
    error = await call_error(client, "update_task_status", session_id=session, task_order=2**70, status="success")
    assert "task_order" in error and "less than or equal" in error


async def test_the_data_dir_is_private(data_dir: Path) -> None:
    async with Container.open(Settings(data_dir=data_dir)):
        pass
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((data_dir / "acontext.db").stat().st_mode) == 0o600
    os.chmod(data_dir / "acontext.db", 0o644)  # made by an older version
    async with Container.open(Settings(data_dir=data_dir)):
        pass
    assert stat.S_IMODE((data_dir / "acontext.db").stat().st_mode) == 0o600


@pytest.mark.slow
def test_a_public_bind_refuses_a_guessable_token(tmp_path: Path) -> None:
    result = subprocess.run(
        [COMMAND, "serve", "--transport", "http", "--host", "0.0.0.0", "--port", str(free_port())],
        env=server_env(tmp_path, ACONTEXT_MCP_TOKEN="a"), capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2 and "shorter than 16 characters" in result.stderr
    assert "'a'" not in result.stderr
