"""send_message throughput with 1 and 2 server replicas on one PostgreSQL database.

Goals (issues 9 and 20): 2 replicas >= 1.6x one, and one PostgreSQL replica >= one SQLite replica
(measured here the same way, in the same run). The replicas run stateless streamable HTTP; the load comes
from two `benchmarks.http_load` processes (16 connections, each on its own session, spread over the
replicas the way a round-robin load balancer would), so the client side costs little CPU.
Needs PostgreSQL: `ACONTEXT_TEST_DATABASE_URL`, else the one `scripts/postgres` starts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

import anyio
import asyncpg
from mcp import Client

from benchmarks.table import Row, latency_rows
from tests.support.postgres import scratch_database
from tests.support.servers import http_server

ROOT = Path(__file__).parents[1]
CONNECTIONS = 16
LOAD_PROCESSES = 2


def postgres_url() -> str:
    if url := os.environ.get("ACONTEXT_TEST_DATABASE_URL"):
        return url
    started = subprocess.run([str(ROOT / "scripts" / "postgres")], check=True, capture_output=True, text=True)
    return started.stdout.strip().splitlines()[-1]


async def create_sessions(mcp_url: str, count: int) -> list[str]:
    async with Client(mcp_url) as client:
        return [(await client.call_tool("create_session", {})).structured_content["id"]  # type: ignore[index]
                for _ in range(count)]


def run_load(targets: list[tuple[str, str]], seconds: float) -> dict[str, list[float] | int]:
    """Split the targets over the load processes, run them at once, and add up what they report."""
    shares = [targets[i::LOAD_PROCESSES] for i in range(LOAD_PROCESSES)]
    processes = [
        subprocess.Popen([sys.executable, "-m", "benchmarks.http_load", "--seconds", str(seconds),
                          *(f"{url}={session}" for url, session in share)],
                         cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for share in shares
    ]
    total: dict[str, list[float] | int] = {"sent": 0, "errors": 0, "latencies": []}
    for process in processes:
        output, _ = process.communicate(timeout=seconds + 60)
        report = json.loads(output)
        total["sent"] += report["sent"]  # type: ignore[operator]
        total["errors"] += report["errors"]  # type: ignore[operator]
        total["latencies"] += report["latencies"]  # type: ignore[operator]
        if report["first_error"] and not report["sent"]:
            raise RuntimeError(f"no message was stored; the first error: {report['first_error']}")
    return total


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time the processes `pids` have used so far (those gone since count 0)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def backends(database_url: str | None) -> list[int]:
    """The PostgreSQL server processes serving `database_url`'s database now (none for SQLite)."""
    if database_url is None:
        return []

    async def query() -> list[int]:
        connection = await asyncpg.connect(database_url)
        try:
            rows = await connection.fetch("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                          "AND pid != pg_backend_pid()")
            return [row["pid"] for row in rows]
        finally:
            await connection.close()

    return anyio.run(query)


def measure(database_url: str | None, replicas: int, seconds: float) -> tuple[float, int, list[float], float]:
    """Throughput (msg/s), errors, latencies and CPU seconds per message (the servers' and their PostgreSQL
    backends') of `replicas` servers on one database (None: one on SQLite). The CPU figure is steadier than the
    rate on a machine others share."""
    env = {"ACONTEXT_STATELESS_HTTP": "1", **({"ACONTEXT_DATABASE_URL": database_url} if database_url else {})}
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        servers = [stack.enter_context(http_server(Path(tmp) / f"replica{i}", **env)) for i in range(replicas)]
        sessions = anyio.run(create_sessions, servers[0].mcp_url, 2 * CONNECTIONS)
        targets = [(servers[i % replicas].mcp_url, session) for i, session in enumerate(sessions)]
        # Warm-up (tokenizer, connection pools) on sessions of its own: each load numbers its tool calls from 0.
        run_load(targets[CONNECTIONS:], 1.0)
        pids = [server.process.pid for server in servers] + backends(database_url)
        cpu_before = cpu_seconds(pids)
        report = run_load(targets[:CONNECTIONS], seconds)
        pids += [pid for pid in backends(database_url) if pid not in pids]  # a backend started during the load
        cpu = cpu_seconds(pids) - cpu_before
    sent = int(report["sent"])  # type: ignore[arg-type]
    return sent / seconds, int(report["errors"]), list(report["latencies"]), cpu / max(sent, 1)  # type: ignore[arg-type]


def run(quick: bool = False) -> list[Row]:
    admin_url = postgres_url()
    seconds = 4.0 if quick else 15.0
    rows: list[Row] = []
    rates: dict[int, float] = {}

    def measured(benchmark: str, database_url: str | None, replicas: int) -> float:
        rate, errors, latencies, cpu = measure(database_url, replicas, seconds)
        rows.extend([Row(benchmark, "throughput", rate, "msg/s"), Row(benchmark, "errors", errors, ""),
                     Row(benchmark, "CPU per message (server + PostgreSQL)", cpu * 1000, "ms"),
                     *latency_rows(benchmark, latencies)])
        return rate

    sqlite = measured(f"send_message, 1 replica on SQLite, {CONNECTIONS} connections", None, 1)
    for replicas in (1, 2):
        with scratch_database(admin_url) as database_url:
            rates[replicas] = measured(f"send_message, {replicas} replica(s) on PostgreSQL, {CONNECTIONS} connections",
                                       database_url, replicas)
    scale = rates[2] / rates[1]
    rows.append(Row("send_message, 2 replicas vs 1", "speed-up", scale, "x", ">= 1.6x", scale >= 1.6))
    versus = rates[1] / sqlite
    rows.append(Row("send_message, 1 PostgreSQL replica vs 1 SQLite replica", "ratio", versus, "x", ">= 1.0x",
                    versus >= 1.0))
    return rows
