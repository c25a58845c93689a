"""Spaces over a real HTTP server process: what was written survives a crash, index included."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from tests.support.mcp import call
from tests.support.servers import http_server

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

SOP = {"use_when": "the user asks to star a GitHub repository", "preferences": "",
       "tool_sops": [{"tool_name": "github_star_repo", "action": "star owner/name"}]}


async def test_blocks_and_search_survive_a_killed_server(data_dir: Path) -> None:
    with http_server(data_dir) as server:
        async with Client(server.mcp_url) as client:
            sid = (await call(client, "create_space", name="skills"))["id"]
            await call(client, "create_block", space_id=sid, parent_path="/", type="folder", title="github")
            await call(client, "create_block", space_id=sid, parent_path="/github", type="page", title="GTM")
            star = await call(client, "create_block", space_id=sid, parent_path="/github/GTM", type="sop",
                              title="Star a repo", data=SOP)
        server.kill()
    with http_server(data_dir) as server:
        async with Client(server.mcp_url) as client:
            found = await call(client, "experience_search", space_id=sid, query="please star this repository")
            assert [b["block_id"] for b in found["cited_blocks"]][:1] == [star["id"]]
            page = await client.read_resource(f"space://{sid}/github/GTM")
            assert "1. `github_star_repo`: star owner/name" in page.contents[0].text  # type: ignore[union-attr]
