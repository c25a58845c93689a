"""Plain HTTP routes served beside MCP by the HTTP app: public artifact downloads, Claude Code hook events."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import quote

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from acontext_mcp.auth import StaticTokenVerifier
from acontext_mcp.errors import AcontextError, InvalidToken, NotFound
from acontext_mcp.projects import DEFAULT_PROJECT, use_project
from acontext_mcp.services.disks.public_urls import ROUTE

if TYPE_CHECKING:
    from acontext_mcp.container import Container


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


HOOK_ROUTE = "/hooks/claude-code"
_STORE_EVENTS = frozenset({"Stop", "SubagentStop", "PreCompact", "SessionEnd"})
log = logging.getLogger(__name__)


def claude_code_hook_route(service: Callable[[], Container], tokens: Mapping[str, str]) -> Route:
    """POST /hooks/claude-code: a Claude Code hook event (what `acontext-mcp hook claude-code` posts).

    Stop, SubagentStop, PreCompact, SessionEnd: 202 at once; the transcript's new lines are stored
    after the response. SessionStart: 200 with the skills and preferences for the session's context.
    With tokens configured, a bearer token is required and picks the project.
    """
    verifier = StaticTokenVerifier(tokens) if tokens else None

    async def hook(request: Request) -> Response:
        project = DEFAULT_PROJECT
        if verifier is not None:
            scheme, _, token = request.headers.get("authorization", "").partition(" ")
            access = await verifier.verify_token(token) if scheme.lower() == "bearer" else None
            if access is None or access.client_id is None:
                return PlainTextResponse("a valid bearer token is required", status_code=401)
            project = access.client_id
        try:
            event = await request.json()
        except ValueError:
            return PlainTextResponse("the body is not JSON", status_code=400)
        if not isinstance(event, dict):
            return PlainTextResponse("the body is not a JSON object", status_code=400)
        name, space = event.get("hook_event_name"), event.get("space")
        if space is not None and not isinstance(space, str):
            return PlainTextResponse("space: must be a string", status_code=400)
        if name == "SessionStart":
            cwd = event.get("cwd") if isinstance(event.get("cwd"), str) else None
            with use_project(project):
                return PlainTextResponse(await service().capture.session_context(cwd, space))
        if name not in _STORE_EVENTS:
            return Response(status_code=204)
        for field in ("session_id", "transcript_path"):
            if not isinstance(event.get(field), str) or not event[field]:
                return PlainTextResponse(f"{field}: a non-empty string is required", status_code=400)
        if not event["transcript_path"].endswith(".jsonl"):  # and its first line must be a transcript entry
            return PlainTextResponse("transcript_path: not a Claude Code transcript (*.jsonl)", status_code=400)

        async def store() -> None:
            with use_project(project):
                try:
                    await service().capture.capture_claude_code(
                        event["transcript_path"], event["session_id"], space, final=name == "SessionEnd",
                        source="hook", strict=True)
                except AcontextError as exc:
                    log.warning("claude-code hook %s for session %s: %s", name, event["session_id"], exc)

        return JSONResponse({"status": "accepted"}, status_code=202, background=BackgroundTask(store))

    return Route(HOOK_ROUTE, hook, methods=["POST"])
