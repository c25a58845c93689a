"""Tools: create_session, list_sessions, get_session, delete_session, copy_session."""

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from acontext_mcp.glue import domain_errors, service_of
from acontext_mcp.services.limits import MAX_PAGE
from acontext_mcp.services.models import CopiedSession, Deleted, Session, SessionPage

SessionId = Annotated[str, Field(description="A session id from create_session or list_sessions")]
UserArg = Annotated[
    str | None, Field(description="Your identifier for the user it belongs to (created on first use)")
]


def register(server: MCPServer) -> None:
    @server.tool()
    @domain_errors
    async def create_session(
        ctx: Context,
        space_id: Annotated[str | None, Field(description="Space whose skills this session learns into")] = None,
        metadata: Annotated[
            dict[str, Any] | None, Field(description="Any JSON object to keep with the session (its configs)")
        ] = None,
        user: UserArg = None,
    ) -> Session:
        """Start a new, empty session (a conversation) and return it. Store its turns with send_message."""
        return await service_of(ctx).sessions.create_session(space_id=space_id, metadata=metadata, user=user)

    @server.tool()
    @domain_errors
    async def list_sessions(
        ctx: Context,
        limit: Annotated[int, Field(ge=1, le=MAX_PAGE, description="Sessions per page")] = 50,
        cursor: Annotated[str | None, Field(description="next_cursor of the previous page")] = None,
        user: Annotated[str | None, Field(description="Only this user's sessions")] = None,
        filter_by_configs: Annotated[
            dict[str, Any] | None,
            Field(description="Only sessions whose metadata contains this JSON, e.g. {'agent': 'bot1'}"),
        ] = None,
    ) -> SessionPage:
        """List sessions, newest first, a page at a time; follow next_cursor while has_more is true."""
        return await service_of(ctx).sessions.list_sessions(
            limit=limit, cursor=cursor, user=user, filter_by_configs=filter_by_configs
        )

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

    @server.tool()
    @domain_errors
    async def copy_session(ctx: Context, session_id: SessionId) -> CopiedSession:
        """Copy a session (messages with their meta, tasks, metadata, events) into a new session, e.g. to
        try another path from the same point without touching the original. Up to 5,000 messages."""
        return await service_of(ctx).copier.copy_session(session_id)
