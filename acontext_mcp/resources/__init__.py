"""MCP resources: read-only views of stored context, one module per family."""

from __future__ import annotations

from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import MCPServer
from mcp_types import ListResourcesResult

from acontext_mcp.glue import Opening, container_of
from acontext_mcp.resources import disks, sessions, skills, spaces, tasks


def register(server: MCPServer) -> None:
    sessions.register(server)
    tasks.register(server)
    spaces.register(server)
    disks.register(server)
    skills.register(server)
    server.middleware.append(_list_stored)


async def _list_stored(ctx: ServerRequestContext[Opening, Any], call_next: CallNext) -> HandlerResult:
    """Server middleware: `resources/list` also lists stored records (the caller's project's pages and
    files) beside the templates."""
    result = await call_next(ctx)
    if ctx.method != "resources/list" or result is None:
        return result
    service = container_of(ctx)
    stored = [*await spaces.list_page_resources(service), *await disks.list_artifact_resources(service)]
    if isinstance(result, ListResourcesResult):
        result.resources += stored
        return result
    listed = result if isinstance(result, dict) else result.model_dump(by_alias=True, exclude_none=True, mode="json")
    listed["resources"] = [*listed.get("resources", []),
                           *(r.model_dump(by_alias=True, exclude_none=True, mode="json") for r in stored)]
    return listed
