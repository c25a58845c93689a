"""stdio cold start: from spawning `acontext-mcp` to its answer to `initialize`, then to its answer to `tools/list`
(what a host asks next), and its RSS once idle with its container open; each beside the bare MCP server's
(benchmarks/bare_server.py) from the same run.

Run with `python -m benchmarks --only cold_start`. Each run uses a fresh data dir, so the
time includes creating and migrating the database. Runs of the two servers alternate, so load on
the machine falls on both alike. Our server opens its container (database, services) after answering
`initialize` (glue.opening), so the RSS is read after a `resources/list`, which waits for it.
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

from benchmarks.bare_server import NAME as BARE_NAME
from benchmarks.bare_server import SCRIPT as BARE_SCRIPT
from benchmarks.table import Row

COMMAND = str(Path(sys.executable).parent / "acontext-mcp")
OURS = ([COMMAND], "acontext-mcp")
BARE = ([sys.executable, str(BARE_SCRIPT)], BARE_NAME)
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}},
}
INITIALIZED = {"jsonrpc": "2.0", "method": "notifications/initialized"}
LIST_TOOLS = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
LIST_RESOURCES = {"jsonrpc": "2.0", "id": 3, "method": "resources/list"}


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def one_run(server: tuple[list[str], str] = OURS) -> tuple[float, float, float]:
    """Seconds from spawn to the initialize response and to the tools/list response, and RSS (MiB) once idle."""
    argv, name = server
    with tempfile.TemporaryDirectory() as data_dir:
        # Bytecode may be cached, as after a regular (non-editable) install, which compiles it.
        env = {**{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}, "ACONTEXT_MCP_HOME": data_dir}
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        assert process.stdin and process.stdout

        def ask(*messages: dict[str, object]) -> dict[str, object]:
            assert process.stdin and process.stdout
            process.stdin.write(b"".join((json.dumps(message) + "\n").encode() for message in messages))
            process.stdin.flush()
            return dict(json.loads(process.stdout.readline()))

        response = ask(INITIALIZE)
        initialized = time.perf_counter() - start
        assert response["result"]["serverInfo"]["name"] == name, response  # type: ignore[index]
        listed = ask(INITIALIZED, LIST_TOOLS)
        tools_listed = time.perf_counter() - start
        assert "result" in listed, listed
        assert "result" in ask(LIST_RESOURCES)  # waits for our container to open
        rss = rss_mib(process.pid)
        process.stdin.close()
        process.wait(timeout=10)
        return initialized, tools_listed, rss


def run(quick: bool = False) -> list[Row]:
    one_run()  # warm the OS file cache, as a host restarting the server would have it
    one_run(BARE)
    ours: list[tuple[float, float, float]] = []
    bare: list[tuple[float, float, float]] = []
    for _ in range(3 if quick else 10):
        ours.append(one_run())
        bare.append(one_run(BARE))
    start, listed, rss = (statistics.median(sample) for sample in zip(*ours, strict=True))
    bare_start, bare_listed, bare_rss = (statistics.median(sample) for sample in zip(*bare, strict=True))
    metric, tools, idle = ("spawn to initialize answered (p50)", "spawn to tools/list answered (p50)",
                           "idle RSS after initialize and the first lists")
    return [
        Row("stdio cold start", metric, start, "s", "<= bare + 0.2 s", start <= bare_start + 0.2, bare_start),
        Row("stdio cold start", tools, listed, "s", baseline=bare_listed),
        Row("stdio cold start", idle, rss, "MiB", "< 100 MiB", rss < 100, bare_rss),
        Row("stdio cold start, bare MCP server", metric, bare_start, "s"),
        Row("stdio cold start, bare MCP server", tools, bare_listed, "s"),
        Row("stdio cold start, bare MCP server", idle, bare_rss, "MiB"),
    ]
