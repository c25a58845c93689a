"""Resource: disk://{disk_id}/{+path}, one file of a disk (text, or a blob with its mime type).

mcp 2.3's MCPServer gives every read of a template the template's one mime type and lists only
static resources, so a small server middleware adds each file's own mime type to reads and the
most recently written files to resources/list.
"""

from __future__ import annotations

from typing import Any

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError
from mcp.server.mcpserver.resources.templates import ResourceSecurity
from mcp.shared.uri_template import UriTemplate
from mcp_types import Resource

from acontext_mcp.context import service_of
from acontext_mcp.errors import AcontextError
from acontext_mcp.services import AcontextService, paths
from acontext_mcp.services.disks import as_text
from acontext_mcp.services.models import Artifact

TEMPLATE = "disk://{disk_id}/{+path}"
MAX_LISTED = 100
_PARSED = UriTemplate.parse(TEMPLATE)


def _uri(artifact: Artifact) -> str:
    return _PARSED.expand({"disk_id": artifact.disk_id, "path": f"{artifact.file_path[1:]}{artifact.filename}"})


def register(server: MCPServer) -> None:
    @server.resource(
        TEMPLATE,
        name="disk_artifact",
        description="A file on a disk, e.g. disk://<disk_id>/todo/todo.md: text, or a blob with its mime type",
        mime_type="application/octet-stream",
        # Our path rules are stricter, and their errors say what was wrong.
        security=ResourceSecurity(exempt_params={"path"}),
    )
    async def disk_artifact(disk_id: str, path: str, ctx: Context) -> str | bytes:
        try:
            _, data = await service_of(ctx).disks.read_artifact(disk_id, *paths.split(path))
        except AcontextError as exc:
            raise ResourceError(str(exc)) from exc
        text = as_text(data)
        return data if text is None else text

    server.middleware.append(_disk_files)


async def _disk_files(ctx: ServerRequestContext[AcontextService, Any], call_next: CallNext) -> HandlerResult:
    """Add disk files to resources/list, and each file's mime type to a disk:// read."""
    result = await call_next(ctx)
    if not isinstance(result, dict):
        return result
    service: AcontextService = ctx.lifespan_context
    if ctx.method == "resources/list":
        listed = [_listed(artifact) for artifact in await service.disks.recent_artifacts(MAX_LISTED)]
        result["resources"] = [*result.get("resources", []), *listed]
    elif ctx.method == "resources/read" and (params := _PARSED.match(str((ctx.params or {}).get("uri")))):
        try:
            artifact = await service.disks.get_artifact(
                str(params["disk_id"]), *paths.split(str(params["path"])), with_content=False
            )
        except AcontextError:  # deleted since the read: keep the generic mime type
            return result
        result["contents"] = [{**content, "mimeType": artifact.mime_type} for content in result.get("contents", [])]
    return result


def _listed(artifact: Artifact) -> dict[str, Any]:
    resource = Resource(
        uri=_uri(artifact),
        name=f"{artifact.file_path}{artifact.filename}",
        description=f"{artifact.size} bytes on disk {artifact.disk_id}, updated {artifact.updated_at}",
        mime_type=artifact.mime_type,
        size=artifact.size,
    )
    return resource.model_dump(by_alias=True, mode="json", exclude_none=True)
