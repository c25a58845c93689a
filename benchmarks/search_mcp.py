"""`experience_search` (fast) over MCP at 2,000 SOPs, and the server's RSS after 16 HTTP clients, each beside the bare
MCP server (benchmarks/bare_server.py) from the same run.

    .venv/bin/python -m benchmarks --only search_mcp

The space is filled straight into SQLite and indexed once (as benchmarks/search.py does), then searched through the
MCP SDK client over stdio, one call at a time, as an agent does, taking turns with the bare server, which answers five
canned SOP blocks of the same shape: the ratio is our cost over the protocol's own. Then 16 clients connect over
streamable HTTP at once and each stores a few messages and searches; the RSS is the server's once they are done.
"""

from __future__ import annotations

import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters

from acontext_mcp import Container, Settings
from benchmarks.bare_server import SCRIPT
from benchmarks.cold_start import rss_mib
from benchmarks.messages import conversation_message
from benchmarks.search import fill
from benchmarks.table import Row, beside_baseline, percentile
from tests.support.servers import command_server, http_server, server_env, stdio_params
from tests.support.sops import SOPS

SOP_COUNT = 2000
HTTP_CLIENTS = 16
QUERIES = [q for sop in SOPS for q in sop.queries]


async def seed(data_dir: Path) -> str:
    """A space of SOP_COUNT SOP blocks, indexed; returns its id."""
    async with Container.open(Settings(data_dir=data_dir, embedding="none")) as acx:
        space = await acx.spaces.create_space("bench")
        await fill(acx, space.id, SOP_COUNT)
        await acx.search.rebuild()
        return space.id


async def search_latency(servers: list[StdioServerParameters], space_id: str, rounds: int) -> list[list[float]]:
    """Seconds per `experience_search` call through the MCP SDK client over stdio, for each server, after a warm-up
    pass. The servers take turns query by query, so load on the machine falls on each alike."""
    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(Client(params)) for params in servers]
        samples: list[list[float]] = [[] for _ in servers]
        for n in range(rounds + 1):  # the first pass warms up: the index opened, the result models built
            for query in QUERIES:
                for client, times in zip(clients, samples, strict=True):
                    start = time.perf_counter()
                    result = await client.call_tool("experience_search", {"space_id": space_id, "query": query})
                    if n:
                        times.append(time.perf_counter() - start)
                    assert not result.is_error, result.content
    return samples


def _latency_rows(label: str, samples: list[float]) -> list[Row]:
    ms = 1000
    return [Row(label, "p50", percentile(samples, 50) * ms, "ms"),
            Row(label, "p95", percentile(samples, 95) * ms, "ms")]


async def http_clients(url: str, space_id: str) -> None:
    """HTTP_CLIENTS MCP sessions open at once; each creates a session, stores 10 messages and searches 10 times."""
    async with AsyncExitStack() as stack:
        clients = [await stack.enter_async_context(Client(url)) for _ in range(HTTP_CLIENTS)]

        async def work(client: Client, n: int) -> None:
            session = (await client.call_tool("create_session", {})).structured_content["id"]
            for i in range(10):
                await client.call_tool("send_message", {"session_id": session, "message": conversation_message(i)})
                query = QUERIES[(n + i) % len(QUERIES)]
                await client.call_tool("experience_search", {"space_id": space_id, "query": query})

        async with anyio.create_task_group() as group:
            for n, client in enumerate(clients):
                group.start_soon(work, client, n)


async def _run(quick: bool) -> list[Row]:
    rounds = 2 if quick else 10
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        space_id = await seed(root / "data")
        bare = StdioServerParameters(command=sys.executable, args=[str(SCRIPT)], env=server_env(root / "bare"))
        label = f"experience_search fast via MCP stdio, {SOP_COUNT:,} SOPs"
        ours, theirs = await search_latency([stdio_params(root / "data"), bare], space_id, rounds)
        rows += beside_baseline(_latency_rows(label, ours),
                                _latency_rows(f"{label}, bare MCP server (canned result)", theirs), {}, {})
        rss_label = f"RSS after {HTTP_CLIENTS} HTTP clients, {SOP_COUNT:,}-SOP space"
        with http_server(root / "data") as server:
            await http_clients(server.mcp_url, space_id)
            rss = rss_mib(server.process.pid)
        with command_server(root / "bare-http", sys.executable, str(SCRIPT)) as bare_http:
            await http_clients(bare_http.mcp_url, space_id)
            bare_rss = rss_mib(bare_http.process.pid)
        rows += [Row(rss_label, "server RSS", rss, "MiB", "< 150 MiB", rss < 150, bare_rss),
                 Row(f"{rss_label}, bare MCP server", "server RSS", bare_rss, "MiB")]
    return rows


def run(quick: bool = False) -> list[Row]:
    return anyio.run(_run, quick)


def main(argv: list[str] | None = None) -> None:
    quick = "--quick" in (argv if argv is not None else sys.argv[1:])
    for row in run(quick):
        print(row.markdown())


if __name__ == "__main__":
    main()
