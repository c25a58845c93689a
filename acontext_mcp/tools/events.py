"""Tools: add_event, list_events."""

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from acontext_mcp.glue import domain_errors, service_of
from acontext_mcp.services.limits import MAX_PAGE
from acontext_mcp.services.models import EventPage, SessionEvent
from acontext_mcp.tools.sessions import SessionId


def register(server: MCPServer) -> None:
    @server.tool()
    @domain_errors
    async def add_event(
        ctx: Context,
        session_id: SessionId,
        type: Annotated[str, Field(description="The kind of event, e.g. 'text_event' or 'disk_event'")],
        data: Annotated[
            dict[str, Any] | None,
            Field(description="Its payload, e.g. {'text': 'user switched to plan B'} or "
                  "{'disk_id': '...', 'path': '/plan.md', 'note': 'wrote the plan'}"),
        ] = None,
    ) -> SessionEvent:
        """Record something that happened in a session besides its messages (a file written, a state change),
        in time order. get_messages(with_events=true) shows events beside the messages."""
        return await service_of(ctx).events.add_event(session_id, type, data)

    @server.tool()
    @domain_errors
    async def list_events(
        ctx: Context,
        session_id: SessionId,
        limit: Annotated[int, Field(ge=1, le=MAX_PAGE, description="Events per page")] = 50,
        cursor: Annotated[str | None, Field(description="next_cursor of the previous page")] = None,
        time_desc: Annotated[bool, Field(description="Newest first")] = False,
    ) -> EventPage:
        """List a session's events, oldest first, a page at a time; follow next_cursor while has_more is true."""
        return await service_of(ctx).events.list_events(session_id, limit=limit, cursor=cursor, time_desc=time_desc)
