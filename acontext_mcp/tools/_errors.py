"""Map domain errors to MCP errors once, so a failed call or read tells the client what was wrong."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from mcp.server.mcpserver.exceptions import ResourceError, ToolError

from acontext_mcp.errors import AcontextError

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
