"""MCP tools: thin adapters over the services, one module per tool family."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from acontext_mcp.tools import disks, learner, messages, search, sessions, skills, spaces, tasks


def register(server: MCPServer) -> None:
    sessions.register(server)
    messages.register(server)
    tasks.register(server)
    spaces.register(server)
    search.register(server)
    learner.register(server)
    disks.register(server)
    skills.register(server)
