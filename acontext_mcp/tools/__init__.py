"""MCP tools: thin adapters over the services, one module per tool family.

The tool modules (and prompts/) leave out `from __future__ import annotations`: the SDK reads each tool's
annotations several times while registering it, and as strings each read compiles and evaluates them again
(about 15 ms of every start).
"""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer

from acontext_mcp.tools import disks, events, learner, messages, search, sessions, skills, spaces, tasks, users


def register(server: MCPServer) -> None:
    sessions.register(server)
    messages.register(server)
    tasks.register(server)
    spaces.register(server)
    search.register(server)
    learner.register(server)
    disks.register(server)
    events.register(server)
    users.register(server)
    skills.register(server)
