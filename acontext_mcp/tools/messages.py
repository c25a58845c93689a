"""Tools: send_message, get_messages."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from acontext_mcp.formats import Format
from acontext_mcp.services.messages import MAX_PAGE
from acontext_mcp.services.models import MessagePage, StoredMessage
from acontext_mcp.context import service_of
from acontext_mcp.tools._errors import domain_errors
from acontext_mcp.tools.sessions import SessionId

FormatArg = Annotated[
    Format,
    Field(description="openai (Chat Completions), anthropic (Messages API) or acontext (native parts)"),
]


def register(server: MCPServer) -> None:
    @server.tool()
    @domain_errors
    async def send_message(
        ctx: Context,
        session_id: SessionId,
        message: Annotated[
            dict[str, Any],
            Field(description="One message as the provider SDK writes it, e.g. {'role': 'user', 'content': 'hi'}"),
        ],
        format: FormatArg = "openai",
    ) -> StoredMessage:
        """Store one message at the end of a session and return its id.

        Accepts text, content-part lists, images and files (URL or base64), tool calls and tool
        results, and Anthropic thinking blocks. A tool result must answer a tool call stored earlier
        in the same session. Read messages back, in any format, with get_messages.
        """
        return await service_of(ctx).messages.send_message(session_id, message, format)

    @server.tool()
    @domain_errors
    async def get_messages(
        ctx: Context,
        session_id: SessionId,
        format: FormatArg = "openai",
        limit: Annotated[int | None, Field(ge=1, le=MAX_PAGE, description="Messages per page; all if omitted")] = None,
        cursor: Annotated[str | None, Field(description="next_cursor of the previous page")] = None,
    ) -> MessagePage:
        """Read a session's messages, oldest first, converted to the format asked for.

        Items can be passed straight to that provider's API (for anthropic, pass `system` too).
        message_ids[i] is the stored id of items[i]. Follow next_cursor while has_more is true.
        """
        return await service_of(ctx).messages.get_messages(session_id, format=format, limit=limit, cursor=cursor)
