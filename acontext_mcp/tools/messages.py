"""Tools: send_message, get_messages, patch_message_meta, get_token_counts."""

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from acontext_mcp.formats import Format
from acontext_mcp.formats.editing import EditStrategy
from acontext_mcp.glue import domain_errors, service_of
from acontext_mcp.services.limits import MAX_MESSAGES_PAGE
from acontext_mcp.services.models import MessageMeta, MessagePage, StoredMessage, TokenCounts
from acontext_mcp.tools.sessions import SessionId

FormatArg = Annotated[
    Format,
    Field(description="openai (Chat Completions), anthropic (Messages API), gemini (Gemini Content) or acontext "
          "(native parts)"),
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
        meta: Annotated[
            dict[str, Any] | None,
            Field(description="Your own JSON object to keep with the message (read back in get_messages' metas)"),
        ] = None,
    ) -> StoredMessage:
        """Store one message at the end of a session and return its id.

        Accepts text, content-part lists, images and files (URL or base64), tool calls and tool
        results, and Anthropic thinking blocks. A tool result must answer a tool call stored earlier
        in the same session. Read messages back, in any format, with get_messages.
        """
        return await service_of(ctx).messages.send_message(session_id, message, format, meta=meta)

    @server.tool()
    @domain_errors
    async def get_messages(
        ctx: Context,
        session_id: SessionId,
        format: FormatArg = "openai",
        limit: Annotated[
            int | None, Field(ge=1, le=MAX_MESSAGES_PAGE, description="Messages per page; all if omitted")
        ] = None,
        cursor: Annotated[str | None, Field(description="next_cursor of the previous page")] = None,
        edit_strategies: Annotated[
            list[EditStrategy] | None,
            Field(
                description="Edits applied in order to the whole session on the way out (not with limit/cursor), e.g. "
                "[{'type': 'remove_tool_result', 'keep_recent_n': 3}, {'type': 'token_limit', 'limit_tokens': 16000}]"
            ),
        ] = None,
        pin_at_message: Annotated[
            str | None,
            Field(description="Apply edit_strategies only up to and including this message id, so the prefix a "
                  "prompt cache holds stays the same; pass back edit_at_message_id from the previous read"),
        ] = None,
        with_events: Annotated[
            bool, Field(description="Also return the session's events (add_event) in this page's stretch of time")
        ] = False,
    ) -> MessagePage:
        """Read a session's messages, oldest first, converted to the format asked for.

        Items can be passed straight to that provider's API (for anthropic, pass `system` too).
        message_ids[i] is the stored id of items[i]. Follow next_cursor while has_more is true.
        To fit a context window, pass edit_strategies: remove_tool_result and remove_tool_call_params
        blank out old tool output and arguments; token_limit drops the oldest turns and middle_out
        the turns after the first until the rest fits limit_tokens. Tool calls stay with their results,
        the system message stays, and stored messages never change. tokens_before/tokens_after report
        the effect. metas[i] is your meta of items[i]'s message.
        """
        return await service_of(ctx).messages.get_messages(
            session_id, format=format, limit=limit, cursor=cursor, edit_strategies=edit_strategies,
            pin_at_message=pin_at_message, with_events=with_events,
        )

    @server.tool()
    @domain_errors
    async def patch_message_meta(
        ctx: Context,
        session_id: SessionId,
        message_id: Annotated[str, Field(description="A message id (get_messages' message_ids)")],
        meta: Annotated[
            dict[str, Any], Field(description="Keys to set; a key set to null is removed; other keys stay")
        ],
    ) -> MessageMeta:
        """Update your meta of one stored message (e.g. a rating or a processed flag) and return all of it.
        The message itself never changes."""
        return await service_of(ctx).messages.patch_message_meta(session_id, message_id, meta)

    @server.tool()
    @domain_errors
    async def get_token_counts(ctx: Context, session_id: SessionId) -> TokenCounts:
        """Get the token count of every message in a session and their total.

        Use it to see what takes room before choosing edit_strategies for get_messages.
        """
        return await service_of(ctx).messages.get_token_counts(session_id)
