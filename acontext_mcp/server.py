"""Build the MCP server, and the HTTP app that serves it over streamable HTTP and SSE."""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import anyio
from mcp.server.mcpserver import MCPServer
from mcp.server.transport_security import TransportSecuritySettings
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from acontext_mcp import __version__, prompts, resources, tools
from acontext_mcp.auth import StaticTokenVerifier, auth_settings
from acontext_mcp.glue import Opening, ServiceProvider, argument_errors, opening, project_scope
from acontext_mcp.http_limits import FORM_BYTES, BodyLimit, TrustedHosts
from acontext_mcp.settings import Settings

if TYPE_CHECKING:
    from acontext_mcp.container import Container

INSTRUCTIONS = """\
acontext-mcp stores an agent's context. Create a session with create_session, store each
turn with send_message (OpenAI or Anthropic message shapes), and read the conversation back,
in either shape, with get_messages. When an LLM is configured, a background observer keeps each
session's task list, with progress and the user's preferences: read it with get_tasks. Spaces
hold learned skills (SOPs) in folders and pages: call experience_search before a task to reuse
what worked before. Keep files (plans, code, reports, images) on a disk: create_disk, then
upsert_artifact, list_artifacts, glob_artifacts, grep_artifacts and get_artifact."""


def build_server(settings: Settings, provide: ServiceProvider | None = None) -> MCPServer[Opening]:
    """An MCP server whose tools run on a `Container`.

    By default each MCP session (stdio, in-process) opens the service from `settings`, in the background: the
    server answers `initialize` and lists its tools meanwhile (see `glue.opening`). Pass `provide` to share one
    already open, as the HTTP app does.
    """

    @asynccontextmanager
    async def open_service() -> AsyncIterator[Container]:
        # The services, store and LLM clients load on a worker thread while the event loop answers initialize.
        container = await anyio.to_thread.run_sync(importlib.import_module, "acontext_mcp.container")
        async with container.Container.open(settings) as service:
            yield service

    provider = provide or open_service

    @asynccontextmanager
    async def lifespan(_: MCPServer[Opening]) -> AsyncIterator[Opening]:
        async with opening(settings, provider) as state:
            yield state

    tokens = settings.project_tokens
    server = MCPServer(
        "acontext-mcp",
        version=__version__,
        instructions=INSTRUCTIONS,
        lifespan=lifespan,
        log_level=settings.log_level,
        # Only the HTTP transports check the token; stdio is a local child process of its host.
        token_verifier=StaticTokenVerifier(tokens) if tokens else None,
        auth=auth_settings(f"http://{settings.host}:{settings.port}") if tokens else None,
        # project_scope is outermost of ours: the resource middlewares below run in the project
        middleware=[project_scope, argument_errors],
    )
    tools.register(server)
    resources.register(server)
    prompts.register(server)
    return server


def build_http_app(settings: Settings) -> Starlette:
    """One ASGI app: streamable HTTP at /mcp, SSE at /sse (posts to /messages/), /health, /dashboard, and the
    Acontext REST API at /api/v1.

    The service is opened once, when the app starts, and shared by every MCP session. With
    `stateless_http`, /mcp keeps no session between requests, so any replica can answer any
    request; SSE always holds its session in one process.
    """
    # Only HTTP serves these (and jinja2, which the dashboard loads); stdio opens the container in the background.
    from acontext_mcp.api import build_api
    from acontext_mcp.container import Container
    from acontext_mcp.dashboard import build_dashboard
    from acontext_mcp.routes import artifact_route, claude_code_hook_route

    shared: dict[str, Container] = {}

    @asynccontextmanager
    async def provide() -> AsyncIterator[Container]:
        yield shared["service"]

    server = build_server(settings, provide)
    # Tied to the message limit (not 2x the artifact one): a body is refused while it is read, before
    # anything parses it; BodyLimit below does the same for every other route.
    body_limit = settings.request_body_limit
    security = transport_security(settings)
    streamable = server.streamable_http_app(
        max_request_body_size=body_limit, transport_security=security, stateless_http=settings.stateless_http
    )
    sse = server.sse_app(max_request_body_size=body_limit, transport_security=security)

    async def health(_: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "version": __version__})

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with Container.open(settings) as service:
            shared["service"] = service
            async with server.session_manager.run():
                yield

    dashboard = build_dashboard(settings, lambda: shared["service"])
    routes: list[Any] = [
        Route("/health", health, methods=["GET"]),
        build_api(settings, lambda: shared["service"], body_limit, security),
        artifact_route(lambda: shared["service"]),
        claude_code_hook_route(lambda: shared["service"], settings.project_tokens),
        *streamable.routes,
        *sse.routes,
        Mount("/dashboard", app=dashboard),
    ]
    # Host checks stricter than the SDK's prefix match, on every route but the health check and signed links.
    guards = [Middleware(TrustedHosts, patterns=settings.trusted_hosts, exempt=("/health", "/artifacts/")),
              Middleware(BodyLimit, default=body_limit, limits=[("/dashboard", FORM_BYTES)])]
    return Starlette(routes=routes, middleware=[*guards, *streamable.user_middleware], lifespan=lifespan)


def transport_security(settings: Settings) -> TransportSecuritySettings:
    """DNS-rebinding protection, always on: loopback names plus `ACONTEXT_MCP_ALLOWED_HOSTS`."""
    hosts = list(settings.trusted_hosts)
    return TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=hosts,
        allowed_origins=[f"{scheme}://{host}" for host in hosts for scheme in ("http", "https")],
    )
