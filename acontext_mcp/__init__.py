"""acontext-mcp: a context data platform for AI agents, served over MCP.

Use it as a library without MCP::

    from acontext_mcp import Container, Settings

    async with Container.open(Settings(data_dir="/tmp/ctx")) as acx:
        session = await acx.sessions.create_session()
        await acx.messages.send_message(session.id, {"role": "user", "content": "hi"})
"""

__version__ = "0.1.0"

from acontext_mcp.container import Container
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

AcontextService = Container
"""`Container`'s first name, kept for code written against it."""

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
