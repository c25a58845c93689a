"""The REST edge's plumbing: the `{code, data, msg, error}` envelope, bearer auth and the request's project,
bounded body reading, domain-error mapping, field readers that name the bad field, and list pages."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mcp.server.auth.middleware.bearer_auth import AuthenticatedUser
from mcp.server.transport_security import TransportSecurityMiddleware
from pydantic import BaseModel
from starlette.datastructures import FormData
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response

from acontext_mcp.auth import is_loopback
from acontext_mcp.container import Container
from acontext_mcp.errors import (
    AcontextError,
    Conflict,
    InvalidArgument,
    InvalidToken,
    LLMError,
    NotFound,
    PayloadTooLarge,
    TimedOut,
    Unavailable,
)
from acontext_mcp.projects import use_project
from acontext_mcp.services import cursors
from acontext_mcp.settings import Settings

# The placeholder token of the seed's quickstart: fine on loopback, refused anywhere else.
DEMO_TOKEN = "sk-ac-your-root-api-bearer-token"

_STATUS: tuple[tuple[type[AcontextError], int], ...] = (
    (NotFound, 404),
    (PayloadTooLarge, 413),
    (InvalidArgument, 400),
    (Conflict, 409),
    (InvalidToken, 403),
    (TimedOut, 504),
    (LLMError, 502),
    (Unavailable, 503),
)


class ApiError(Exception):
    """An answer other than success decided at the REST edge: a missing field, 401, 501."""

    def __init__(self, status: int, message: str) -> None:
        self.status, self.message = status, message
        super().__init__(message)


def status_of(exc: AcontextError) -> int:
    return next((status for kind, status in _STATUS if isinstance(exc, kind)), 400)


def envelope(data: Any = None, status: int = 200, msg: str = "ok", error: str = "") -> JSONResponse:
    """The SDK's wire format: `code` mirrors the HTTP status; `msg` is what `APIError` shows."""
    return JSONResponse({"code": status, "data": data, "msg": msg, "error": error}, status_code=status)


def failure(status: int, message: str) -> JSONResponse:
    return envelope(None, status, message, message)


