"""Tools: spaces (create_space, list_spaces, delete_space) and their blocks (list_space, create_block, ...)."""

from typing import Annotated, Any

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from acontext_mcp.glue import domain_errors, service_of
from acontext_mcp.services.limits import MAX_INDEX
from acontext_mcp.services.models import Deleted
from acontext_mcp.services.spaces.models import (
    Block,
    BlocksDeleted,
    BlockType,
    Space,
    SpaceList,
    SpaceSettings,
    SpaceTree,
)
from acontext_mcp.tools.sessions import UserArg

SpaceId = Annotated[str, Field(description="A space id from create_space or list_spaces")]
BlockId = Annotated[str, Field(description="A block id from list_space, create_block or experience_search")]
Path = Annotated[str, Field(description='A folder or page path such as "/github/GTM"; "/" is the space\'s root')]
Data = Annotated[
    dict[str, Any] | None,
    Field(description='sop: {"use_when": str, "preferences": str, "tool_sops": [{"tool_name": str, '
                      '"action": str}]}; warning: {"text": str, "instead": str}; fact: {"text": str}; text: '
                      '{"text": str}; page: optional skill fields {"name", "description", "license", "body"}; '
                      'folder: any JSON object (optional)'),
]


def register(server: MCPServer) -> None:
    @server.tool()
    @domain_errors
    async def create_space(
        ctx: Context,
        name: Annotated[str | None, Field(description="A name for people, e.g. the agent or project")] = None,
        settings: Annotated[SpaceSettings | None, Field(description="Space settings; defaults if omitted")] = None,
        user: UserArg = None,
    ) -> Space:
        """Create an empty space: a tree of folders and pages where an agent's learned skills (SOPs) live.
        Attach sessions to it with create_session(space_id=...)."""
        return await service_of(ctx).spaces.create_space(name=name, settings=settings, user=user)

    @server.tool()
    @domain_errors
    async def list_spaces(ctx: Context) -> SpaceList:
        """List every space with its id, name and settings."""
        return await service_of(ctx).spaces.list_spaces()

    @server.tool()
    @domain_errors
    async def delete_space(ctx: Context, space_id: SpaceId) -> Deleted:
        """Delete a space and every folder, page and block in it. This cannot be undone."""
        return await service_of(ctx).spaces.delete_space(space_id)

    @server.tool()
    @domain_errors
    async def list_space(ctx: Context, space_id: SpaceId, path: Path = "/") -> SpaceTree:
        """Show the tree under a path, depth first: each block's id, type, title and path
        (folders and pages have their own path; text and sop blocks show the path of their page).
        Start here to see what a space knows before adding to it."""
        return await service_of(ctx).spaces.list_space(space_id, path)

    @server.tool()
    @domain_errors
    async def create_block(
        ctx: Context,
        space_id: SpaceId,
        parent_path: Annotated[str, Field(description='Where to add it: "/" or a folder for folders and pages, '
                                                      'a page (e.g. "/github/GTM") for text and sop blocks')],
        type: Annotated[BlockType, Field(description="folder, page, text, sop, warning or fact")],
        title: Annotated[str, Field(description="Folder and page titles are unique in their parent and form paths")],
        data: Data = None,
    ) -> Block:
        """Add a block as the last child of parent_path. Folders hold folders and pages; pages (each one a
        skill, see list_skills) hold text, sop, warning and fact blocks. An sop records how a task is done:
        when to use it and its tool steps; a warning, a mistake to avoid; a fact, a user preference."""
        return await service_of(ctx).spaces.create_block(space_id, parent_path, type, title, data)

    @server.tool()
    @domain_errors
    async def get_block(ctx: Context, space_id: SpaceId, block_id: BlockId) -> Block:
        """Get one block by id: its type, title, data (an SOP's steps), position and path."""
        return await service_of(ctx).spaces.get_block(space_id, block_id)

    @server.tool()
    @domain_errors
    async def update_block(
        ctx: Context,
        space_id: SpaceId,
        block_id: BlockId,
        title: Annotated[str | None, Field(description="A new title")] = None,
        data: Annotated[dict[str, Any] | None, Field(description="New data, replacing the old whole")] = None,
    ) -> Block:
        """Rename a block and/or replace its data (checked against its type, as in create_block)."""
        return await service_of(ctx).spaces.update_block(space_id, block_id, title=title, data=data)

    @server.tool()
    @domain_errors
    async def move_block(
        ctx: Context,
        space_id: SpaceId,
        block_id: BlockId,
        new_parent_path: Annotated[str, Field(description='The folder, page or "/" to move it under')],
        position: Annotated[int | None, Field(ge=0, le=MAX_INDEX, description="Index among the new siblings, from 0; "
                                                                "omit to put it last")] = None,
    ) -> Block:
        """Move a block, with everything under it, to another parent or another position."""
        return await service_of(ctx).spaces.move_block(space_id, block_id, new_parent_path, position)

    @server.tool()
    @domain_errors
    async def delete_block(
        ctx: Context,
        space_id: SpaceId,
        block_id: BlockId,
        recursive: Annotated[bool, Field(description="Also delete everything under a folder or page")] = False,
    ) -> BlocksDeleted:
        """Delete a block. A folder or page must be empty unless recursive is true. This cannot be undone."""
        return await service_of(ctx).spaces.delete_block(space_id, block_id, recursive=recursive)
