"""The baseline: a bare `mcp` MCPServer whose `send_message` only appends to a dict, and whose
`experience_search` answers the same five canned SOP blocks to every query (a search-shaped result, no index).

`python benchmarks/bare_server.py` serves stdio; `--port N` serves streamable HTTP at /mcp with GET /health, as
`acontext-mcp serve --transport http` does. Its tools take the same arguments as ours, so the same benchmark
client drives both, and each of our figures sits beside the protocol's own cost measured in the same run.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path
from typing import Any

NAME = "bare"
CANNED = [
    {"block_id": f"{i:032x}", "type": "sop", "path": f"/area{i}/topic{i}/Star a repository {i}",
     "title": f"Star a repository {i}", "score": 1.0 / (i + 1),
     "data": {"use_when": "the user wants to star a GitHub repository (customer weekly urgent)", "preferences": "",
              "tool_sops": [{"tool_name": "github_search_repos", "action": "find the repo by owner and name"},
                            {"tool_name": "github_star_repo", "action": "star it"}]}}
    for i in range(5)
]
SCRIPT = Path(__file__)


def build() -> Any:
    from mcp.server.mcpserver import MCPServer
    from starlette.requests import Request
    from starlette.responses import JSONResponse

    server = MCPServer(NAME, log_level="WARNING")
    sessions: dict[str, list[dict[str, Any]]] = {}
    ids = itertools.count()

    @server.tool()
    async def create_session() -> dict[str, str]:
        """A new session id."""
        session_id = str(next(ids))
        sessions[session_id] = []
        return {"id": session_id}

    @server.tool()
    async def send_message(session_id: str, message: dict[str, Any]) -> dict[str, int]:
        """Append the message to its session."""
        sessions[session_id].append(message)
        return {"id": len(sessions[session_id])}

    @server.tool()
    async def experience_search(space_id: str, query: str, mode: str = "fast", limit: int = 5) -> dict[str, Any]:
        """Five canned SOP blocks, shaped as acontext-mcp's result."""
        return {"cited_blocks": CANNED[:limit], "skills": [], "final_answer": None, "note": None}

    @server.custom_route("/health", methods=["GET"])
    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, help="serve streamable HTTP on this port (default: stdio)")
    args = parser.parse_args()
    server = build()
    if args.port is None:
        server.run("stdio")
    else:
        server.run("streamable-http", port=args.port)


if __name__ == "__main__":
    main()
