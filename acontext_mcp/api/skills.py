"""Learning spaces and agent skills (SDK 0.1.x): /learning_spaces/... and /agent_skills/...

A learning space is a space; a skill is one of its pages (services/skills), so `skill_id` is the page's
id. `learn(space, session)` attaches the session to the space and wakes the observer; the session's
learning status is read from the observer and the learner: pending (messages not yet observed) ->
distilling (tasks queued for the learner) -> skill_writing (one being written now) -> completed | failed.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from acontext_mcp.api.core import ApiError, Call, Router, page_of
from acontext_mcp.services.skills.models import Skill
from acontext_mcp.services.spaces.models import Space, SpaceSettings

router = Router()
SKILLS_SPACE = "agent_skills"  # the space an uploaded skill goes to when its meta names none
MIME = "text/markdown"


def learning_space_json(space: Space) -> dict[str, Any]:
    meta = {**({"name": space.name} if space.name is not None else {}), **space.settings.model_dump()}
    return {"id": space.id, "user_id": None, "meta": meta, "created_at": space.created_at,
            "updated_at": space.updated_at}


def skill_json(space_id: str, skill: Skill) -> dict[str, Any]:
    """The SDK's `Skill`: files in `file_index`; there is no disk behind it (`disk_id` is "")."""
    return {"id": skill.page_id, "user_id": None, "name": skill.name, "description": skill.description,
            "disk_id": "", "file_index": [{"path": f, "mime": MIME} for f in skill.files],
            "meta": {"space_id": space_id, "path": skill.path, "version": skill.version},
            "created_at": skill.updated_at, "updated_at": skill.updated_at}


def _meta(raw: dict[str, Any] | None) -> tuple[str | None, SpaceSettings | None]:
    if raw is None:
        return None, None
    name = raw.get("name")
    if name is not None and not isinstance(name, str):
        raise ApiError(400, "meta field 'name' must be a string")
    confirm = raw.get("confirm_before_learning")
    if confirm is not None and not isinstance(confirm, bool):
        raise ApiError(400, "meta field 'confirm_before_learning' must be a boolean")
    return name, SpaceSettings(confirm_before_learning=confirm) if confirm is not None else None


def _no_users(value: Any, where: str) -> None:
    if value is not None:
        raise ApiError(501, f"{where} 'user': users are not yet implemented by this server")


@router.post("/learning_spaces")
async def create_learning_space(call: Call) -> Any:
    body = await call.json()
    _no_users(body.data.get("user"), "body field")
    name, settings = _meta(body.get("meta", dict, None))
    return learning_space_json(await call.service.spaces.create_space(name=name, settings=settings))


@router.get("/learning_spaces")
async def list_learning_spaces(call: Call) -> Any:
    _no_users(call.query("user"), "query parameter")
    wanted = call.query_json("filter_by_meta") or {}
    spaces = [learning_space_json(s) for s in (await call.service.spaces.list_spaces()).items]
    chosen = [s for s in spaces if all(s["meta"].get(k) == v for k, v in wanted.items())]
    return page_of(chosen, call, "learning-space-page")


@router.get("/learning_spaces/{space_id}")
async def get_learning_space(call: Call) -> Any:
    return learning_space_json(await call.service.spaces.get_space(call.path("space_id")))


@router.patch("/learning_spaces/{space_id}")
async def update_learning_space(call: Call) -> Any:
    name, settings = _meta((await call.json()).get("meta", dict))
    return learning_space_json(await call.service.spaces.update_space(call.path("space_id"), name, settings))


@router.delete("/learning_spaces/{space_id}")
async def delete_learning_space(call: Call) -> None:
    await call.service.spaces.delete_space(call.path("space_id"))


async def _learning_session(call: Call, space_id: str, session_id: str) -> dict[str, Any]:
    session = await call.service.sessions.get_session(session_id)
    if session.space_id != space_id:
        from acontext_mcp.errors import NotFound

        raise NotFound("learning session", session_id, "call learn(space_id, session_id) first")
    observed = await call.service.observer.session_state(session_id)
    items = (await call.service.learner.list_items(None, session_id)).items
    held = set(await call.service.learner.held())
    if observed.status == "failed" or any(i.status == "failed" for i in items):
        status = "failed"
    elif observed.pending_messages:
        status = "pending"
    elif any(i.id in held for i in items):
        status = "skill_writing"
    elif any(i.status == "queued" for i in items):
        status = "distilling"
    else:
        status = "completed"
    updated = max([session.updated_at, *(i.updated_at for i in items)])
    return {"id": f"{space_id}:{session_id}", "learning_space_id": space_id, "session_id": session_id,
            "status": status, "created_at": session.created_at, "updated_at": updated}


