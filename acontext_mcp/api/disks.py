"""Disks and their artifacts: /disk/..."""

from __future__ import annotations

import json
from typing import Any

from acontext_mcp.api.core import ApiError, Call, Router, page_of
from acontext_mcp.errors import InvalidArgument
from acontext_mcp.projects import current_project
from acontext_mcp.services.disks import paths
from acontext_mcp.services.disks.models import Artifact, Disk

router = Router()
MAX_MATCHES = 1000
_CODE = {"py", "js", "ts", "tsx", "jsx", "go", "rs", "java", "c", "h", "cpp", "rb", "sh", "sql", "html", "css"}


def disk_json(disk: Disk) -> dict[str, Any]:
    return {"id": disk.id, "project_id": current_project(), "user_id": None,
            "created_at": disk.created_at, "updated_at": disk.created_at}


def artifact_json(artifact: Artifact) -> dict[str, Any]:
    """The SDK's `Artifact`: system facts under `meta.__artifact_info__`, beside the caller's meta."""
    info = {"size": artifact.size, "mime": artifact.mime_type, "sha256": artifact.sha256}
    return {
        "disk_id": artifact.disk_id,
        "path": artifact.file_path,
        "filename": artifact.filename,
        "meta": {"__artifact_info__": info, **artifact.meta},
        "created_at": artifact.created_at,
        "updated_at": artifact.updated_at,
    }


def _user_meta(raw: Any, where: str) -> dict[str, Any] | None:
    """`meta` as the SDK sends it: JSON text of an object."""
    if raw is None or raw == "":
        return None
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise ApiError(400, f"{where} 'meta' is not valid JSON") from None
    if not isinstance(raw, dict):
        raise ApiError(400, f"{where} 'meta' must be a JSON object")
    if "__artifact_info__" in raw:
        raise ApiError(400, f"{where} 'meta' may not set __artifact_info__ (the server keeps it)")
    return raw


def _full_path(call: Call) -> tuple[str, str]:
    value = call.query("file_path")
    if not value:
        raise ApiError(400, "query parameter 'file_path' (folder and file name, e.g. /todo/todo.md) is required")
    return paths.split(value, "file_path")


@router.post("/disk")
async def create_disk(call: Call) -> Any:
    if (await call.json()).data.get("user") is not None:
        raise ApiError(501, "body field 'user': users are not yet implemented by this server")
    return disk_json(await call.service.disks.create_disk())


@router.get("/disk")
async def list_disks(call: Call) -> Any:
    if call.query("user"):
        raise ApiError(501, "query parameter 'user': users are not yet implemented by this server")
    return page_of([disk_json(d) for d in (await call.service.disks.list_disks()).items], call, "disk-page")


@router.delete("/disk/{disk_id}")
async def delete_disk(call: Call) -> None:
    await call.service.disks.delete_disk(call.path("disk_id"))


@router.post("/disk/{disk_id}/artifact")
async def upsert_artifact(call: Call) -> Any:
    if not call.is_multipart():
        raise ApiError(400, "send the artifact as multipart/form-data with a 'file' field")
    form = await call.form()
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise ApiError(400, "multipart field 'file' (the file to store) is required")
    file_path = form.get("file_path") or "/"
    if not isinstance(file_path, str):
        raise ApiError(400, "multipart field 'file_path' must be text")
    meta = _user_meta(form.get("meta"), "multipart field")
    artifact = await call.service.disks.upsert_bytes(
        call.path("disk_id"), file_path, upload.filename or "", await upload.read(), meta
    )
    return artifact_json(artifact)


@router.get("/disk/{disk_id}/artifact")
async def get_artifact(call: Call) -> Any:
    folder, name = _full_path(call)
    with_content = call.query_bool("with_content", True)
    found = await call.service.disks.get_artifact(
        call.path("disk_id"), folder, name, with_content=with_content,
        with_public_url=call.query_bool("with_public_url", True),
    )
    content = None
    if with_content and found.encoding == "utf-8" and found.content is not None:
        content = {"type": _content_type(found.filename, found.mime_type), "raw": found.content}
    return {"artifact": artifact_json(found), "public_url": found.public_url, "content": content}


@router.put("/disk/{disk_id}/artifact")
async def update_artifact(call: Call) -> Any:
    body = await call.json()
    folder, name = paths.split(body.get("file_path", str), "file_path")
    meta = _user_meta(body.get("meta", (str, dict)), "body field") or {}
    return {"artifact": artifact_json(await call.service.disks.set_artifact_meta(call.path("disk_id"), folder, name,
                                                                                  meta))}


@router.delete("/disk/{disk_id}/artifact")
async def delete_artifact(call: Call) -> None:
    folder, name = _full_path(call)
    await call.service.disks.delete_artifact(call.path("disk_id"), folder, name)


@router.get("/disk/{disk_id}/artifact/ls")
async def list_artifacts(call: Call) -> Any:
    listing = await call.service.disks.list_artifacts(call.path("disk_id"), call.query("path") or "/")
    return {"artifacts": [artifact_json(a) for a in listing.files], "directories": listing.folders}


@router.get("/disk/{disk_id}/artifact/glob")
async def glob_artifacts(call: Call) -> Any:
    limit = call.query_int("limit", 100, 1, MAX_MATCHES) or 100
    matches = await call.service.disks.glob_artifacts(call.path("disk_id"), _required_query(call))
    return [artifact_json(a) for a in matches.items[:limit]]


@router.get("/disk/{disk_id}/artifact/grep")
async def grep_artifacts(call: Call) -> Any:
    """Files whose text matches the regular expression `query`, each once, in path order."""
    disk_id = call.path("disk_id")
    limit = call.query_int("limit", 100, 1, MAX_MATCHES) or 100
    found = await call.service.disks.grep_artifacts(disk_id, _required_query(call), limit=MAX_MATCHES)
    files = list(dict.fromkeys((m.file_path, m.filename) for m in found.matches))[:limit]
    return [artifact_json(await call.service.disks.get_artifact(disk_id, folder, name, with_content=False))
            for folder, name in files]


def _required_query(call: Call) -> str:
    query = call.query("query")
    if not query:
        raise InvalidArgument("query parameter 'query' (the pattern) is required")
    return query


def _content_type(filename: str, mime_type: str) -> str:
    """FileContent.type: json, csv, code or text."""
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if extension == "json" or mime_type == "application/json":
        return "json"
    if extension == "csv":
        return "csv"
    return "code" if extension in _CODE else "text"
