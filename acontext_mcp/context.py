"""Reach the running `AcontextService` from an MCP request context (tools and resources)."""

from __future__ import annotations

from typing import Any

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.mcpserver import Context

from acontext_mcp.services import AcontextService
from acontext_mcp.services.projects import set_project


def service_of(ctx: Context[Any, Any]) -> AcontextService:
    """The service, with the request's project made current: every call it serves is scoped to that project."""
    service: AcontextService = ctx.request_context.lifespan_context
    set_project(request_project(service))
    return service


def request_project(service: AcontextService) -> str:
    """The project of the bearer token that authenticated this request; `ACONTEXT_PROJECT` when none did
    (stdio, or HTTP without tokens)."""
    token = get_access_token()
    return token.client_id if token is not None and token.client_id else service.settings.project
