"""A full disk (issue 22, finding 8): a clear error naming the place and its free space, no temporary files left,
and deletes still work, so space can be freed through the API. The data dir is a small tmpfs (needs root)."""

from __future__ import annotations

import base64
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp import Client

from acontext_mcp import Settings
from acontext_mcp.server import build_server
from tests.support.mcp import call

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=6m", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount / "data"
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


async def test_a_full_disk_is_named_and_deletes_still_free_it(small_disk: Path) -> None:
    async with Client(build_server(Settings(data_dir=small_disk))) as client:
        disk = (await call(client, "create_disk"))["id"]
        error = ""
        for index in range(40):
            chunk = base64.b64encode(os.urandom(400_000)).decode()
            result = await client.call_tool("upsert_artifact", {"disk_id": disk, "file_path": "/", "encoding": "base64",
                                                                "filename": f"f{index}.bin", "content": chunk})
            if result.is_error:
                error = result.content[0].text  # type: ignore[union-attr]
                break
        assert "is full" in error and str(small_disk) in error and "bytes free" in error, error
        assert not [p for p in small_disk.rglob(".tmp-*")], "a temporary file was left behind"
        session = (await call(client, "create_session"))["id"]
        assert (await call(client, "delete_disk", disk_id=disk))["id"] == disk
        assert (await call(client, "delete_session", session_id=session))["id"] == session
        await call(client, "upsert_artifact", disk_id=(await call(client, "create_disk"))["id"], file_path="/",
                   filename="after.txt", content="room again")
