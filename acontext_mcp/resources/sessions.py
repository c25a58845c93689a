"""Resource: session://{session_id}/messages, a session's messages in the native format."""

from __future__ import annotations

import json

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError

from acontext_mcp.errors import AcontextError
from acontext_mcp.context import service_of


def register(server: MCPServer) -> None:
    @server.resource(
        "session://{session_id}/messages",
        name="session_messages",
        description="Every message of a session in the native acontext format, as JSON",
        mime_type="application/json",
    )
    async def session_messages(session_id: str, ctx: Context) -> str:
        try:
            messages = await service_of(ctx).messages.read_native(session_id)
        except AcontextError as exc:
            raise ResourceError(str(exc)) from exc
        return json.dumps({"session_id": session_id, "messages": messages}, ensure_ascii=False)
