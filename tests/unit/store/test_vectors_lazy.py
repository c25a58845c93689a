"""LanceDB loads on first use of the search index, never while the server starts (cold start < 1 s)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

SCRIPT = """
import sys, anyio
from mcp import Client
from acontext_mcp import Settings
from acontext_mcp.server import build_server

async def main():
    async with Client(build_server(Settings(data_dir=sys.argv[1]))) as client:
        await client.list_tools()
        await client.list_resources()
        await client.call_tool("create_space", {"name": "x"})
        assert "lancedb" not in sys.modules and "pyarrow" not in sys.modules, "imported at startup"
        space = (await client.call_tool("list_spaces", {})).structured_content["items"][0]["id"]
        await client.call_tool("experience_search", {"space_id": space, "query": "anything"})
        assert "lancedb" in sys.modules, "search should load lancedb"

anyio.run(main)
"""


def test_lancedb_is_imported_only_when_search_is_used(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
