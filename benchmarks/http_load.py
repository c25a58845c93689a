"""A light load generator for stateless streamable HTTP: `python -m benchmarks.http_load SPEC`.

It posts `tools/call send_message` JSON-RPC requests straight over HTTP (no MCP client session), so
the load costs little CPU next to the servers it measures. Each connection sends to its own session
on its own server, one request at a time, for a fixed time; the process prints one JSON line:
{"sent": N, "errors": N, "latencies": [seconds, ...], "first_error": "status body" or null}.
"""

from __future__ import annotations

import argparse
import json
import time
from typing import Any

import anyio
import httpx
from mcp.types import LATEST_PROTOCOL_VERSION

from benchmarks.messages import conversation_message

HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": LATEST_PROTOCOL_VERSION,
    "Mcp-Method": "tools/call",
    "Mcp-Name": "send_message",
}
# The per-request envelope of the 2026 protocol: what a stateless server knows of its client.
ENVELOPE = {
    "io.modelcontextprotocol/protocolVersion": LATEST_PROTOCOL_VERSION,
    "io.modelcontextprotocol/clientCapabilities": {},
    "io.modelcontextprotocol/clientInfo": {"name": "benchmarks.http_load", "version": "1"},
}


def send_request(request_id: int, session_id: str, message: dict[str, Any]) -> bytes:
    return json.dumps({
        "jsonrpc": "2.0", "id": request_id, "method": "tools/call",
        "params": {"name": "send_message", "arguments": {"session_id": session_id, "message": message},
                   "_meta": ENVELOPE},
    }).encode()


async def load(targets: list[tuple[str, str]], seconds: float) -> dict[str, Any]:
    """Each (mcp_url, session_id) target is one connection sending for `seconds`."""
    sent = errors = 0
    latencies: list[float] = []
    first_error: str | None = None
    deadline = time.perf_counter() + seconds

    async def connection(url: str, session_id: str) -> None:
        nonlocal sent, errors, first_error
        async with httpx.AsyncClient(headers=HEADERS, timeout=30) as http:
            i = 0
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                response = await http.post(url, content=send_request(i, session_id, conversation_message(i)))
                latencies.append(time.perf_counter() - start)
                if response.status_code == 200 and b'"isError":true' not in response.content:
                    sent += 1
                else:
                    errors += 1
                    first_error = first_error or f"{response.status_code} {response.text[:300]}"
                i += 1

    async with anyio.create_task_group() as group:
        for url, session_id in targets:
            group.start_soon(connection, url, session_id)
    return {"sent": sent, "errors": errors, "latencies": latencies, "first_error": first_error}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.http_load", description=__doc__)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("target", nargs="+", help="MCP_URL=SESSION_ID, one per connection")
    args = parser.parse_args()
    targets = [tuple(spec.rsplit("=", 1)) for spec in args.target]
    print(json.dumps(anyio.run(load, targets, args.seconds)))


if __name__ == "__main__":
    main()
