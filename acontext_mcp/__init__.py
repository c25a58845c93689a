"""acontext-mcp: a context data platform for AI agents, served over MCP.

Use it as a library without MCP::

    from acontext_mcp import Container, Settings

    async with Container.open(Settings(data_dir="/tmp/ctx")) as acx:
        session = await acx.sessions.create_session()
        await acx.messages.send_message(session.id, {"role": "user", "content": "hi"})
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# Loaded on first use, so a command that needs none of them (`acontext-mcp hook`, run by a host on
# every turn) starts in milliseconds instead of importing the whole server.
_EXPORTS = {
    "Container": "acontext_mcp.container",
    "AcontextService": "acontext_mcp.container",  # `Container`'s first name, kept for code written against it
    "Settings": "acontext_mcp.settings",
    **{name: "acontext_mcp.errors" for name in (
        "AcontextError", "Conflict", "InvalidArgument", "InvalidMessage", "NotFound", "PayloadTooLarge",
        "SearchUnavailable")},
}

if TYPE_CHECKING:
    from acontext_mcp.container import Container
    from acontext_mcp.container import Container as AcontextService
    from acontext_mcp.errors import (
        AcontextError,
        Conflict,
        InvalidArgument,
        InvalidMessage,
        NotFound,
        PayloadTooLarge,
        SearchUnavailable,
    )
    from acontext_mcp.settings import Settings


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'acontext_mcp' has no attribute {name!r}")
    value = getattr(import_module(_EXPORTS[name]), "Container" if name == "AcontextService" else name)
    globals()[name] = value
    return value


__all__ = [
    "AcontextError",
    "AcontextService",
    "Conflict",
    "Container",
    "InvalidArgument",
    "InvalidMessage",
    "NotFound",
    "PayloadTooLarge",
    "SearchUnavailable",
    "Settings",
    "__version__",
]
