"""The dashboard's guard: with ACONTEXT_MCP_TOKEN set, pages need a login cookie (or the bearer token).

The cookie holds an HMAC of the token, not the token; it is HttpOnly and SameSite=Strict.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qs, urlencode

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from acontext_mcp.dashboard.pages import base_url, render

COOKIE = "acontext_dashboard"
PUBLIC = ("/login", "/static/")
MAX_FORM_BYTES = 16 * 1024


def cookie_value(token: str) -> str:
    return hmac.new(token.encode(), b"acontext-mcp dashboard login", hashlib.sha256).hexdigest()


def same_secret(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def signed_in(headers: Headers, cookies: dict[str, str], token: str) -> bool:
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and same_secret(credentials, token):
        return True
    return same_secret(cookies.get(COOKIE, ""), cookie_value(token))


class LoginRequired:
    """ASGI middleware: lets a request through when no token is set, it is public, or it is signed in;
    otherwise a page request is sent to the login form and anything else gets 401.
    """

    def __init__(self, app: ASGIApp, token: str | None) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self.token is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        path = request.url.path.removeprefix(base_url(request))
        if path.startswith(PUBLIC) or signed_in(request.headers, request.cookies, self.token):
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
    if request.app.state.token is None:
        return RedirectResponse(f"{base_url(request)}/", status_code=303)
    return render(request, "login.html", next=_local_target(request.query_params.get("next", "/")), error=None)


async def login(request: Request) -> Response:
    token: str | None = request.app.state.token
    if token is None:
        return RedirectResponse(f"{base_url(request)}/", status_code=303)
    body = await request.body()
    form = parse_qs(body[:MAX_FORM_BYTES].decode("utf-8", "replace"))
    given, target = form.get("token", [""])[0], _local_target(form.get("next", ["/"])[0])
    if not same_secret(given, token):
        return render(request, "login.html", status=401, next=target, error="That token is not right.")
    response = RedirectResponse(f"{base_url(request)}{target}", status_code=303)
    response.set_cookie(COOKIE, cookie_value(token), path=f"{base_url(request)}/", httponly=True, samesite="strict")
    return response


async def logout(request: Request) -> Response:
    response = RedirectResponse(f"{base_url(request)}/login", status_code=303)
    response.delete_cookie(COOKIE, path=f"{base_url(request)}/", httponly=True, samesite="strict")
    return response
