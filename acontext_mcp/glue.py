"""The glue between MCP requests and the container, shared by tools, resources and prompts: reach the
running `Container` with the request's project made current, and map domain errors to MCP errors once,
so a failed call or read tells the client what was wrong."""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar

from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS, CallToolResult, TextContent

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

        wrapper.__doc__ = inspect.cleandoc(fn.__doc__ or "")  # clients show it as the description
        return wrapper

    return decorate


domain_errors = _reraise_as(ToolError)
"""Re-raise `AcontextError` from a tool body as `ToolError` with the same message."""

resource_errors = _reraise_as(ResourceError)
"""Re-raise `AcontextError` from a resource body as `ResourceError` with the same message."""


_VALIDATION = re.compile(
    r"\d+ validation errors? for \w+\n(?P<field>[^\n]*)\n\s+(?P<problem>[^\n]*?)\s*"
    r"(?:\[type=\w+(?:, input_value=(?P<value>.*?), input_type=\w+)?\]|\n|$)"
)
_MISSING = re.compile(r"Missing required arguments: \{(?P<names>[^}]*)\}")


def argument_problem(text: str) -> str | None:
    """pydantic's multi-line validation text (or a prompt's missing-argument text) as one line naming the
    first bad argument: `argument 'message' is required`; None for other text."""
    if missing := _MISSING.search(text):
        names = sorted(name.strip(" '\"") for name in missing["names"].split(","))
        return "; ".join(f"argument {name!r} is required" for name in names)
    if (found := _VALIDATION.search(text)) is None:
        return None
    field, problem = found["field"].strip(), found["problem"].strip().rstrip(".")
    if problem == "Field required":
        return f"argument {field!r} is required"
    value = found["value"]
    got = f" (got {value})" if value and len(value) <= 60 and "..." not in value else ""
    return f"argument {field!r}: {problem[:1].lower()}{problem[1:]}{got}"


async def argument_errors(ctx: ServerRequestContext[Container, Any], call_next: CallNext) -> HandlerResult:
    """Server middleware: bad tool or prompt arguments answer one line naming the argument, as the
    services' errors do, instead of pydantic's multi-line text or an internal error."""
    name = str((ctx.params or {}).get("name", ""))
    if ctx.method == "prompts/get":
        try:
            return await call_next(ctx)
        except ValueError as exc:
            raise MCPError(INVALID_PARAMS, f"prompt {name}: {argument_problem(str(exc)) or exc}") from exc
    result = await call_next(ctx)
    if ctx.method != "tools/call":
        return result
    if isinstance(result, CallToolResult) and result.is_error and len(result.content) == 1:
        content = result.content[0]
        if isinstance(content, TextContent) and (problem := argument_problem(content.text)):
            result.content = [TextContent(type="text", text=f"{name}: {problem}; see the tool's input schema")]
    elif isinstance(result, dict) and result.get("isError") and len(result.get("content") or []) == 1:
        content = result["content"][0]
        if content.get("type") == "text" and (problem := argument_problem(str(content.get("text", "")))):
            result["content"] = [{"type": "text", "text": f"{name}: {problem}; see the tool's input schema"}]
    return result
