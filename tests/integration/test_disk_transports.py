"""Disks over real `acontext-mcp` processes: tools, resources and public URLs over HTTP; stdio too."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from mcp import Client

from tests.support.mcp import call, call_error
from tests.support.servers import http_server, stdio_params, wait_for

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@pytest.mark.parametrize("backend", ["local", "memory"])
async def test_todo_flow_and_public_url(data_dir: Path, backend: str) -> None:
    env = {"ACONTEXT_ARTIFACT_URL": f"memory://acx-{uuid4().hex}"} if backend == "memory" else {}
    todo = "# Todo\n- [ ] ship disks\n"
    with http_server(data_dir, **env) as server:
        async with Client(server.mcp_url) as client:
            disk_id = (await call(client, "create_disk", name="work"))["id"]
            await call(client, "upsert_artifact", disk_id=disk_id, file_path="/todo/", filename="todo.md", content=todo)
            listing = await call(client, "list_artifacts", disk_id=disk_id, path="/todo/")
            assert [f["filename"] for f in listing["files"]] == ["todo.md"]
            grep = await call(client, "grep_artifacts", disk_id=disk_id, pattern="ship")
            assert [(m["filename"], m["line_number"]) for m in grep["matches"]] == [("todo.md", 2)]
            read = await client.read_resource(f"disk://{disk_id}/todo/todo.md")
            assert (read.contents[0].text, read.contents[0].mime_type) == (todo, "text/markdown")  # type: ignore[union-attr]

            got = await call(client, "get_artifact", disk_id=disk_id, file_path="/todo/", filename="todo.md",
                             with_content=False, with_public_url=True)
            url = got["public_url"]
            assert url.startswith(f"{server.base_url}/artifacts/") and got["note"] is None

            async with httpx.AsyncClient() as http:
                response = await http.get(url)
                assert response.status_code == 200 and response.text == todo
                assert response.headers["content-type"].startswith("text/markdown")
                assert response.headers["content-security-policy"] == "sandbox"

                token = url.rsplit("/", 1)[1]
                payload, _, signature = token.partition(".")
                flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")
                assert (await http.get(f"{server.base_url}/artifacts/{payload}.{flipped}")).status_code == 403
                assert (await http.get(f"{server.base_url}/artifacts/not-a-token")).status_code == 403

                await call(client, "delete_artifact", disk_id=disk_id, file_path="/todo/", filename="todo.md")
                assert (await http.get(url)).status_code == 404


async def test_expired_url_and_size_limit(data_dir: Path) -> None:
    with http_server(data_dir, ACONTEXT_PUBLIC_URL_TTL="1", ACONTEXT_MAX_ARTIFACT_BYTES="1000") as server:
        async with Client(server.mcp_url) as client:
            disk_id = (await call(client, "create_disk"))["id"]
            error = await call_error(client, "upsert_artifact", disk_id=disk_id, file_path="/", filename="big.bin",
                                     content=base64.b64encode(b"x" * 1001).decode(), encoding="base64")
            assert "over the limit of 1000 bytes" in error and "ACONTEXT_MAX_ARTIFACT_BYTES" in error
            assert (await call(client, "list_artifacts", disk_id=disk_id))["files"] == []
            assert not any(p.is_file() for p in (data_dir / "artifacts").rglob("*"))

            data = bytes(range(256))
            await call(client, "upsert_artifact", disk_id=disk_id, file_path="/", filename="ok.bin",
                       content=base64.b64encode(data).decode(), encoding="base64")
            got = await call(client, "get_artifact", disk_id=disk_id, file_path="/", filename="ok.bin",
                             with_public_url=True)
            assert base64.b64decode(got["content"]) == data and got["sha256"] == hashlib.sha256(data).hexdigest()
            wait_for(lambda: httpx.get(got["public_url"]).status_code == 403, timeout=5, what="the URL to expire")
            assert "expired" in httpx.get(got["public_url"]).text


async def test_stdio_round_trip_without_public_urls(data_dir: Path) -> None:
    async with Client(stdio_params(data_dir)) as client:
        disk_id = (await call(client, "create_disk"))["id"]
        await call(client, "upsert_artifact", disk_id=disk_id, file_path="/todo/", filename="todo.md",
                   content="- [ ] x")
        got = await call(client, "get_artifact", disk_id=disk_id, file_path="/todo/", filename="todo.md",
                         with_public_url=True)
        assert (got["content"], got["public_url"]) == ("- [ ] x", None)
        assert "stdio" in got["note"] and "--transport http" in got["note"]
        listed = [str(r.uri) for r in (await client.list_resources()).resources]
        assert listed == [f"disk://{disk_id}/todo/todo.md"]
