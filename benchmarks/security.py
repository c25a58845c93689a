"""Issue 22: memory of a refused oversized request, and the stall other tenants see while one reads a huge message.

- `rejected 120 MB request`: the peak RSS (VmHWM) of a served `acontext-mcp serve --transport http` after a
  120 MB `send_message` body is refused, beside the same server's peak before it (the baseline).
- `250k-part message read`: the worst event-loop stall (a 1 ms ticker's longest gap) while `get_messages` reads a
  message of 250,000 parts, beside the worst stall over the same time with nothing read (the baseline).
"""

from __future__ import annotations

import contextlib
import json
import tempfile
import time
from pathlib import Path

import anyio
import httpx

from acontext_mcp import Container, Settings
from benchmarks.table import Row

MIB = 1024 * 1024
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def rejected_request() -> list[Row]:
    from tests.support.servers import http_server

    with tempfile.TemporaryDirectory() as tmp, http_server(Path(tmp) / "data") as server:
        before = peak_rss_mb(server.process.pid)
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {
            "name": "send_message", "arguments": {"session_id": "x", "message": {
                "role": "user", "content": "y" * (120 * MIB)}}}}).encode()
        status = httpx.post(server.mcp_url, content=body, headers=HEADERS, timeout=300).status_code

        def chunks() -> object:
            for start in range(0, len(body), MIB):
                yield body[start:start + MIB]

        with contextlib.suppress(httpx.TransportError):  # refused and closed mid-upload
            httpx.post(server.mcp_url, content=chunks(), headers=HEADERS, timeout=300)  # type: ignore[arg-type]
        after = peak_rss_mb(server.process.pid)
    return [
        Row("rejected 120 MB request", "server peak RSS before (baseline)", before, "MB"),
        Row("rejected 120 MB request", f"server peak RSS after (HTTP {status}, then chunked)", after, "MB",
            "< baseline + 50 MB", after - before < 50),
    ]


async def worst_gap(seconds: float | None, work: object = None) -> tuple[float, float]:
    """The longest gap of a 1 ms ticker while `work` runs (or for `seconds`), and how long that took."""
    gaps: list[float] = []
    done = anyio.Event()

    async def ticker() -> None:
        last = time.perf_counter()
        while not done.is_set():
            await anyio.sleep(0.001)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    start = time.perf_counter()
    async with anyio.create_task_group() as tg:
        tg.start_soon(ticker)
        if work is not None:
            await work()  # type: ignore[operator]
        else:
            await anyio.sleep(seconds or 0)
        done.set()
    return max(gaps, default=0.0), time.perf_counter() - start


async def stall(quick: bool) -> list[Row]:
    parts = 25_000 if quick else 250_000
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), max_message_parts=parts + 1, max_message_bytes=64 * MIB)
        async with Container.open(settings, background=False) as service:
            session = await service.sessions.create_session()
            message = {"role": "user", "content": [{"type": "text", "text": "a"}] * parts}
            await service.messages.send_message(session.id, message)

            async def read() -> None:
                await service.messages.get_messages(session.id)

            worst, took = await worst_gap(None, read)
            idle, _ = await worst_gap(took)
    label = f"{parts:,}-part message read"
    return [
        Row(label, "get_messages time", took * 1000, "ms"),
        Row(label, "worst stall, nothing read (baseline)", idle * 1000, "ms"),
        Row(label, "worst stall while read", worst * 1000, "ms", "< 250 ms", worst < 0.25),
    ]


def run(quick: bool) -> list[Row]:
    rows = anyio.run(stall, quick)
    if not quick:
        rows += rejected_request()
    return rows
