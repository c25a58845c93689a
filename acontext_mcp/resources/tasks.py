"""Resource: session://{session_id}/tasks, a session's task list as JSON."""

from __future__ import annotations

from mcp.server.mcpserver import Context, MCPServer

from acontext_mcp.glue import resource_errors, service_of


def register(server: MCPServer) -> None:
    @server.resource(
        "session://{session_id}/tasks",
        name="session_tasks",
        description="A session's task list, kept by the background observer, as JSON (same shape as get_tasks)",
        mime_type="application/json",
    )
    @resource_errors
    async def session_tasks(session_id: str, ctx: Context) -> str:
        tasks = await service_of(ctx).observer.get_tasks(session_id)
        return tasks.model_dump_json()
