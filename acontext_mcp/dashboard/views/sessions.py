"""Sessions: a searchable, paged list, one session's messages (native parts or converted JSON), and its tasks."""

from __future__ import annotations

import json
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from acontext_mcp.container import Container
from acontext_mcp.dashboard.pages import (
    View,
    file_response,
    int_param,
    render,
    service_of,
)
from acontext_mcp.errors import NotFound
from acontext_mcp.formats import FORMATS
from acontext_mcp.services import cursors

PAGE = 50
MESSAGES_PAGE = 100
POLL_MS = 2000
SHOWN_CHARS = 200


async def session_list(request: Request) -> Response:
    query = request.query_params.get("q", "").strip()
    cursor = request.query_params.get("cursor") or None
    page = await service_of(request).sessions.list_sessions(limit=PAGE, cursor=cursor, query=query or None)
    return render(request, "sessions.html", active="sessions", page=page, query=query, cursor=cursor)


async def session_detail(request: Request) -> Response:
    session_id = request.path_params["session_id"]
    shown = request.query_params.get("format", "parts")
    if shown not in ("parts", *FORMATS):
        raise HTTPException(400, f"format must be one of parts, {', '.join(FORMATS)}")
    after = int_param(request, "after", 0)
    service = service_of(request)
    session = await service.sessions.get_session(session_id)
    context: dict[str, Any] = {"active": "sessions", "session": session, "shown": shown, "after": after,
                               "space_name": await space_name(service, session.space_id),
                               "formats": FORMATS, "poll_ms": POLL_MS,
                               "tokens": await service.messages.get_token_counts(session_id)}
    if shown == "parts":
        page = await service.messages.list_native(session_id, after_seq=after, limit=MESSAGES_PAGE)
        last_seq = page.items[-1].seq if page.items else after
        context |= {"messages": page.items, "last_seq": last_seq, "next_after": last_seq if page.has_more else None}
    else:
        cursor = cursors.encode("message", after) if after else None
        converted = await service.messages.get_messages(session_id, shown, limit=MESSAGES_PAGE, cursor=cursor)
        document = {"messages": converted.items} | ({"system": converted.system} if converted.system else {})
        context["converted"] = json.dumps(abbreviated(document), indent=2, ensure_ascii=False)
        context["next_after"] = cursors.decode("message", converted.next_cursor) if converted.next_cursor else None
    return render(request, "session.html", **context)


async def session_tasks(request: Request) -> Response:
    """The observer's task list for a session, each task linking to its messages, and the observer's state."""
    session_id = request.path_params["session_id"]
    service = service_of(request)
    session = await service.sessions.get_session(session_id)
    tasks = await service.observer.get_tasks(session_id)
    tokens = await service.messages.get_token_counts(session_id)
    messages = {m.id: (m.seq, m.role, message_href(session_id, m.seq)) for m in tokens.items}
    return render(request, "session_tasks.html", active="sessions", session=session, shown="tasks", after=0,
                  formats=FORMATS, tokens=tokens, tasks=tasks, messages=messages,
                  space_name=await space_name(service, session.space_id))


async def space_name(service: Container, space_id: str | None) -> str | None:
    """The name of a session's space, shown instead of its id; None without a space or a name."""
    if space_id is None:
        return None
    try:
        return (await service.spaces.get_space(space_id)).name
    except NotFound:
        return None


def message_href(session_id: str, seq: int) -> str:
    """Where message `seq` is shown: its page of the message viewer, at its anchor."""
    first = (seq - 1) // MESSAGES_PAGE * MESSAGES_PAGE
    return f"/sessions/{session_id}{f'?after={first}' if first else ''}#m{seq}"


async def new_messages(request: Request) -> Response:
    """The messages after `after`, as HTML to append; X-After and X-Has-More tell the poller where it is."""
    session_id = request.path_params["session_id"]
    page = await service_of(request).messages.list_native(
        session_id, after_seq=int_param(request, "after", 0), limit=MESSAGES_PAGE
    )
    response = render(request, "_messages.html", session_id=session_id, messages=page.items)
    if page.items:
        response.headers["x-after"] = str(page.items[-1].seq)
    response.headers["x-has-more"] = "true" if page.has_more else "false"
    response.headers["cache-control"] = "no-store"
    return response


async def attachment(request: Request) -> Response:
    """A binary part's bytes: safe images and audio inline, anything else as a download."""
    params = request.path_params
    found = await service_of(request).messages.get_attachment(
        params["session_id"], params["message_id"], params["part"], params.get("item")
    )
    return file_response(found.data, found.media_type, found.filename)


def abbreviated(value: Any) -> Any:
    """`value` with long base64 payloads cut short, so a converted page stays readable."""
    if isinstance(value, dict):
        return {key: _cut(item) if key in ("data", "url", "file_data") else abbreviated(item)
                for key, item in value.items()}
    if isinstance(value, list):
        return [abbreviated(item) for item in value]
    return value


def _cut(value: Any) -> Any:
    if isinstance(value, str) and len(value) > SHOWN_CHARS:
        return f"{value[:SHOWN_CHARS]}… ({len(value)} characters)"
    return abbreviated(value)


_PART = "/sessions/{session_id}/messages/{message_id}/parts/{part:int}"
VIEW = View(
    name="sessions",
    label="Sessions",
    path="/sessions",
    routes=(
        Route("/sessions", session_list, methods=["GET"]),
        Route("/sessions/{session_id}", session_detail, methods=["GET"]),
        Route("/sessions/{session_id}/messages", new_messages, methods=["GET"]),
        Route("/sessions/{session_id}/tasks", session_tasks, methods=["GET"]),
        Route(_PART, attachment, methods=["GET"]),
        Route(_PART + "/{item:int}", attachment, methods=["GET"]),
    ),
)
