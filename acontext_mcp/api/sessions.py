"""Sessions, their messages, tasks and observer state: /session/..."""

from __future__ import annotations

import base64
import json
from typing import Any

from pydantic import TypeAdapter, ValidationError

from acontext_mcp.api.core import ApiError, Call, Fields, Router, page_of
from acontext_mcp.errors import InvalidArgument
from acontext_mcp.formats.editing import EditStrategy
from acontext_mcp.projects import current_project
from acontext_mcp.services.limits import MAX_PAGE
from acontext_mcp.services.models import Session, SessionEvent
from acontext_mcp.services.observer.models import Task

router = Router()
FLUSH_TIMEOUT_S = 120.0


def session_json(session: Session) -> dict[str, Any]:
    """A session as the SDK's `Session` type: our metadata is its `configs`."""
    return {
        "id": session.id,
        "project_id": current_project(),
        "space_id": session.space_id,
        "configs": session.metadata,
        "disable_task_tracking": False,
        "created_at": session.created_at,
        "updated_at": session.updated_at,
    }


def event_json(event: SessionEvent) -> dict[str, Any]:
    """An event as the SDK's `SessionEvent`."""
    return {**event.model_dump(mode="json"), "project_id": current_project(), "updated_at": event.created_at}


@router.post("/session")
async def create_session(call: Call) -> Any:
    body = await call.json()
    if body.get("disable_task_tracking", bool, False):
        raise ApiError(400, "body field 'disable_task_tracking' is not supported by this server")
    session = await call.service.sessions.create_session(
        space_id=body.get("space_id", str, None), metadata=body.get("configs", dict, None),
        user=body.get("user", str, None),
    )
    return session_json(session)


@router.get("/session")
async def list_sessions(call: Call) -> Any:
    configs = call.query_json("filter_by_configs")
    if configs is not None and not isinstance(configs, dict):
        raise ApiError(400, "query parameter 'filter_by_configs' must be a JSON object")
    page = await call.service.sessions.list_sessions(
        limit=call.query_int("limit", 20, 1, MAX_PAGE) or 20, cursor=call.query("cursor"),
        oldest_first=not call.query_bool("time_desc"), space_id=call.query("space_id"),
        not_connected=call.query_bool("not_connected"), user=call.query("user") or None,
        filter_by_configs=configs or None,
    )
    return {"items": [session_json(s) for s in page.items], "next_cursor": page.next_cursor,
            "has_more": page.has_more}


@router.delete("/session/{session_id}")
async def delete_session(call: Call) -> None:
    await call.service.sessions.delete_session(call.path("session_id"))


@router.get("/session/{session_id}/configs")
async def get_configs(call: Call) -> Any:
    return session_json(await call.service.sessions.get_session(call.path("session_id")))


@router.put("/session/{session_id}/configs")
async def put_configs(call: Call) -> Any:
    configs = (await call.json()).get("configs", dict)
    return session_json(await call.service.sessions.set_metadata(call.path("session_id"), configs))


@router.patch("/session/{session_id}/configs")
async def patch_configs(call: Call) -> Any:
    changes = (await call.json()).get("configs", dict)
    session = await call.service.sessions.get_session(call.path("session_id"))
    merged = {k: v for k, v in {**session.metadata, **changes}.items() if v is not None}
    return {"configs": (await call.service.sessions.set_metadata(session.id, merged)).metadata}


@router.post("/session/{session_id}/connect_to_space")
async def connect_to_space(call: Call) -> None:
    space_id = (await call.json()).get("space_id", str)
    await call.service.sessions.connect_to_space(call.path("session_id"), space_id)


