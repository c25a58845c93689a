"""MCP resources: read-only views of stored context, one module per family."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from acontext_mcp.resources import disks, sessions, tasks


def register(server: MCPServer) -> None:
    sessions.register(server)
    tasks.register(server)
    disks.register(server)
