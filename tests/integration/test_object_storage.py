"""Artifacts, message blobs and the search index on S3 (moto's server on loopback), over real server processes."""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import httpx
import pytest
from mcp import Client

from tests.support.mcp import call, call_error
from tests.support.s3 import S3, s3  # noqa: F401 (fixture)
from tests.support.servers import http_server
from tests.support.sops import SOPS, seed_over_mcp

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


def local_files(data_dir: Path) -> list[str]:
    """The files a replica left in its data dir (none, not even the dir, when every store is remote)."""
    return sorted(p.name for p in data_dir.iterdir()) if data_dir.exists() else []


async def test_disk_tools_keep_bytes_in_the_bucket(s3: S3, data_dir: Path) -> None:
    bucket = s3.new_bucket()
    todo, binary = "# Todo\n- [ ] ship s3\n", bytes(range(256)) * 4
    with http_server(data_dir, **s3.stores_env(bucket)) as server:
        async with Client(server.mcp_url) as client:
            disk_id = (await call(client, "create_disk", name="work"))["id"]
            await call(client, "upsert_artifact", disk_id=disk_id, file_path="/todo/", filename="todo.md", content=todo)
            await call(client, "upsert_artifact", disk_id=disk_id, file_path="/bin/", filename="data.bin",
                       content=base64.b64encode(binary).decode(), encoding="base64")

            stored = {s3.read(bucket, key) for key in s3.keys(bucket, f"artifacts/{disk_id}/")}
            assert stored == {todo.encode(), binary}

            listing = await call(client, "list_artifacts", disk_id=disk_id, path="/todo/")
            assert [f["filename"] for f in listing["files"]] == ["todo.md"]
            globbed = await call(client, "glob_artifacts", disk_id=disk_id, pattern="**/*.bin")
            assert [f["filename"] for f in globbed["items"]] == ["data.bin"]
            grep = await call(client, "grep_artifacts", disk_id=disk_id, pattern="ship")
            assert [(m["filename"], m["line_number"]) for m in grep["matches"]] == [("todo.md", 2)]

            await call(client, "move_artifact", disk_id=disk_id, file_path="/todo/", filename="todo.md",
                       new_file_path="/done/", new_filename="todo.md")
            got = await call(client, "get_artifact", disk_id=disk_id, file_path="/done/", filename="todo.md",
                             with_public_url=True)
            assert got["content"] == todo
            assert got["public_url"].startswith(f"{s3.endpoint}/{bucket}/artifacts/{disk_id}/")  # presigned
            response = httpx.get(got["public_url"])
            assert response.status_code == 200 and response.text == todo
            error = await call_error(client, "get_artifact", disk_id=disk_id, file_path="/todo/", filename="todo.md")
            assert "not found" in error.lower()

            await call(client, "delete_artifact", disk_id=disk_id, file_path="/bin/", filename="data.bin")
            assert [s3.read(bucket, key) for key in s3.keys(bucket, "artifacts/")] == [todo.encode()]
    assert "artifacts" not in local_files(data_dir)


async def test_a_second_replica_reads_what_the_first_wrote(
    s3: S3, tmp_path: Path, database_env: dict[str, str]
) -> None:
    """Replica B starts on a fresh data dir, sharing only A's database (on SQLite, a copy of its file):
    artifacts, large message parts and the search index all come from the bucket, and B serves the
    public URLs A signs (with the shared URL secret)."""
    bucket = s3.new_bucket()
    env = {**s3.stores_env(bucket), "ACONTEXT_PRESIGN_URLS": "false", **database_env}
    raw = bytes(range(256)) * 300  # over the 64 KiB blob threshold
    image = {"role": "user", "content": [
        {"type": "text", "text": "a big picture"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{base64.b64encode(raw).decode()}"}},
    ]}
    first, second = tmp_path / "a", tmp_path / "b"
    with http_server(first, **env) as server:
        async with Client(server.mcp_url) as client:
            disk_id = (await call(client, "create_disk"))["id"]
            await call(client, "upsert_artifact", disk_id=disk_id, file_path="/", filename="plan.md", content="plan")
            session_id = (await call(client, "create_session"))["id"]
            await call(client, "send_message", session_id=session_id, message=image)
            space_id = (await call(client, "create_space", name="skills"))["id"]
            ids = await seed_over_mcp(client, space_id, SOPS[:4])
            found = await call(client, "experience_search", space_id=space_id, query=SOPS[0].queries[1])
            assert found["cited_blocks"][0]["block_id"] == ids[SOPS[0].title]

    [blob_key] = s3.keys(bucket, "blobs/")
    assert s3.read(bucket, blob_key) == raw
    index = s3.keys(bucket, "lance/")
    assert any(key.startswith("lance/blocks_") for key in index)  # blocks_<ns>.lance: each full rebuild makes one
    database_files = ("acontext.db", ".acontext.db-reserve")  # the database, its WAL, and its full-disk reserve
    assert {name for name in local_files(first) if not name.startswith(database_files)} == set()

    second.mkdir()
    if not database_env:
        shutil.copy(first / "acontext.db", second / "acontext.db")
    with http_server(first, "--stateless", **env) as signer, http_server(second, "--stateless", **env) as server:
        async with Client(signer.mcp_url) as client:
            signed = await call(client, "get_artifact", disk_id=disk_id, file_path="/", filename="plan.md",
                                with_content=False, with_public_url=True)
        path = signed["public_url"].removeprefix(signer.base_url)
        assert path.startswith("/artifacts/") and httpx.get(server.base_url + path).text == "plan"
        async with Client(server.mcp_url) as client:
            got = await call(client, "get_artifact", disk_id=disk_id, file_path="/", filename="plan.md")
            assert got["content"] == "plan"
            assert (await call(client, "get_messages", session_id=session_id))["items"] == [image]
            for sop in SOPS[:4]:
                found = await call(client, "experience_search", space_id=space_id, query=sop.queries[0])
                assert ids[sop.title] in [b["block_id"] for b in found["cited_blocks"]]
    assert s3.keys(bucket, "lance/") == index  # B searched A's index as it was; it did not rebuild it
    # Nothing a replica needs is left in its data dir, but for SQLite's file.
    warned = [line.split("unset: ", 1)[1] for line in server.log.read_text().splitlines() if "stateless HTTP" in line]
    assert warned == ([] if database_env else ["ACONTEXT_DATABASE_URL (see docs/deploy.md)"])
