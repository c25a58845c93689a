"""Reach the running `AcontextService` from an MCP request context (tools and resources)."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import Context

from acontext_mcp.services import AcontextService


def service_of(ctx: Context[Any, Any]) -> AcontextService:
    return ctx.request_context.lifespan_context  # type: ignore[no-any-return]
