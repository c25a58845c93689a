"""Spaces: every space, and one space's tree with the selected folder or page rendered (SOPs as tool steps)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from acontext_mcp.dashboard.pages import View, render, service_of


async def space_list(request: Request) -> Response:
    spaces = await service_of(request).spaces.list_spaces()
    return render(request, "spaces.html", active="spaces", spaces=spaces.items)


async def space_detail(request: Request) -> Response:
    """The tree on the left; on the right the folder or page at `?path=` (the root by default)."""
    space_id = request.path_params["space_id"]
    path = request.query_params.get("path", "/")
    service = service_of(request)
    space = await service.spaces.get_space(space_id)
    tree = await service.spaces.list_space(space_id)
    node, children = await service.spaces.read_path(space_id, path)
    return render(request, "space.html", active="spaces", space=space, tree=tree, node=node, children=children,
                  selected=node.path if node else "/")


VIEW = View(
    name="spaces",
    label="Spaces",
    path="/spaces",
    routes=(
        Route("/spaces", space_list, methods=["GET"]),
        Route("/spaces/{space_id}", space_detail, methods=["GET"]),
    ),
)
