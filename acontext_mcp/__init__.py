"""acontext-mcp: a context data platform for AI agents, served over MCP.

Use it as a library without MCP::

    from acontext_mcp import AcontextService, Settings

    async with AcontextService.open(Settings(data_dir="/tmp/ctx")) as acx:
        session = await acx.sessions.create_session()
        await acx.messages.send_message(session.id, {"role": "user", "content": "hi"})
"""

__version__ = "0.1.0"

from acontext_mcp.services import AcontextService
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

__all__ = [
    "AcontextError",
    "AcontextService",
    "Conflict",
    "InvalidArgument",
    "InvalidMessage",
    "NotFound",
    "PayloadTooLarge",
    "SearchUnavailable",
    "Settings",
    "__version__",
]
