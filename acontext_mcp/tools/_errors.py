"""Map domain errors to `ToolError` once, so a failed call tells the model what was wrong."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from mcp.server.mcpserver.exceptions import ToolError

from acontext_mcp.errors import AcontextError

P = ParamSpec("P")
R = TypeVar("R")


def domain_errors(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
    """Re-raise `AcontextError` from a tool body as `ToolError` with the same message."""

    @functools.wraps(fn)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return await fn(*args, **kwargs)
        except AcontextError as exc:
            raise ToolError(str(exc)) from exc

    return wrapper
