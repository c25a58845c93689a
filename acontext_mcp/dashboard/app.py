"""Assemble the dashboard: views, login, static files, error pages, host checks and security headers."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from acontext_mcp.container import Container
from acontext_mcp.dashboard import auth, csrf
from acontext_mcp.dashboard.pages import ServiceGetter, base_url, render
from acontext_mcp.dashboard.views import VIEWS
from acontext_mcp.errors import Conflict, InvalidArgument, NotFound
from acontext_mcp.http_limits import FORM_BYTES, BodyLimit, TrustedHosts
from acontext_mcp.settings import Settings

STATIC = Path(__file__).parent / "static"
PREFIX = "/dashboard"
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "media-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",  # never leaks to other sites; same-origin posts keep their Origin header
    "x-frame-options": "DENY",
}
log = logging.getLogger(__name__)


class SecurityHeaders:
    """ASGI middleware: a strict Content-Security-Policy and friends on every dashboard response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items() if k.encode() not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def home(request: Request) -> Response:
    return RedirectResponse(f"{base_url(request)}{VIEWS[0].path}", status_code=303)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return render(request, "error.html", status=404, title="Not found", detail="There is no page at this address.")
    title = {400: "Bad request", 403: "Forbidden", 405: "Method not allowed"}.get(exc.status_code, "Request failed")
    return render(request, "error.html", status=exc.status_code, title=title, detail=exc.detail)


async def not_found(request: Request, exc: Exception) -> Response:
    """What is missing, without the hint for MCP callers (\"call list_sessions\"): a browser user has the lists."""
    detail = f"{exc.kind} {exc.id!r} not found: it may have been deleted, or the address is mistyped." \
        if isinstance(exc, NotFound) else str(exc)
    return render(request, "error.html", status=404, title="Not found", detail=detail)


async def invalid_argument(request: Request, exc: Exception) -> Response:
    return render(request, "error.html", status=400, title="Bad request", detail=str(exc))


async def conflict(request: Request, exc: Exception) -> Response:
    return render(request, "error.html", status=409, title="Already done", detail=str(exc))


async def server_error(request: Request, exc: Exception) -> Response:
    """Any unexpected error: a plain page; the traceback goes to the log, never to the browser."""
    try:
        return render(request, "error.html", status=500, title="Something went wrong",
                      detail="The dashboard hit an unexpected error; the server log has the details.")
    except Exception:  # the page itself failed: fall back to bare text
        log.exception("rendering the error page failed")
        return HTMLResponse("<h1>Something went wrong</h1>", status_code=500)


def build_dashboard(settings: Settings, service: ServiceGetter) -> Starlette:
    """The dashboard as an app to mount (at /dashboard); `service` returns the open, shared service."""
    tokens = settings.project_tokens
    routes = [
        Route("/", home, methods=["GET"]),
        Route("/login", auth.login_form, methods=["GET"]),
        Route("/login", auth.login, methods=["POST"]),
        Route("/logout", auth.logout, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
        *(route for view in VIEWS for route in view.routes),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(TrustedHosts, patterns=settings.trusted_hosts),
            Middleware(SecurityHeaders),
            Middleware(auth.LoginRequired, tokens=tokens, project=settings.project, service=service),
        ],
        exception_handlers={
            HTTPException: http_error,
            NotFound: not_found,
            InvalidArgument: invalid_argument,
            Conflict: conflict,
            Exception: server_error,
        },
    )
    app.state.service = service
    app.state.tokens = tokens
    app.state.login_throttle = auth.LoginThrottle()
    app.state.csrf_secret = csrf.new_secret(settings.url_secret.get_secret_value().encode()
                                            if settings.url_secret else None)
    app.state.views = VIEWS
    return app


def build_dashboard_app(settings: Settings) -> Starlette:
    """Just the dashboard at /dashboard, opening the service itself: `acontext-mcp dashboard`."""
    shared: dict[str, Container] = {}

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        async with Container.open(settings, background=False) as opened:  # the serving process observes
            shared["service"] = opened
            yield

    async def root(_: Request) -> Response:
        return RedirectResponse(f"{PREFIX}/", status_code=307)

    dashboard = build_dashboard(settings, lambda: shared["service"])
    return Starlette(routes=[Route("/", root), Mount(PREFIX, app=dashboard)], lifespan=lifespan,
                     middleware=[Middleware(BodyLimit, default=FORM_BYTES)])