def to_json(value: Any) -> Any:
    """Pydantic models (and lists/dicts of them) as JSON-ready data."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    return value


_MISSING: Any = object()
T = TypeVar("T")


class Fields:
    """Typed reads of one JSON object (a body, a form field's JSON) whose errors name the field."""

    def __init__(self, data: Mapping[str, Any], where: str = "body") -> None:
        self.data, self.where = data, where

    def __contains__(self, name: str) -> bool:
        return name in self.data

    def get(self, name: str, kind: type[T] | tuple[type, ...], default: Any = _MISSING) -> Any:
        """`data[name]` checked against `kind`; `default` when absent or null (required when no default)."""
        value = self.data.get(name)
        if value is None:
            if default is _MISSING:
                raise ApiError(400, f"{self.where} field {name!r} is required")
            return default
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
            names = " or ".join(k.__name__.replace("dict", "object").replace("list", "array") for k in kinds)
            raise ApiError(400, f"{self.where} field {name!r} must be {names}, got {type(value).__name__}")
        return value


@dataclass
class Call:
    """One REST request as handlers see it: the container, path and query parameters, the body."""

    request: Request
    service: Container
    max_body: int
    _body: bytes | None = field(default=None, repr=False)

    def path(self, name: str) -> str:
        value: str = self.request.path_params[name]
        return value

    def query(self, name: str, default: str | None = None) -> str | None:
        return self.request.query_params.get(name, default)

    def query_int(self, name: str, default: int | None, low: int = 1, high: int = 1_000_000) -> int | None:
        text = self.request.query_params.get(name)
        if text is None or text == "":
            return default
        try:
            value = int(text)
        except ValueError:
            raise ApiError(400, f"query parameter {name!r} must be an integer, got {text[:40]!r}") from None
        if not low <= value <= high:
            raise ApiError(400, f"query parameter {name!r} must be between {low} and {high}, got {value}")
        return value

    def query_bool(self, name: str, default: bool = False) -> bool:
        text = self.request.query_params.get(name)
        if text is None or text == "":
            return default
        if text.lower() in ("true", "1", "yes"):
            return True
        if text.lower() in ("false", "0", "no"):
            return False
        raise ApiError(400, f"query parameter {name!r} must be true or false, got {text[:40]!r}")

    def query_json(self, name: str) -> Any:
        text = self.request.query_params.get(name)
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            raise ApiError(400, f"query parameter {name!r} is not valid JSON") from None

    async def body(self) -> bytes:
        """The raw body, read at most `max_body` bytes before answering 413."""
        if self._body is None:
            declared = self.request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > self.max_body:
                raise _too_large(int(declared), self.max_body)
            chunks, size = [], 0
            try:
                async for chunk in self.request.stream():
                    size += len(chunk)
                    if size > self.max_body:
                        raise _too_large(size, self.max_body)
                    chunks.append(chunk)
            except ClientDisconnect:
                raise ApiError(400, "the client went away before sending the whole body") from None
            self._body = b"".join(chunks)
            self.request._body = self._body  # Starlette's own parsers (form) read it from here
        return self._body

    async def json(self) -> Fields:
        """The body as a JSON object (an empty body is `{}`)."""
        raw = await self.body()
        if not raw.strip():
            return Fields({})
        try:
            data = json.loads(raw)
        except ValueError as exc:
            raise ApiError(400, f"the body is not valid JSON: {exc}") from None
        if not isinstance(data, dict):
            raise ApiError(400, "the body must be a JSON object")
        return Fields(data)

    async def form(self) -> FormData:
        """A multipart body (already bounded by `max_body`)."""
        await self.body()
        try:
            return await self.request.form(max_files=100, max_fields=100, max_part_size=self.max_body)
        except AssertionError as exc:  # starlette: python-multipart missing
            raise ApiError(500, str(exc)) from None
        except Exception as exc:  # starlette's MultiPartException: a malformed body
            raise ApiError(400, f"the multipart body could not be read: {exc}") from None

    def is_multipart(self) -> bool:
        return self.request.headers.get("content-type", "").startswith("multipart/form-data")


def _too_large(size: int, limit: int) -> ApiError:
    return ApiError(413, f"the request body is {size}+ bytes, over this server's limit of {limit} bytes")


def page_of(items: list[Any], call: Call, kind: str, default_limit: int = 20, high: int = 200) -> dict[str, Any]:
    """A list page `{items, next_cursor, has_more}` over a list the service returned whole, oldest first:
    `limit`, `cursor` (an offset cursor from the previous page) and `time_desc` from the query."""
    limit = call.query_int("limit", default_limit, 1, high) or default_limit
    cursor = call.query("cursor")
    start = cursors.decode(kind, cursor) if cursor else 0
    ordered = list(reversed(items)) if call.query_bool("time_desc") else list(items)
    chosen = ordered[start:start + limit]
    has_more = start + limit < len(ordered)
    return {
        "items": to_json(chosen),
        "next_cursor": cursors.encode(kind, start + limit) if has_more else None,
        "has_more": has_more,
    }


Handler = Callable[[Call], Awaitable[Any]]


def project_of(request: Request, settings: Settings) -> str:
    """The project of the request's bearer token; raises 401 when tokens are configured and none matched.

    Without tokens (loopback, or `--insecure`) any bearer is accepted, as for MCP, except the seed's
    placeholder token off loopback.
    """
    offered = request.headers.get("authorization", "")
    scheme, _, token = offered.partition(" ")
    if token.strip() == DEMO_TOKEN and not is_loopback(settings.host):
        raise ApiError(401, "the quickstart's placeholder token is accepted on loopback only; "
                            "configure ACONTEXT_MCP_TOKEN and send that")
    if not settings.project_tokens:
        return settings.project
    user = request.scope.get("user")
    if isinstance(user, AuthenticatedUser) and user.access_token.client_id:
        return user.access_token.client_id
    if scheme.lower() != "bearer" or not token:
        raise ApiError(401, "missing bearer token: send Authorization: Bearer <token>")
    raise ApiError(401, "the bearer token is not one this server accepts")


@dataclass(frozen=True)
class Edge:
    """What every endpoint shares: the running container, settings, the body limit, the Host/Origin guard."""

    service: Callable[[], Container]
    settings: Settings
    max_body: int
    guard: TransportSecurityMiddleware


def endpoint(handler: Handler, edge: Edge) -> Callable[[Request], Awaitable[Response]]:
    """A Starlette endpoint running `handler` in the caller's project, answering in the envelope."""
    settings, service, max_body = edge.settings, edge.service, edge.max_body

    async def run(request: Request) -> Response:
        refused = await edge.guard.validate_request(request)  # DNS rebinding: the same Host/Origin rules as /mcp
        if refused is not None:
            return failure(refused.status_code, bytes(refused.body).decode())
        try:
            project = project_of(request, settings)
            with use_project(project):
                result = await handler(Call(request, service(), max_body))
        except ApiError as exc:
            return failure(exc.status, exc.message)
        except AcontextError as exc:
            return failure(status_of(exc), str(exc))
        if isinstance(result, Response):
            return result
        if isinstance(result, Message):
            return envelope(None, msg=result.text)
        return envelope(to_json(result))

    return run


@dataclass(frozen=True)
class Message:
    """A handler's answer with no data, only `msg` (e.g. ping's "pong")."""

    text: str


@dataclass(frozen=True)
class Spec:
    method: str
    path: str
    handler: Handler


class Router:
    """Routes of one module: `@router.get("/session/{session_id}")` on `async def handler(call) -> result`."""

    def __init__(self) -> None:
        self.specs: list[Spec] = []

    def route(self, method: str, path: str) -> Callable[[Handler], Handler]:
        def add(handler: Handler) -> Handler:
            self.specs.append(Spec(method, path, handler))
            return handler

        return add

    def get(self, path: str) -> Callable[[Handler], Handler]:
        return self.route("GET", path)

    def post(self, path: str) -> Callable[[Handler], Handler]:
        return self.route("POST", path)

    def put(self, path: str) -> Callable[[Handler], Handler]:
        return self.route("PUT", path)

    def patch(self, path: str) -> Callable[[Handler], Handler]:
        return self.route("PATCH", path)

    def delete(self, path: str) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path)


def not_implemented(message: str) -> Handler:
    async def answer(_: Call) -> Any:
        raise ApiError(501, message)

    return answer
