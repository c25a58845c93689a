"""The dashboard's guard: with ACONTEXT_MCP_TOKEN(S) set, pages need a login cookie (or a bearer token).

The cookie holds an HMAC of the token, not the token; it is HttpOnly and SameSite=Strict. The token
signed in with picks the project every page shows (multi-tenant mode); without tokens it is
`ACONTEXT_PROJECT`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from urllib.parse import parse_qs, urlencode

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from acontext_mcp.dashboard.pages import base_url, render
from acontext_mcp.projects import use_project

COOKIE = "acontext_dashboard"
PUBLIC = ("/login", "/static/")


def cookie_value(token: str) -> str:
    return hmac.new(token.encode(), b"acontext-mcp dashboard login", hashlib.sha256).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def project_of(given: str, tokens: Mapping[str, str], derive: Callable[[str], str] = str) -> str | None:
    """The project of the token whose `derive(token)` equals `given`; every token is compared, in constant time."""
    found = None
    for token, project in tokens.items():
        if same_secret(given, derive(token)):
            found = project
    return found


def signed_in(headers: Headers, cookies: dict[str, str], tokens: Mapping[str, str]) -> str | None:
    """The project of the request's bearer token or login cookie; None when it carries neither."""
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and (project := project_of(credentials, tokens)) is not None:
        return project
    return project_of(cookies.get(COOKIE, ""), tokens, cookie_value)


class LoginRequired:
    """ASGI middleware: lets a request through when no token is set, it is public, or it is signed in
    (in the project of its token); otherwise a page request is sent to the login form and anything else gets 401.
    """

    def __init__(self, app: ASGIApp, tokens: Mapping[str, str], project: str) -> None:
        self.app = app
        self.tokens = tokens
        self.project = project

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.tokens:
            with use_project(self.project):
                await self.app(scope, receive, send)
            return
        request = Request(scope)
        path = request.url.path.removeprefix(base_url(request))
        project = signed_in(request.headers, request.cookies, self.tokens)
        if project is not None or path.startswith(PUBLIC):
            with use_project(project or self.project):
                await self.app(scope, receive, send)
            return
        response: Response
        if request.method in ("GET", "HEAD"):
            target = path + (f"?{request.url.query}" if request.url.query else "")
            response = RedirectResponse(f"{base_url(request)}/login?{urlencode({'next': target})}", status_code=303)
        else:
            response = Response("sign in at the dashboard's /login first", status_code=401)
        await response(scope, receive, send)


def _local_target(next_path: str) -> str:
    """Where to go after signing in: a path inside the dashboard, never another site."""
    return next_path if next_path.startswith("/") and not next_path.startswith(("//", "/\\")) else "/"


async def login_form(request: Request) -> Response:
    if not request.app.state.tokens:
        return RedirectResponse(f"{base_url(request)}/", status_code=303)
    return render(request, "login.html", next=_local_target(request.query_params.get("next", "/")), error=None)


async def login(request: Request) -> Response:
    tokens: Mapping[str, str] = request.app.state.tokens
    if not tokens:
        return RedirectResponse(f"{base_url(request)}/", status_code=303)
    body = await request.body()  # bounded while read: BodyLimit refuses more than FORM_BYTES
    form = parse_qs(body.decode("utf-8", "replace"))
    given, target = form.get("token", [""])[0], _local_target(form.get("next", ["/"])[0])
    if project_of(given, tokens) is None:
        return render(request, "login.html", status=401, next=target, error="That token is not right.")
    response = RedirectResponse(f"{base_url(request)}{target}", status_code=303)
    response.set_cookie(COOKIE, cookie_value(given), path=f"{base_url(request)}/", httponly=True, samesite="strict")
    return response


async def logout(request: Request) -> Response:
    response = RedirectResponse(f"{base_url(request)}/login", status_code=303)
    response.delete_cookie(COOKIE, path=f"{base_url(request)}/", httponly=True, samesite="strict")
    return response