@router.post("/learning_spaces/{space_id}/learn")
async def learn(call: Call) -> Any:
    space_id, session_id = call.path("space_id"), (await call.json()).get("session_id", str)
    await call.service.sessions.connect_to_space(session_id, space_id)
    call.service.observer.notify()
    return await _learning_session(call, space_id, session_id)


@router.get("/learning_spaces/{space_id}/sessions")
async def learning_sessions(call: Call) -> Any:
    space_id = call.path("space_id")
    await call.service.spaces.get_space(space_id)
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        page = await call.service.sessions.list_sessions(limit=200, cursor=cursor)
        found += [await _learning_session(call, space_id, s.id) for s in page.items if s.space_id == space_id]
        if not page.next_cursor:
            return found
        cursor = page.next_cursor


@router.get("/learning_spaces/{space_id}/sessions/{session_id}")
async def learning_session(call: Call) -> Any:
    return await _learning_session(call, call.path("space_id"), call.path("session_id"))


@router.get("/learning_spaces/{space_id}/skills")
async def learning_space_skills(call: Call) -> Any:
    space_id = call.path("space_id")
    return [skill_json(space_id, s) for s in await _skills_of(call, space_id)]


async def _skills_of(call: Call, space_id: str) -> list[Skill]:
    return [await call.service.skills.get_skill(space_id, s.name)
            for s in (await call.service.skills.list_skills(space_id)).items]


# Agent skills


@router.get("/agent_skills")
async def skill_catalog(call: Call) -> Any:
    _no_users(call.query("user"), "query parameter")
    items = [skill_json(space_id, s) for space_id, s in await call.service.skills.catalog()]
    return page_of(items, call, "skill-page", default_limit=100)


@router.post("/agent_skills")
async def create_skill(call: Call) -> Any:
    if not call.is_multipart():
        raise ApiError(400, "send the skill as multipart/form-data with a 'file' field holding a zip")
    form = await call.form()
    _no_users(form.get("user"), "multipart field")
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        raise ApiError(400, "multipart field 'file' (a zip of the skill folder) is required")
    import json

    raw_meta = form.get("meta")
    try:
        meta = json.loads(raw_meta) if isinstance(raw_meta, str) else {}
    except ValueError:
        raise ApiError(400, "multipart field 'meta' is not valid JSON") from None
    space_id = meta.get("space_id") if isinstance(meta, dict) else None
    if space_id is None:
        spaces = (await call.service.spaces.list_spaces()).items
        home = next((s for s in spaces if s.name == SKILLS_SPACE), None)
        space_id = (home or await call.service.spaces.create_space(name=SKILLS_SPACE)).id
    elif not isinstance(space_id, str):
        raise ApiError(400, "multipart field 'meta': space_id must be a string")
    done = await call.service.skills.import_zip(space_id, await upload.read(), upload.filename or "skill.zip")
    if len(done.imported) != 1:
        raise ApiError(400, f"the zip holds {len(done.imported)} skills; upload one at a time")
    return skill_json(space_id, await call.service.skills.get_skill(space_id, done.imported[0].name))


@router.get("/agent_skills/{skill_id}")
async def get_skill(call: Call) -> Any:
    space_id, skill = await call.service.skills.find(call.path("skill_id"))
    return skill_json(space_id, skill)


@router.delete("/agent_skills/{skill_id}")
async def delete_skill(call: Call) -> None:
    space_id, skill = await call.service.skills.find(call.path("skill_id"))
    await call.service.spaces.delete_block(space_id, skill.page_id, recursive=True)


@router.get("/agent_skills/{skill_id}/file")
async def get_skill_file(call: Call) -> Any:
    path = call.query("file_path")
    if not path:
        raise ApiError(400, "query parameter 'file_path' (e.g. SKILL.md) is required")
    space_id, skill = await call.service.skills.find(call.path("skill_id"))
    file = await call.service.skills.get_skill_file(space_id, skill.name, path)
    return {"path": file.path, "mime": MIME, "url": None, "content": {"type": "text", "raw": file.content}}


@router.get("/agent_skills/{skill_id}/download_zip")
async def download_zip(call: Call) -> Response:
    space_id, skill = await call.service.skills.find(call.path("skill_id"))
    data = await call.service.skills.zip_skill(space_id, skill.name)
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": f'attachment; filename="{skill.name}.zip"'})
