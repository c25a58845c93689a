"""stdio cold start: from spawning `acontext-mcp` to its answer to `initialize`, and its idle RSS.

    .venv/bin/python benchmarks/cold_start.py [--runs 10]

Prints a Markdown table. Each run uses a fresh data dir, so the time includes creating and
migrating the database.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    one_run()  # warm the OS file cache, as a host restarting the server would have it
    times, rss = zip(*(one_run() for _ in range(args.runs)), strict=True)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}\n")
    print("| metric | p50 | max | goal |")
    print("|---|---|---|---|")
    print(f"| stdio cold start to initialize (s) | {statistics.median(times):.3f} | {max(times):.3f} | < 1 |")
    print(f"| idle RSS after initialize (MiB) | {statistics.median(rss):.0f} | {max(rss):.0f} | < 150 |")


if __name__ == "__main__":
    main()
