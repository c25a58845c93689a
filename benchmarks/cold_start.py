"""stdio cold start: from spawning `acontext-mcp` to its answer to `initialize`, and its idle RSS.

Run with `python -m benchmarks --only cold_start`. Each run uses a fresh data dir, so the
time includes creating and migrating the database.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.table import Row

COMMAND = str(Path(sys.executable).parent / "acontext-mcp")
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}},
}


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def one_run() -> tuple[float, float]:
    """Seconds from spawn to the initialize response, and RSS (MiB) once idle."""
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "ACONTEXT_MCP_HOME": data_dir}
        start = time.perf_counter()
        process = subprocess.Popen([COMMAND], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        assert process.stdin and process.stdout
        process.stdin.write((json.dumps(INITIALIZE) + "\n").encode())
        process.stdin.flush()
        response = json.loads(process.stdout.readline())
        elapsed = time.perf_counter() - start
        assert response["result"]["serverInfo"]["name"] == "acontext-mcp", response
        rss = rss_mib(process.pid)
        process.stdin.close()
        process.wait(timeout=10)
        return elapsed, rss


def run(quick: bool = False) -> list[Row]:
    one_run()  # warm the OS file cache, as a host restarting the server would have it
    times, rss = zip(*(one_run() for _ in range(3 if quick else 10)), strict=True)
    return [
        Row("stdio cold start", "spawn to initialize answered (p50)", statistics.median(times), "s", "< 1 s",
            statistics.median(times) < 1),
        Row("stdio cold start", "idle RSS after initialize", statistics.median(rss), "MiB", "< 150 MiB",
            statistics.median(rss) < 150),
    ]
