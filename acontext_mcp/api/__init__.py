"""The Acontext REST API at `/api/v1`, so the official `acontext` Python SDK (0.0.7 and 0.1.x) works
against this server unmodified. A thin adapter: each handler reads the request, calls one service
method (the same ones the MCP tools call) and returns its result; `core` does the rest.

Adding a route
--------------
In the module of its family (or a new one, listed in `MODULES` below)::

    from acontext_mcp.api.core import Call, Router

    router = Router()

    @router.get("/session/{session_id}/token_counts")
    async def token_counts(call: Call) -> Any:
        return await call.service.messages.get_token_counts(call.path("session_id"))

- The handler runs in the caller's project (bearer token), with `call.service` the `Container`.
- Read input with `call.path(name)`, `call.query(name)`, `call.query_int(name, default, low, high)`,
  `call.query_bool(name)`, `call.query_json(name)`, `(await call.json()).get(name, type, default)`
  (omit `default` for a required field) and `await call.form()` for multipart; the body is bounded.
- Return a pydantic model, dict, list or None: it becomes `data` of `{code, data, msg, error}`.
  Return `Message("text")` for a bare `msg`, or a Starlette `Response` for raw bytes.
  Lists the SDK pages: `page_of(items, call, kind)` gives `{items, next_cursor, has_more}`.
- Raise domain errors (`acontext_mcp.errors`): mapped once to 404/400/413/409/503/...;
  `ApiError(status, msg)` for what only the edge knows.
- A route listed in `missing.NOT_YET` answers 501 until some module defines it: defining it is
  enough, the 501 entry is then skipped (delete it from the list when convenient).
"""

from __future__ import annotations

from collections.abc import Callable

from mcp.server.transport_security import TransportSecurityMiddleware, TransportSecuritySettings
from starlette.routing import Mount, Route

from acontext_mcp.api import disks, features, misc, missing, sessions, skills, spaces
from acontext_mcp.api.core import ApiError, Call, Edge, Router, endpoint, not_implemented
from acontext_mcp.container import Container
from acontext_mcp.settings import Settings

PREFIX = "/api/v1"
MODULES = (misc, sessions, disks, spaces, features, skills)


def routers() -> list[Router]:
    return [module.router for module in MODULES]


def build_api(
    settings: Settings, service: Callable[[], Container], max_body: int, security: TransportSecuritySettings
) -> Mount:
    """Every REST route under `/api/v1`; unbuilt ones answer 501 with the reason."""
    edge = Edge(service, settings, max_body, TransportSecurityMiddleware(security))
    routes: list[Route] = []
    seen: set[tuple[str, str]] = set()
    for router in routers():
        for spec in router.specs:
            seen.add((spec.method, spec.path))
            routes.append(Route(spec.path, endpoint(spec.handler, edge),
                                methods=[spec.method]))
    for method, path, reason in missing.NOT_YET:
        if (method, path) not in seen:
            routes.append(Route(path, endpoint(not_implemented(reason), edge),
                                methods=[method]))
    routes.append(Route("/{path:path}", endpoint(_no_route, edge), methods=list(_METHODS)))
    return Mount(PREFIX, routes=routes)


_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


async def _no_route(call: Call) -> None:
    raise ApiError(404, f"no route {call.request.method} {PREFIX}/{call.path('path')} on this server; "
                        "see the README's 'Using the Acontext SDK' for the routes it answers")
