"""Resource: session://{session_id}/messages, a session's messages in the native format."""

from __future__ import annotations

import json

from mcp.server.mcpserver import Context, MCPServer

from acontext_mcp.glue import resource_errors, service_of


def register(server: MCPServer) -> None:
    @server.resource(
        "session://{session_id}/messages",
        name="session_messages",
        description="Every message of a session in the native acontext format, as JSON",
        mime_type="application/json",
    )
    @resource_errors
    async def session_messages(session_id: str, ctx: Context) -> str:
        messages = await service_of(ctx).messages.read_native(session_id)
        return json.dumps({"session_id": session_id, "messages": messages}, ensure_ascii=False)
