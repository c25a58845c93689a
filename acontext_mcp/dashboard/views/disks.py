"""Disks: every disk, a disk's folders and files, a file's preview (text escaped, images inline) and download."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from acontext_mcp.dashboard.pages import (
    INLINE_IMAGES,
    View,
    file_response,
    render,
    service_of,
)
from acontext_mcp.services.disks import paths

PREVIEW_CHARS = 200_000


async def disk_list(request: Request) -> Response:
    disks = await service_of(request).disks.list_disks()
    return render(request, "disks.html", active="disks", disks=disks.items)


async def disk_detail(request: Request) -> Response:
    """The folder at `?path=` (the root by default): its sub-folders and files."""
    disk_id = request.path_params["disk_id"]
    listing = await service_of(request).disks.list_artifacts(disk_id, request.query_params.get("path", "/"))
    return render(request, "disk.html", active="disks", disk_id=disk_id, listing=listing,
                  crumbs=crumbs(listing.path))


async def artifact_page(request: Request) -> Response:
    disk_id = request.path_params["disk_id"]
    folder, name = paths.split(request.path_params["file"])
    found = await service_of(request).disks.get_artifact(disk_id, folder, name)
    text = found.content if found.encoding == "utf-8" else None
    return render(request, "artifact.html", active="disks", disk_id=disk_id, artifact=found,
                  crumbs=crumbs(folder), text=text[:PREVIEW_CHARS] if text is not None else None,
                  cut=text is not None and len(text) > PREVIEW_CHARS,
                  image=found.mime_type in INLINE_IMAGES)


async def artifact_bytes(request: Request) -> Response:
    """A file's bytes: safe images inline (for the preview), anything else, or with ?download=1, as a download."""
    folder, name = paths.split(request.path_params["file"])
    artifact, data = await service_of(request).disks.read_artifact(request.path_params["disk_id"], folder, name)
    return file_response(data, artifact.mime_type, artifact.filename, inline="download" not in request.query_params)


def crumbs(folder: str) -> list[tuple[str, str]]:
    """(name, folder path) for each folder from the root down to `folder`, e.g. /a/b/ -> /, a, b."""
    parts = [p for p in folder.split("/") if p]
    return [("/", "/"), *((part, "/" + "/".join(parts[: n + 1]) + "/") for n, part in enumerate(parts))]


VIEW = View(
    name="disks",
    label="Disks",
    path="/disks",
    routes=(
        Route("/disks", disk_list, methods=["GET"]),
        Route("/disks/{disk_id}", disk_detail, methods=["GET"]),
        Route("/disks/{disk_id}/files/{file:path}", artifact_page, methods=["GET"]),
        Route("/disks/{disk_id}/raw/{file:path}", artifact_bytes, methods=["GET"]),
    ),
)
