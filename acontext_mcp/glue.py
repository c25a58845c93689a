"""The glue between MCP requests and the container, shared by tools, resources and prompts: reach the
running `Container` with the request's project made current, and map domain errors to MCP errors once,
so a failed call or read tells the client what was wrong."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceError, ToolError

from acontext_mcp.container import Container
from acontext_mcp.errors import AcontextError
from acontext_mcp.projects import use_project


def service_of(ctx: Context[Any, Any]) -> Container:
    """The container serving this request; `project_scope` made the request's project current."""
    service: Container = ctx.request_context.lifespan_context
    return service


async def project_scope(ctx: ServerRequestContext[Container, Any], call_next: CallNext) -> HandlerResult:
    """Server middleware: every request runs in the project of the token that authenticated it."""
    with use_project(request_project(ctx.lifespan_context)):
        return await call_next(ctx)


def request_project(service: Container) -> str:
    """The project of the bearer token that authenticated this request; `ACONTEXT_PROJECT` when none did
    (stdio, or HTTP without tokens)."""
    token = get_access_token()
    return token.client_id if token is not None and token.client_id else service.settings.project


P = ParamSpec("P")
R = TypeVar("R")


def _reraise_as(error: type[Exception]) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    def decorate(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return await fn(*args, **kwargs)
            except AcontextError as exc:
                raise error(str(exc)) from exc

        return wrapper

    return decorate


domain_errors = _reraise_as(ToolError)
"""Re-raise `AcontextError` from a tool body as `ToolError` with the same message."""

resource_errors = _reraise_as(ResourceError)
"""Re-raise `AcontextError` from a resource body as `ResourceError` with the same message."""