@router.post("/session/{session_id}/messages")
async def store_message(call: Call) -> Any:
    session_id = call.path("session_id")
    files: dict[str, Any] = {}
    if call.is_multipart():
        form = await call.form()
        raw = form.get("payload")
        if not isinstance(raw, str):
            raise ApiError(400, "multipart form field 'payload' (the message as JSON) is required")
        try:
            decoded = json.loads(raw)
        except ValueError:
            raise ApiError(400, "multipart form field 'payload' is not valid JSON") from None
        if not isinstance(decoded, dict):
            raise ApiError(400, "multipart form field 'payload' must be a JSON object")
        body = Fields(decoded, "payload")
        files = {name: value for name, value in form.multi_items() if name != "payload"}
    else:
        body = await call.json()
    fmt = body.get("format", str, "openai")
    blob = body.get("blob", dict)
    meta = body.get("meta", dict, None)
    if fmt == "acontext":
        blob = await _acontext_blob(blob, files)
    elif files:
        raise ApiError(400, "file uploads go with format 'acontext' only")
    stored = await call.service.messages.send_message(session_id, blob, fmt, meta=meta)
    return {
        "id": stored.id,
        "session_id": stored.session_id,
        "parent_id": None,
        "role": stored.role,
        "meta": stored.meta,
        "parts": [],
        "task_id": None,
        "session_task_process_status": "pending",
        "created_at": stored.created_at,
        "updated_at": stored.created_at,
    }


@router.get("/session/{session_id}/messages")
async def get_messages(call: Call) -> Any:
    session_id = call.path("session_id")
    fmt = call.query("format") or "openai"
    with_events = call.query_bool("with_events")
    strategies = _strategies(call.query_json("edit_strategies"))
    pin = call.query("pin_editing_strategies_at_message")
    limit = call.query_int("limit", None, 1, 200)
    cursor = call.query("cursor")
    if call.query_bool("time_desc"):
        raise ApiError(400, "query parameter 'time_desc': messages are read oldest first on this server")
    page = await call.service.messages.get_messages(
        session_id, format=fmt, limit=limit, cursor=cursor, edit_strategies=strategies or None,
        pin_at_message=pin, with_events=with_events,
    )
    items = page.items
    if fmt == "acontext":
        times = {m["id"]: m["created_at"] for m in await call.service.messages.read_native(session_id)}
        items = [_acontext_message(session_id, mid, item, times.get(mid, "")) for mid, item in
                 zip(page.message_ids, page.items, strict=True)]
    return {
        "items": items,
        "ids": page.message_ids,
        "metas": page.metas,
        "next_cursor": page.next_cursor,
        "has_more": page.has_more,
        "this_time_tokens": page.tokens_after or 0,
        "public_urls": None,
        "edit_at_message_id": page.edit_at_message_id,
        "events": None if page.events is None else [event_json(e) for e in page.events],
    }


@router.post("/session/{session_id}/flush")
async def flush(call: Call) -> Any:
    await call.service.observer.flush(call.path("session_id"), FLUSH_TIMEOUT_S)
    return {"status": 0, "errmsg": ""}


@router.get("/session/{session_id}/task")
async def get_tasks(call: Call) -> Any:
    session_id = call.path("session_id")
    tasks = await call.service.tasks.list_tasks(session_id)
    session = await call.service.sessions.get_session(session_id)
    return page_of([_task(session, t) for t in tasks], call, "task-page", default_limit=200)


@router.get("/session/{session_id}/token_counts")
async def token_counts(call: Call) -> Any:
    return {"total_tokens": (await call.service.messages.get_token_counts(call.path("session_id"))).total}


@router.get("/session/{session_id}/observing_status")
async def observing_status(call: Call) -> Any:
    session_id = call.path("session_id")
    counts = await call.service.messages.get_token_counts(session_id)
    state = await call.service.observer.session_state(session_id)
    session = await call.service.sessions.get_session(session_id)
    in_process = state.pending_messages if state.status == "running" else 0
    pending = state.pending_messages - in_process
    return {
        "observed": len(counts.items) - state.pending_messages,
        "in_process": in_process,
        "pending": pending,
        "updated_at": session.updated_at,
    }


