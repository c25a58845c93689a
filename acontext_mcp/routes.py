"""Plain HTTP routes served beside MCP by the HTTP app: public artifact downloads."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from acontext_mcp.container import Container
from acontext_mcp.errors import InvalidToken, NotFound
from acontext_mcp.services.disks.public_urls import ROUTE


def artifact_route(service: Callable[[], Container]) -> Route:
    """GET /artifacts/{token}: the bytes of the artifact a signed, unexpired token names."""

    async def download(request: Request) -> Response:
        try:
            artifact, data = await service().disks.read_public(request.path_params["token"])
        except InvalidToken as exc:
            return PlainTextResponse(str(exc), status_code=403)
        except NotFound as exc:
            return PlainTextResponse(str(exc), status_code=404)
        headers = {
            "Content-Disposition": f"inline; filename*=UTF-8''{quote(artifact.filename)}",
            "ETag": f'"{artifact.sha256}"',
            # Served from the MCP server's own origin: never let a stored HTML or SVG file run script there.
            "Content-Security-Policy": "sandbox",
            "X-Content-Type-Options": "nosniff",
        }
        return Response(data, media_type=artifact.mime_type, headers=headers)

    return Route(ROUTE, download, methods=["GET"])
