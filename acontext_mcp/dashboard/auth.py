"""The dashboard's guard: with ACONTEXT_MCP_TOKEN(S) set, pages need a login cookie (or a bearer token).

The cookie names a login (a row that expires after ACONTEXT_DASHBOARD_LOGIN_TTL_S and is revoked by
signing out) and holds an HMAC of the token with that login's id, never the token; it is HttpOnly and
SameSite=Strict. The token signed in with picks the project every page shows (multi-tenant mode);
without tokens it is `ACONTEXT_PROJECT`. Failed sign-ins are rate-limited per client address.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import time
from collections.abc import Callable, Mapping
from urllib.parse import parse_qs, urlencode

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from acontext_mcp.dashboard.pages import ServiceGetter, base_url, render, service_of
from acontext_mcp.projects import use_project
from acontext_mcp.services.logins import LoginService

COOKIE = "acontext_dashboard"
PUBLIC = ("/login", "/static/")


LOGIN_FAILURES = 10
"""Failed sign-ins allowed per client address within `LOGIN_WINDOW_S`; more get 429."""
LOGIN_WINDOW_S = 300.0


def login_mac(token: str, login_id: str) -> str:
    return hmac.new(token.encode(), f"acontext-mcp dashboard login {login_id}".encode(), hashlib.sha256).hexdigest()


def cookie_value(token: str, login_id: str) -> str:
    return f"{login_id}.{login_mac(token, login_id)}"


class LoginThrottle:
    """Counts failed sign-ins per client address in a sliding window (per process)."""

    def __init__(self, limit: int = LOGIN_FAILURES, window_s: float = LOGIN_WINDOW_S) -> None:
        self.limit, self.window_s = limit, window_s
        self._failures: dict[str, list[float]] = {}

    def _recent(self, client: str) -> list[float]:
        now = time.monotonic()
        recent = [t for t in self._failures.get(client, []) if now - t < self.window_s]
        if recent:
            self._failures[client] = recent
        else:
            self._failures.pop(client, None)
        return recent

    def blocked_for(self, client: str) -> float:
        """Seconds until `client` may try again (0 when it may now)."""
        recent = self._recent(client)
        return self.window_s - (time.monotonic() - recent[0]) if len(recent) >= self.limit else 0.0

    def failed(self, client: str) -> None:
        if len(self._failures) > 10_000:  # bounded memory under a spray of addresses
            self._failures.clear()
        self._failures.setdefault(client, []).append(time.monotonic())


def same_secret(given: str, expected: str) -> bool:
    return hmac.compare_digest(given.encode(), expected.encode())


def project_of(given: str, tokens: Mapping[str, str], derive: Callable[[str], str] = str) -> str | None:
    """The project of the token whose `derive(token)` equals `given`; every token is compared, in constant time."""
    found = None
    for token, project in tokens.items():
        if same_secret(given, derive(token)):
            found = project
    return found


async def signed_in(
    headers: Headers, cookies: dict[str, str], tokens: Mapping[str, str], logins: LoginService
) -> str | None:
    """The project of the request's bearer token or live login cookie; None when it carries neither."""
    scheme, _, credentials = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and (project := project_of(credentials, tokens)) is not None:
        return project
    login_id, _, mac = cookies.get(COOKIE, "").partition(".")
    project = project_of(mac, tokens, lambda token: login_mac(token, login_id)) if login_id and mac else None
    return project if project is not None and await logins.active(login_id) else None


class LoginRequired:
    """ASGI middleware: lets a request through when no token is set, it is public, or it is signed in
    (in the project of its token); otherwise a page request is sent to the login form and anything else gets 401.
    """

    def __init__(self, app: ASGIApp, tokens: Mapping[str, str], project: str, service: ServiceGetter) -> None:
        self.app = app
        self.tokens = tokens
        self.project = project
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.tokens:
            with use_project(self.project):
                await self.app(scope, receive, send)
            return
        request = Request(scope)
        path = request.url.path.removeprefix(base_url(request))
        public = path.startswith(PUBLIC)
        project = None if public else await signed_in(
            request.headers, request.cookies, self.tokens, self.service().logins)
        if project is not None or public:
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
    throttle: LoginThrottle = request.app.state.login_throttle
    client = request.client.host if request.client else ""
    if (wait := throttle.blocked_for(client)) > 0:
        refused = render(request, "login.html", status=429, next="/",
                         error=f"Too many wrong tokens; try again in {math.ceil(wait)} s.")
        refused.headers["Retry-After"] = str(math.ceil(wait))
        return refused
    body = await request.body()  # bounded while read: BodyLimit refuses more than FORM_BYTES
    form = parse_qs(body.decode("utf-8", "replace"))
    given, target = form.get("token", [""])[0], _local_target(form.get("next", ["/"])[0])
    if project_of(given, tokens) is None:
        throttle.failed(client)
        return render(request, "login.html", status=401, next=target, error="That token is not right.")
    logins = service_of(request).logins
    login_id = await logins.start()
    response = RedirectResponse(f"{base_url(request)}{target}", status_code=303)
    response.set_cookie(COOKIE, cookie_value(given, login_id), max_age=logins.ttl_s, path=f"{base_url(request)}/",
                        httponly=True, samesite="strict")
    return response


async def logout(request: Request) -> Response:
    login_id = request.cookies.get(COOKIE, "").partition(".")[0]
    if login_id:
        await service_of(request).logins.revoke(login_id)  # the cookie stops working everywhere, even if copied
    response = RedirectResponse(f"{base_url(request)}/login", status_code=303)
    response.delete_cookie(COOKIE, path=f"{base_url(request)}/", httponly=True, samesite="strict")
    return response