@router.get("/session/{session_id}/get_learning_status")
async def learning_status(call: Call) -> Any:
    session_id = call.path("session_id")
    items = (await call.service.learner.list_items(None, session_id)).items
    done = sum(1 for item in items if item.status in ("learned", "skipped"))
    tasks = await call.service.tasks.list_tasks(session_id)
    return {"space_digested_count": done, "not_space_digested_count": len(tasks) - done}


def _task(session: Session, task: Task) -> dict[str, Any]:
    return {
        "id": task.id,
        "session_id": session.id,
        "project_id": current_project(),
        "order": task.order,
        "data": {k: v for k, v in task.data.model_dump().items() if v},  # as Acontext: no empty lists
        "status": task.status,
        "is_planning": False,
        "space_digested": False,
        "created_at": task.created_at or session.created_at,
        "updated_at": task.updated_at or session.updated_at,
    }


_STRATEGIES: TypeAdapter[list[EditStrategy]] = TypeAdapter(list[EditStrategy])
# The SDK's strategy parameters -> ours.
_RENAMED = {"keep_recent_n_tool_results": "keep_recent_n", "keep_recent_n_tool_calls": "keep_recent_n",
            "tool_result_placeholder": "placeholder", "token_reduce_to": "limit_tokens"}


def _strategies(raw: Any) -> list[EditStrategy]:
    """The SDK's `[{type, params}]` as our edit strategies; an unknown or unsupported one names itself."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ApiError(400, "query parameter 'edit_strategies' must be a JSON array")
    ours: list[dict[str, Any]] = []
    for index, strategy in enumerate(raw):
        if not isinstance(strategy, dict) or not isinstance(strategy.get("params", {}), dict):
            raise ApiError(400, f"edit_strategies[{index}] must be an object with 'type' and 'params'")
        params = {_RENAMED.get(k, k): v for k, v in strategy.get("params", {}).items()}
        ours.append({"type": strategy.get("type"), **params})
    try:
        return _STRATEGIES.validate_python(ours)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise ApiError(400, f"edit_strategies[{where}]: {first['msg']}") from None


_BINARY = {"image", "file", "audio"}


async def _acontext_blob(blob: dict[str, Any], files: dict[str, Any]) -> dict[str, Any]:
    """An SDK `AcontextMessage` as our native message: None fields dropped, uploaded files inlined."""
    parts = blob.get("parts")
    if not isinstance(parts, list):
        raise InvalidArgument("blob field 'parts' must be an array")
    native_parts: list[Any] = []
    for index, part in enumerate(parts):
        if not isinstance(part, dict):
            native_parts.append(part)  # the native parser names the problem
            continue
        part = {k: v for k, v in part.items() if v is not None}
        field = part.pop("file_field", None)
        if field is not None:
            upload = files.get(field)
            if upload is None or isinstance(upload, str):
                raise ApiError(400, f"blob.parts[{index}].file_field {field!r} names no uploaded file")
            if part.get("type") not in _BINARY:
                raise ApiError(400, f"blob.parts[{index}]: a file goes with type image, file or audio")
            data = base64.b64encode(await upload.read()).decode()
            if part["type"] == "audio":
                part.update(data=data, format=(upload.filename or "").rsplit(".", 1)[-1] or "wav")
            else:
                part.update(data=data, media_type=upload.content_type or "application/octet-stream")
                if part["type"] == "file" and upload.filename:
                    part.setdefault("filename", upload.filename)
        native_parts.append(part)
    native = {k: v for k, v in blob.items() if v is not None and k != "parts"}
    return {**native, "parts": native_parts}


def _acontext_message(session_id: str, message_id: str, item: dict[str, Any], created_at: str) -> dict[str, Any]:
    return {
        "id": message_id,
        "session_id": session_id,
        "parent_id": None,
        "role": item.get("role", "user"),
        "meta": item.get("meta", {}),
        "parts": item.get("parts", []),
        "task_id": None,
        "session_task_process_status": "pending",
        "created_at": created_at,
        "updated_at": created_at,
    }
