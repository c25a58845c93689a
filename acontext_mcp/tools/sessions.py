"""Tools: create_session, list_sessions, get_session, delete_session."""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from acontext_mcp.glue import domain_errors, service_of
from acontext_mcp.services.models import Deleted, Session, SessionPage
from acontext_mcp.services.sessions import MAX_PAGE

SessionId = Annotated[str, Field(description="A session id from create_session or list_sessions")]


def register(server: MCPServer) -> None:
    @server.tool()
    @domain_errors
    async def create_session(
        ctx: Context,
        space_id: Annotated[str | None, Field(description="Space whose skills this session learns into")] = None,
        metadata: Annotated[
            dict[str, Any] | None, Field(description="Any JSON object to keep with the session")
        ] = None,
    ) -> Session:
        """Start a new, empty session (a conversation) and return it. Store its turns with send_message."""
        return await service_of(ctx).sessions.create_session(space_id=space_id, metadata=metadata)

    @server.tool()
    @domain_errors
    async def list_sessions(
        ctx: Context,
        limit: Annotated[int, Field(ge=1, le=MAX_PAGE, description="Sessions per page")] = 50,
        cursor: Annotated[str | None, Field(description="next_cursor of the previous page")] = None,
    ) -> SessionPage:
        """List sessions, newest first, a page at a time; follow next_cursor while has_more is true."""
        return await service_of(ctx).sessions.list_sessions(limit=limit, cursor=cursor)

    @server.tool()
    @domain_errors
    async def get_session(ctx: Context, session_id: SessionId) -> Session:
        """Get one session: its space, metadata, times, message count and token count."""
        return await service_of(ctx).sessions.get_session(session_id)

    @server.tool()
    @domain_errors
    async def delete_session(ctx: Context, session_id: SessionId) -> Deleted:
        """Delete a session and every message in it. This cannot be undone."""
        return await service_of(ctx).sessions.delete_session(session_id)
