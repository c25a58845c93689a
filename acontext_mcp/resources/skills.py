"""Resource: skill://{space_id}/{name}/{+path}, a file of a skill's folder (SKILL.md)."""

from __future__ import annotations

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.resources.templates import ResourceSecurity

from acontext_mcp.glue import resource_errors, service_of


def register(server: MCPServer) -> None:
    @server.resource(
        "skill://{space_id}/{name}/{+path}",
        name="skill_file",
        description="A file of a space's skill (an Agent Skills folder), e.g. skill://<space>/landing-pages/SKILL.md",
        mime_type="text/markdown",
        # Paths name files of a rendered skill, never files on disk.
        security=ResourceSecurity(exempt_params={"path"}),
    )
    @resource_errors
    async def skill_file(space_id: str, name: str, path: str, ctx: Context) -> str:
        return (await service_of(ctx).skills.get_skill_file(space_id, name, path)).content
