"""MCP resources: read-only views of stored context, one module per family."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from acontext_mcp.resources import disks, sessions


def register(server: MCPServer) -> None:
    sessions.register(server)
    disks.register(server)
