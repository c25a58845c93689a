"""delete_session racing send_message, orphaned bytes swept, temporary files on a failed write (issue 22, 8-9)."""

from __future__ import annotations

import base64
import errno
import os
from pathlib import Path

import anyio
import pytest
from mcp import Client

from acontext_mcp import Container, Settings
from acontext_mcp.cli import main
from acontext_mcp.server import build_server
from acontext_mcp.store.blobs import BlobStore, DiskFull
from tests.support.mcp import call

pytestmark = pytest.mark.anyio
BIG_IMAGE = {"role": "user", "content": [{"type": "image_url", "image_url": {
    "url": "data:image/png;base64," + base64.b64encode(os.urandom(80_000)).decode()}}]}


async def test_delete_session_while_messages_are_written(data_dir: Path) -> None:
    settings = Settings(data_dir=data_dir)
    blobs = data_dir / "blobs"
    async with Client(build_server(settings)) as client:
        for _ in range(5):
            session = (await call(client, "create_session"))["id"]
            errors: list[str] = []

            async def writer(sid: str = session, errs: list[str] = errors) -> None:
                for _ in range(6):
                    result = await client.call_tool("send_message", {"session_id": sid, "message": BIG_IMAGE})
                    if result.is_error:
                        errs.append(result.content[0].text)  # type: ignore[union-attr]

            async with anyio.create_task_group() as tg:
                tg.start_soon(writer)
                tg.start_soon(writer)
                await anyio.sleep(0)
                deleted = await client.call_tool("delete_session", {"session_id": session})
                assert not deleted.is_error, deleted.content
            assert all("not found" in error for error in errors), errors
    async with Container.open(settings) as service:  # the start-up sweep takes whatever a race left
        assert not any(p.is_file() for p in blobs.rglob("*")), list(blobs.rglob("*"))
        assert (await service.sessions.sweep_orphans()).removed_folders == []


def test_the_sweep_removes_folders_of_sessions_that_are_gone(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def seed() -> str:
        async with Container.open(Settings(data_dir=data_dir), background=False) as service:
            session = await service.sessions.create_session()
            await service.messages.send_message(session.id, BIG_IMAGE)
            return session.id

    session_id = anyio.run(seed)
    orphan = data_dir / "blobs" / "gone-session" / "m1"
    orphan.mkdir(parents=True)
    (orphan / "0").write_bytes(b"x" * 100)
    monkeypatch.setenv("ACONTEXT_MCP_HOME", str(data_dir))
    assert main(["sweep"]) == 0
    assert "removed the blobs of 1 deleted sessions: gone-session" in capsys.readouterr().out
    assert not orphan.exists() and (data_dir / "blobs" / session_id).exists()


def test_a_full_disk_names_itself_and_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = BlobStore((tmp_path / "b").as_uri())

    def full(*_: object) -> None:  # the filesystem (fsspec's local one) runs out of room after writing
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store.fs, "mv", full)
    with pytest.raises(DiskFull, match=r"the disk holding .*/b is full \(\d+ bytes free\)"):
        store._put("k/0", b"data")
    assert list((tmp_path / "b" / "k").iterdir()) == []
