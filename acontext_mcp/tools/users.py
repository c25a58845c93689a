"""Tools: list_users, get_user_resources, delete_user, get_project_configs, update_project_configs."""

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from acontext_mcp.glue import domain_errors, service_of
from acontext_mcp.services.limits import MAX_PAGE
from acontext_mcp.services.models import DeletedUser, ProjectConfigs, UserPage, UserResources

Identifier = Annotated[str, Field(description="The user's identifier, as given to create_session(user=...)")]


def register(server: MCPServer) -> None:
    @server.tool()
    @domain_errors
    async def list_users(
        ctx: Context,
        limit: Annotated[int, Field(ge=1, le=MAX_PAGE, description="Users per page")] = 50,
        cursor: Annotated[str | None, Field(description="next_cursor of the previous page")] = None,
        time_desc: Annotated[bool, Field(description="Newest first")] = False,
    ) -> UserPage:
        """List the users that sessions, disks and spaces were created for, oldest first."""
        return await service_of(ctx).users.list_users(limit=limit, cursor=cursor, time_desc=time_desc)

    @server.tool()
    @domain_errors
    async def get_user_resources(ctx: Context, identifier: Identifier) -> UserResources:
        """Count a user's sessions, disks, spaces and skills."""
        return await service_of(ctx).users.get_user_resources(identifier)

    @server.tool()
    @domain_errors
    async def delete_user(ctx: Context, identifier: Identifier) -> DeletedUser:
        """Delete a user and every session, disk and space that belongs to it. This cannot be undone."""
        return await service_of(ctx).users.delete_user(identifier)

    @server.tool()
    @domain_errors
    async def get_project_configs(ctx: Context) -> ProjectConfigs:
        """Read this project's configs: the criteria the observer uses to mark tasks success or failed."""
        return await service_of(ctx).project_configs.get_configs()

    @server.tool()
    @domain_errors
    async def update_project_configs(
        ctx: Context,
        configs: Annotated[
            dict[str, Any],
            Field(description="Keys to set, each text up to 2,000 characters, or null to reset: "
                  "task_success_criteria, task_failure_criteria"),
        ],
    ) -> ProjectConfigs:
        """Set when this project's tasks count as success or failed; the observer's task agent follows it."""
        return await service_of(ctx).project_configs.update_configs(configs)
