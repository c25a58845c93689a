"""MCP resources: read-only views of stored context, one module per family."""

from __future__ import annotations

from mcp.server.mcpserver import MCPServer
from mcp_types import Resource

from acontext_mcp.container import Container
from acontext_mcp.resources import disks, sessions, spaces, tasks


def register(server: MCPServer) -> None:
    sessions.register(server)
    tasks.register(server)
    spaces.register(server)
    disks.register(server)


async def list_stored(service: Container) -> list[Resource]:
    """Concrete resources for stored records, added to the resource list beside the templates."""
    return [*await spaces.list_page_resources(service), *await disks.list_artifact_resources(service)]
