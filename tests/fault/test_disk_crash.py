"""SIGKILL the server while clients upsert, again and again; every recorded artifact must match its bytes."""

from __future__ import annotations

import base64
import hashlib
import os
import random
import sqlite3
import time
from pathlib import Path

import anyio
import pytest
from mcp import Client

from tests.support.mcp import call
from tests.support.servers import HttpServer, http_server

pytestmark = [pytest.mark.anyio, pytest.mark.fault]

CYCLES = 4
WRITERS = 2


def kill_mid_write(server: HttpServer, folder: Path, timeout: float) -> None:
    """SIGKILL the server the moment a temporary file shows an upsert writing its bytes.

    Spins without sleeping, and kills from this thread, because such a write lasts about a millisecond.
    """
    deadline = time.monotonic() + timeout
    while not any(name.startswith(".tmp-") for name in os.listdir(folder)):
        if time.monotonic() > deadline:
            raise TimeoutError(f"no write began in {folder} within {timeout}s")
    server.kill()


async def upsert_until_killed(
    server: HttpServer, store: Path, disk_id: str, cycle: int, rng: random.Random
) -> int:
    """Run writers against `server` and SIGKILL it once some upserts succeeded (then, on even cycles,
    as soon as the next one is writing its bytes); return how many succeeded.

    Each cycle writes its own folder, so a later cycle never overwrites what a kill left behind.
    """
    kill_after, mid_write = 2 + 3 * cycle, cycle % 2 == 0
    succeeded = 0
    failed: list[BaseException] = []
    enough = anyio.Event()

    async def writer(number: int) -> None:
        nonlocal succeeded
        try:
            async with Client(server.mcp_url) as client:
                for i in range(10_000):
                    data = rng.randbytes(rng.randrange(10_000, 1_000_000))
                    await call(client, "upsert_artifact", disk_id=disk_id, file_path=f"/crash/{cycle}/{i % 3}/",
                               filename=f"w{number % 2}.bin", content=base64.b64encode(data).decode(),
                               encoding="base64", meta={"writer": number, "i": i})
                    succeeded += 1
                    if succeeded >= kill_after:
                        enough.set()
        except Exception as exc:  # the server died under this client
            failed.append(exc)

    with anyio.fail_after(60):
        async with anyio.create_task_group() as tg:
            for number in range(WRITERS):
                tg.start_soon(writer, number)
            await enough.wait()
            if mid_write:
                await anyio.to_thread.run_sync(kill_mid_write, server, store / disk_id, 10)
            else:
                server.kill()
    assert len(failed) == WRITERS, "every writer should have been cut off by the kill"
    return succeeded


def recorded_artifacts(data_dir: Path) -> list[sqlite3.Row]:
    with sqlite3.connect(data_dir / "acontext.db") as db:
        db.row_factory = sqlite3.Row
        return db.execute("SELECT * FROM artifacts").fetchall()


async def test_sigkill_mid_upsert_leaves_only_whole_artifacts(data_dir: Path) -> None:
    rng = random.Random(3)
    with http_server(data_dir) as server:
        async with Client(server.mcp_url) as client:
            disk_id = (await call(client, "create_disk", name="crash"))["id"]
    total = 0
    for cycle in range(CYCLES):
        with http_server(data_dir) as server:
            total += await upsert_until_killed(server, data_dir / "artifacts", disk_id, cycle, rng)
        assert server.process.returncode == -9

    rows = recorded_artifacts(data_dir)
    assert rows and total >= sum(2 + 3 * cycle for cycle in range(CYCLES))
    for row in rows:  # read straight from disk: a record never points at missing or torn bytes
        data = (data_dir / "artifacts" / row["storage_key"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row["sha256"] and len(data) == row["size"]

    with http_server(data_dir) as server:  # restarted: every file reads back whole through the tools
        async with Client(server.mcp_url) as client:
            found = await call(client, "glob_artifacts", disk_id=disk_id, pattern="**/*")
            assert len(found["items"]) == len(rows)
            for item in found["items"]:
                got = await call(client, "get_artifact", disk_id=disk_id, file_path=item["file_path"],
                                 filename=item["filename"])
                assert hashlib.sha256(base64.b64decode(got["content"])).hexdigest() == item["sha256"]
