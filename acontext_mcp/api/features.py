"""Session events, message meta, session copy, users and project configs: the 0.1.22 SDK's
`/session/{id}/events`, `/session/{id}/messages/{mid}/meta`, `/session/{id}/copy`, `/user/...` and
`/project/configs`."""

from __future__ import annotations

from typing import Any

from acontext_mcp.api.core import ApiError, Call, Router, page_of
from acontext_mcp.api.sessions import event_json
from acontext_mcp.projects import current_project
from acontext_mcp.services.models import User

router = Router()
_ALL = 200  # the services' largest page; the REST pages are cut from the whole list


@router.post("/session/{session_id}/events")
async def add_event(call: Call) -> Any:
    body = await call.json()
    event = await call.service.events.add_event(call.path("session_id"), body.get("type", str),
                                                body.get("data", dict, {}))
    return event_json(event)


@router.get("/session/{session_id}/events")
async def get_events(call: Call) -> Any:
    limit = call.query_int("limit", 20, 1, _ALL) or 20
    page = await call.service.events.list_events(call.path("session_id"), limit=limit, cursor=call.query("cursor"),
                                                 time_desc=call.query_bool("time_desc"))
    return {"items": [event_json(e) for e in page.items], "next_cursor": page.next_cursor, "has_more": page.has_more}


@router.patch("/session/{session_id}/messages/{message_id}/meta")
async def patch_message_meta(call: Call) -> Any:
    meta = (await call.json()).get("meta", dict)
    patched = await call.service.messages.patch_message_meta(call.path("session_id"), call.path("message_id"), meta)
    return {"meta": patched.meta}


@router.post("/session/{session_id}/copy")
async def copy_session(call: Call) -> Any:
    copied = await call.service.copier.copy_session(call.path("session_id"))
    return {"old_session_id": copied.old_session_id, "new_session_id": copied.new_session_id}


def _user_json(user: User) -> dict[str, Any]:
    return {**user.model_dump(mode="json"), "project_id": current_project()}


@router.get("/user/ls")
async def list_users(call: Call) -> Any:
    users: list[User] = []
    cursor: str | None = None
    while True:
        page = await call.service.users.list_users(limit=_ALL, cursor=cursor)
        users += page.items
        if not page.has_more:
            break
        cursor = page.next_cursor
    return page_of([_user_json(u) for u in users], call, "user-page", default_limit=_ALL)


@router.get("/user/{identifier}/resources")
async def user_resources(call: Call) -> Any:
    counts = await call.service.users.get_user_resources(call.path("identifier"))
    return {"counts": counts.model_dump(mode="json", exclude={"identifier"})}


@router.delete("/user/{identifier}")
async def delete_user(call: Call) -> None:
    await call.service.users.delete_user(call.path("identifier"))


@router.get("/project/configs")
async def get_project_configs(call: Call) -> Any:
    return await call.service.project_configs.get_configs()


@router.patch("/project/configs")
async def update_project_configs(call: Call) -> Any:
    body = await call.json()
    if not isinstance(body.data, dict):
        raise ApiError(400, "the body must be a JSON object of configs")
    return await call.service.project_configs.update_configs(dict(body.data))
