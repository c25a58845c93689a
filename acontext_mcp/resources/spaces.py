"""Resource: space://{space_id}/{+path}, a page (or a folder's index) of a space as Markdown."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.resources.templates import ResourceSecurity
from mcp_types import Resource

from acontext_mcp.formats.markdown import render_folder, render_page
from acontext_mcp.glue import resource_errors, service_of
from acontext_mcp.services.spaces.models import Block

if TYPE_CHECKING:
    from acontext_mcp.container import Container

MAX_LISTED_PAGES = 200


def space_uri(space_id: str, path: str) -> str:
    """space://<id>/github/GTM for the path /github/GTM; each title is percent-encoded."""
    return f"space://{quote(space_id, safe='')}/" + "/".join(quote(t, safe="") for t in path.strip("/").split("/") if t)


async def list_page_resources(service: Container) -> list[Resource]:
    """The pages of every space (at most MAX_LISTED_PAGES), for the resource list."""
    return [
        Resource(
            uri=space_uri(page.space_id, page.path),
            name=f"{page.space_id}:{page.path}",
            title=page.title,
            description=f"Page {page.path} of space {page.space_id}, as Markdown",
            mime_type="text/markdown",
        )
        for page in await service.spaces.list_pages(MAX_LISTED_PAGES)
    ]


def register(server: MCPServer) -> None:
    @server.resource(
        "space://{space_id}/{+path}",
        name="space_page",
        description="A page of a space as Markdown (SOPs as numbered tool steps), or a folder's index; "
        "path is a folder or page path without the leading slash, e.g. github/GTM",
        mime_type="text/markdown",
        # Paths name blocks in the database, never files, so '..' and the like are just titles that do not exist.
        security=ResourceSecurity(exempt_params={"path"}),
    )
    @resource_errors
    async def space_page(space_id: str, path: str, ctx: Context) -> str:
        node, children = await service_of(ctx).spaces.read_path(space_id, path)
        if node is not None and node.type == "page":
            return render_page(node, children)

        def link(child: Block) -> str:
            return space_uri(space_id, child.path)

        if node is None:
            return render_folder("Space index", "/", children, link)
        return render_folder(node.title, node.path, children, link)
