"""The glue between MCP requests and the container, shared by tools, resources and prompts: reach the
running `Container` with the request's project made current, and map domain errors to MCP errors once,
so a failed call or read tells the client what was wrong."""

from __future__ import annotations

import functools
import inspect
import logging
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import anyio
from mcp.server.auth.middleware.auth_context import get_access_token
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ResourceError, ToolError
from mcp.shared.exceptions import MCPError
from mcp_types import INTERNAL_ERROR, INVALID_PARAMS, CallToolResult, TextContent

from acontext_mcp.errors import AcontextError
from acontext_mcp.projects import use_project

if TYPE_CHECKING:
    from acontext_mcp.container import Container
    from acontext_mcp.settings import Settings

log = logging.getLogger(__name__)

ServiceProvider = Callable[[], AbstractAsyncContextManager["Container"]]

# Requests answered without the container, so a client's handshake (`initialize`, or `server/discover` in the
# 2026 protocol) and its first lists do not wait for the database to open. Any other request waits.
_WITHOUT_CONTAINER = frozenset(
    {"initialize", "server/discover", "ping", "tools/list", "prompts/list", "resources/templates/list"}
)


class Opening:
    """The server's lifespan context: the container, opened in the background once the first request is
    answered (see `opening`).

    `project_scope` waits for it before any request that may use it, so a tool, resource or prompt reads
    `container` (through `service_of`) only once it is open.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._container: Container | None = None
        self._failure: AcontextError | None = None
        self._asked = anyio.Event()
        self._settled = anyio.Event()
        self._closing = anyio.Event()

    @property
    def container(self) -> Container:
        if self._container is None:
            raise RuntimeError("the container is read before it is open: only requests past project_scope use it")
        return self._container

    def start(self) -> None:
        """Let the container open (later calls do nothing)."""
        self._asked.set()

    async def ready(self) -> Container:
        """The container once open (starting to open it if nothing did yet); `MCPError` naming the problem if it
        could not open, for every request that needs it."""
        self.start()
        await self._settled.wait()
        if self._failure is not None:
            raise MCPError(INTERNAL_ERROR, str(self._failure))
        return self.container

    async def hold(self, provide: ServiceProvider) -> None:
        """Open the container when asked and keep it open until `close`. A failure to open (an unreachable
        database, say) is logged once and then answers every request that needs the container."""
        await self._asked.wait()
        if self._closing.is_set():  # the server stopped before a request needed the container
            return
        async with AsyncExitStack() as stack:
            try:
                self._container = await stack.enter_async_context(provide())
            except AcontextError as exc:
                log.error("%s", exc)
                self._failure = exc
            finally:
                self._settled.set()
            await self._closing.wait()

    def close(self) -> None:
        """Close the container, once open; if nothing asked for it yet, never open it."""
        self._closing.set()
        self._asked.set()


@asynccontextmanager
async def opening(settings: Settings, provide: ServiceProvider) -> AsyncIterator[Opening]:
    """The server's lifespan: the container from `provide` opens in a background task once the first request
    is answered, so `initialize` does not wait for the database to open and migrate or the services' modules to
    load, and on a busy machine none of that competes with the answer.

    A failure while the container is open (a background loop's) leaves this block and stops the server, as
    before; on leaving, the container closes.
    """
    state = Opening(settings)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(state.hold, provide)
        try:
            yield state
        finally:
            state.close()


def service_of(ctx: Context[Any, Any]) -> Container:
    """The container serving this request; `project_scope` made the request's project current."""
    state: Opening = ctx.request_context.lifespan_context
    return state.container


def container_of(ctx: ServerRequestContext[Opening, Any]) -> Container:
    """`service_of` for server middleware, which runs inside `project_scope`."""
    return ctx.lifespan_context.container


async def project_scope(ctx: ServerRequestContext[Opening, Any], call_next: CallNext) -> HandlerResult:
    """Server middleware: every request runs in the project of the token that authenticated it, and each one
    that may use the container waits until it is open; the first request lets it open once answered."""
    state = ctx.lifespan_context
    try:
        if ctx.method not in _WITHOUT_CONTAINER:
            await state.ready()
        with use_project(request_project(state.settings)):
            return await call_next(ctx)
    finally:
        state.start()


def request_project(settings: Settings) -> str:
    """The project of the bearer token that authenticated this request; `ACONTEXT_PROJECT` when none did
    (stdio, or HTTP without tokens)."""
    token = get_access_token()
    return token.client_id if token is not None and token.client_id else settings.project


P = ParamSpec("P")
R = TypeVar("R")


def _reraise_as(error: type[Exception]) -> Callable[[Callable[P, Awaitable[R]]], Callable[P, Awaitable[R]]]:
    def decorate(fn: Callable[P, Awaitable[R]]) -> Callable[P, Awaitable[R]]:
        @functools.wraps(fn)
        async def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
            try:
                return await fn(*args, **kwargs)
            except AcontextError as exc:
                raise error(str(exc)) from exc

        wrapper.__doc__ = inspect.cleandoc(fn.__doc__ or "")  # clients show it as the description
        return wrapper

    return decorate


domain_errors = _reraise_as(ToolError)
"""Re-raise `AcontextError` from a tool body as `ToolError` with the same message."""

resource_errors = _reraise_as(ResourceError)
"""Re-raise `AcontextError` from a resource body as `ResourceError` with the same message."""


_VALIDATION = re.compile(
    r"\d+ validation errors? for \w+\n(?P<field>[^\n]*)\n\s+(?P<problem>[^\n]*?)\s*"
    r"(?:\[type=\w+(?:, input_value=(?P<value>.*?), input_type=\w+)?\]|\n|$)"
)
_MISSING = re.compile(r"Missing required arguments: \{(?P<names>[^}]*)\}")


def argument_problem(text: str) -> str | None:
    """pydantic's multi-line validation text (or a prompt's missing-argument text) as one line naming the
    first bad argument: `argument 'message' is required`; None for other text."""
    if missing := _MISSING.search(text):
        names = sorted(name.strip(" '\"") for name in missing["names"].split(","))
        return "; ".join(f"argument {name!r} is required" for name in names)
    if (found := _VALIDATION.search(text)) is None:
        return None
    field, problem = found["field"].strip(), found["problem"].strip().rstrip(".")
    if problem == "Field required":
        return f"argument {field!r} is required"
    value = found["value"]
    got = f" (got {value})" if value and len(value) <= 60 and "..." not in value else ""
    return f"argument {field!r}: {problem[:1].lower()}{problem[1:]}{got}"


async def argument_errors(ctx: ServerRequestContext[Opening, Any], call_next: CallNext) -> HandlerResult:
    """Server middleware: bad tool or prompt arguments answer one line naming the argument, as the
    services' errors do, instead of pydantic's multi-line text or an internal error."""
    name = str((ctx.params or {}).get("name", ""))
    if ctx.method == "prompts/get":
        try:
            return await call_next(ctx)
        except ValueError as exc:
            raise MCPError(INVALID_PARAMS, f"prompt {name}: {argument_problem(str(exc)) or exc}") from exc
    result = await call_next(ctx)
    if ctx.method != "tools/call":
        return result
    if isinstance(result, CallToolResult) and result.is_error and len(result.content) == 1:
        content = result.content[0]
        if isinstance(content, TextContent) and (problem := argument_problem(content.text)):
            result.content = [TextContent(type="text", text=f"{name}: {problem}; see the tool's input schema")]
    elif isinstance(result, dict) and result.get("isError") and len(result.get("content") or []) == 1:
        content = result["content"][0]
        if content.get("type") == "text" and (problem := argument_problem(str(content.get("text", "")))):
            result["content"] = [{"type": "text", "text": f"{name}: {problem}; see the tool's input schema"}]
    return result
