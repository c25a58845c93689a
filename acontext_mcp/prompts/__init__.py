"""MCP prompts: ready-made messages built from stored context, one module per family."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from acontext_mcp.prompts import skills


def register(server: MCPServer) -> None:
    skills.register(server)
