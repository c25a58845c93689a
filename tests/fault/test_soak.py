"""Soak: 16 clients over streamable HTTP for ACONTEXT_SOAK_SECONDS (default 60) on loopback.

No call may fail, and the server's memory must level off: RSS growth over the second half of
the run stays under a bound.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import anyio
import pytest
from mcp import Client

from tests.support.mcp import call
from tests.support.servers import http_server

pytestmark = [pytest.mark.anyio, pytest.mark.fault]

CLIENTS = 16
SECONDS = float(os.environ.get("ACONTEXT_SOAK_SECONDS", "60"))
MAX_LATE_GROWTH_MIB = 40


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


async def test_sixteen_clients_for_a_minute(tmp_path: Path) -> None:
    samples: list[tuple[float, float]] = []  # (seconds since start, RSS MiB)
    counts = [0] * CLIENTS
    with http_server(tmp_path / "data") as server:
        start = time.monotonic()
        deadline = start + SECONDS

        async def client(k: int) -> None:
            async with Client(server.mcp_url) as mcp:
                session_id = (await call(mcp, "create_session", metadata={"client": k}))["id"]
                while time.monotonic() < deadline:
                    n = counts[k]
                    await call(mcp, "send_message", session_id=session_id,
                               message={"role": "user", "content": f"{k}:{n}"})
                    if n % 10 == 9:
                        page = await call(mcp, "get_messages", session_id=session_id, limit=5)
                        assert page["items"][0]["content"] == f"{k}:0"
                    counts[k] = n + 1
                    if k == 0 and n % 50 == 0:
                        samples.append((time.monotonic() - start, rss_mib(server.process.pid)))
                assert (await call(mcp, "get_session", session_id=session_id))["message_count"] == counts[k]

        async with anyio.create_task_group() as group:
            for k in range(CLIENTS):
                group.start_soon(client, k)

    assert min(counts) > 0
    late = [rss for t, rss in samples if t >= SECONDS / 2]
    assert len(late) >= 2, samples
    growth = late[-1] - late[0]
    print(f"soak: {sum(counts)} messages, RSS samples {samples}")
    assert growth < MAX_LATE_GROWTH_MIB, f"RSS grew {growth:.1f} MiB in the second half: {samples}"
