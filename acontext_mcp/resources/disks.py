"""Resource: disk://{disk_id}/{+path}, one file of a disk (text, or a blob with its mime type).

mcp 2.3's MCPServer gives every read of a template the template's one mime type, so a small
server middleware puts each file's own mime type on its disk:// reads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.resources.templates import ResourceSecurity
from mcp.shared.uri_template import UriTemplate
from mcp_types import Resource

from acontext_mcp.errors import AcontextError
from acontext_mcp.glue import Opening, container_of, resource_errors, service_of
from acontext_mcp.services.disks import paths
from acontext_mcp.services.disks.models import as_text

if TYPE_CHECKING:
    from acontext_mcp.container import Container

TEMPLATE = "disk://{disk_id}/{+path}"
MAX_LISTED = 100
_PARSED = UriTemplate.parse(TEMPLATE)


def artifact_uri(disk_id: str, path: str) -> str:
    """disk://<id>/todo/a%20b.md for /todo/a b.md: every segment percent-encoded (`#`, `?` and `%` too),
    so the template's one decoding gives the path back."""
    return f"disk://{quote(disk_id, safe='')}/" + "/".join(quote(s, safe="") for s in path.strip("/").split("/"))


async def list_artifact_resources(service: Container) -> list[Resource]:
    """The most recently written files of every disk (at most MAX_LISTED), for the resource list."""
    return [
        Resource(
            uri=artifact_uri(artifact.disk_id, f"{artifact.file_path}{artifact.filename}"),
            name=f"{artifact.file_path}{artifact.filename}",
            description=f"{artifact.size} bytes on disk {artifact.disk_id}, updated {artifact.updated_at}",
            mime_type=artifact.mime_type,
            size=artifact.size,
        )
        for artifact in await service.disks.recent_artifacts(MAX_LISTED)
    ]


def register(server: MCPServer) -> None:
    @server.resource(
        TEMPLATE,
        name="disk_artifact",
        description="A file on a disk, e.g. disk://<disk_id>/todo/todo.md: text, or a blob with its mime type",
        mime_type="application/octet-stream",
        # Our path rules are stricter, and their errors say what was wrong.
        security=ResourceSecurity(exempt_params={"path"}),
    )
    @resource_errors
    async def disk_artifact(disk_id: str, path: str, ctx: Context) -> str | bytes:
        _, data = await service_of(ctx).disks.read_artifact(disk_id, *paths.split(path))
        text = as_text(data)
        return data if text is None else text

    server.middleware.append(_artifact_mime_type)


async def _artifact_mime_type(ctx: ServerRequestContext[Opening, Any], call_next: CallNext) -> HandlerResult:
    """Give a disk:// read the file's own mime type instead of the template's generic one."""
    result = await call_next(ctx)
    uri = str((ctx.params or {}).get("uri")) if ctx.method == "resources/read" else ""
    if not isinstance(result, dict) or not (params := _PARSED.match(uri)):
        return result
    try:
        artifact = await container_of(ctx).disks.get_artifact(
            str(params["disk_id"]), *paths.split(str(params["path"])), with_content=False
        )
    except AcontextError:  # deleted since the read: keep the generic mime type
        return result
    result["contents"] = [{**content, "mimeType": artifact.mime_type} for content in result.get("contents", [])]
    return result
