"""Guards for every HTTP route: request-body limits enforced while the body is read, and Host checks.

`BodyLimit` is ASGI middleware for the whole HTTP app (MCP, dashboard, artifact and REST routes alike):
a body whose Content-Length is over the limit of its path is refused before any of it is read, and a
chunked body is counted as it arrives and cut off with 413 at the first byte past the limit, so memory
per request stays bounded whatever the client sends. New routes are covered without doing anything.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.datastructures import Headers
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

API_PREFIX = "/api/"
"""Paths whose clients (the Acontext SDK) parse every answer as the `{code, data, msg, error}` envelope."""

FORM_BYTES = 16 * 1024
"""The largest dashboard form post (login, decisions): a few fields."""


def refusal(path: str, status: int, text: str) -> Response:
    """A guard's answer: the REST API's JSON envelope under `API_PREFIX`, plain text elsewhere."""
    if path.startswith(API_PREFIX):
        return JSONResponse({"code": status, "data": None, "msg": text, "error": text}, status_code=status)
    return PlainTextResponse(text, status_code=status)


class BodyTooLarge(Exception):
    """Raised from `receive` once a request body passes its limit (the 413 has already been sent)."""


class BodyLimit:
    """ASGI middleware: refuse a request body over its limit while reading it (413, naming the setting).

    `limits` maps path prefixes to a limit (the longest matching prefix wins); other paths get `default`.
    """

    def __init__(self, app: ASGIApp, default: int, limits: Sequence[tuple[str, int]] = (),
                 setting: str = "ACONTEXT_MAX_REQUEST_BYTES") -> None:
        self.app = app
        self.default = default
        self.limits = sorted(limits, key=lambda item: len(item[0]), reverse=True)
        self.setting = setting

    def limit_for(self, path: str) -> int:
        return next((limit for prefix, limit in self.limits if path.startswith(prefix)), self.default)

    def refusal(self, path: str, limit: int) -> Response:
        text = f"request body over this server's limit of {limit} bytes (raise {self.setting} to allow larger ones)"
        return refusal(path, 413, text)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("root_path", "") + scope["path"]
        limit = self.limit_for(path)
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            await self.refusal(path, limit)(scope, receive, send)
            return
        received = 0
        started = refused = False

        async def counted_receive() -> Message:
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if not started and not refused:
                        refused = True
                        await self.refusal(path, limit)(scope, receive, send)
                    raise BodyTooLarge(f"request body over {limit} bytes")
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 is the answer; drop whatever the app tries to send after it
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except BodyTooLarge:
            if not refused:
                raise


def host_allowed(host: str, patterns: Sequence[str]) -> bool:
    """Whether a Host header matches one of `patterns`: exactly, or `name:*` for that name with any port or none
    (`localhost:evil` and `localhost.evil:80` match no `localhost:*`)."""
    for pattern in patterns:
        if host == pattern:
            return True
        if pattern.endswith(":*"):
            name = pattern[:-2]
            if host == name or (host.startswith(name + ":") and host[len(name) + 1:].isdigit()):
                return True
    return False


class TrustedHosts:
    """ASGI middleware: DNS-rebinding protection: an unknown Host header gets 421, except on the `exempt`
    path prefixes (a load balancer's health check, token-signed public links)."""

    def __init__(self, app: ASGIApp, patterns: Sequence[str], exempt: Sequence[str] = ()) -> None:
        self.app = app
        self.patterns = patterns
        self.exempt = tuple(exempt)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        checked = scope["type"] == "http" and not scope["path"].startswith(self.exempt)
        if checked and not host_allowed(Headers(scope=scope).get("host", ""), self.patterns):
            response = refusal(scope["path"], 421, "Invalid Host header; add it to ACONTEXT_MCP_ALLOWED_HOSTS")
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)
