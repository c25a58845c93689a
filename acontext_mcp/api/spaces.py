"""Spaces (seed-era SDK): configs, blocks, experience_search and experience confirmations: /space/..."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from acontext_mcp.api.core import ApiError, Call, Router, page_of
from acontext_mcp.projects import current_project
from acontext_mcp.services.models import PendingExperience
from acontext_mcp.services.spaces.models import Block, Space, SpaceSettings

router = Router()


def space_json(space: Space) -> dict[str, Any]:
    """The SDK's `Space`: our name and settings are its `configs`."""
    configs = {**({"name": space.name} if space.name is not None else {}), **space.settings.model_dump()}
    return {"id": space.id, "project_id": current_project(), "configs": configs,
            "created_at": space.created_at, "updated_at": space.updated_at}


def block_json(block: Block) -> dict[str, Any]:
    return {
        "id": block.id, "space_id": block.space_id, "type": block.type, "parent_id": block.parent_id,
        "title": block.title, "props": block.data, "sort": block.sort_order, "is_archived": False,
        "created_at": block.created_at, "updated_at": block.updated_at, "children": None,
    }


def _configs(raw: dict[str, Any] | None) -> tuple[str | None, SpaceSettings | None]:
    if raw is None:
        return None, None
    settings = {k: v for k, v in raw.items() if k != "name"}
    name = raw.get("name")
    if name is not None and not isinstance(name, str):
        raise ApiError(400, "configs field 'name' must be a string")
    try:
        return name, SpaceSettings.model_validate(settings)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise ApiError(400, f"configs field {key!r}: {first['msg']} (known: name, confirm_before_learning)") from None


@router.post("/space")
async def create_space(call: Call) -> Any:
    name, settings = _configs((await call.json()).get("configs", dict, None))
    return space_json(await call.service.spaces.create_space(name=name, settings=settings))


@router.get("/space")
async def list_spaces(call: Call) -> Any:
    return page_of([space_json(s) for s in (await call.service.spaces.list_spaces()).items], call, "space-page")


@router.delete("/space/{space_id}")
async def delete_space(call: Call) -> None:
    await call.service.spaces.delete_space(call.path("space_id"))


@router.get("/space/{space_id}/configs")
async def get_space_configs(call: Call) -> Any:
    return space_json(await call.service.spaces.get_space(call.path("space_id")))


@router.put("/space/{space_id}/configs")
async def put_space_configs(call: Call) -> Any:
    name, settings = _configs((await call.json()).get("configs", dict))
    space = await call.service.spaces.update_space(call.path("space_id"), name=name, settings=settings)
    return space_json(space)


# Blocks


async def _parent_path(call: Call, space_id: str, parent_id: str | None) -> str:
    return "/" if parent_id is None else (await call.service.spaces.get_block(space_id, parent_id)).path


@router.get("/space/{space_id}/block")
async def list_blocks(call: Call) -> Any:
    space_id, parent_id, kind = call.path("space_id"), call.query("parent_id"), call.query("type")
    path = await _parent_path(call, space_id, parent_id)
    tree = await call.service.spaces.list_space(space_id, path)
    ids = [e.id for e in tree.entries if e.depth == 0 and (kind is None or e.type == kind)]
    blocks = await call.service.spaces.blocks_in(space_id, ids)
    return [block_json(blocks[i]) for i in ids if i in blocks]


@router.post("/space/{space_id}/block")
async def create_block(call: Call) -> Any:
    space_id, body = call.path("space_id"), await call.json()
    kind = body.get("type", str)
    path = await _parent_path(call, space_id, body.get("parent_id", str, None))
    block = await call.service.spaces.create_block(
        space_id, path, kind, body.get("title", str, ""), body.get("props", dict, None)
    )
    return {"id": block.id}


@router.delete("/space/{space_id}/block/{block_id}")
async def delete_block(call: Call) -> None:
    await call.service.spaces.delete_block(call.path("space_id"), call.path("block_id"), recursive=True)


@router.get("/space/{space_id}/block/{block_id}/properties")
async def get_block_properties(call: Call) -> Any:
    return block_json(await call.service.spaces.get_block(call.path("space_id"), call.path("block_id")))


@router.put("/space/{space_id}/block/{block_id}/properties")
async def update_block_properties(call: Call) -> None:
    body = await call.json()
    await call.service.spaces.update_block(
        call.path("space_id"), call.path("block_id"), title=body.get("title", str, None),
        data=body.get("props", dict, None),
    )


@router.put("/space/{space_id}/block/{block_id}/move")
async def move_block(call: Call) -> None:
    space_id, block_id, body = call.path("space_id"), call.path("block_id"), await call.json()
    block = await call.service.spaces.get_block(space_id, block_id)
    parent_id = body.get("parent_id", str, block.parent_id)
    position = body.get("sort", int, None)
    await call.service.spaces.move_block(space_id, block_id, await _parent_path(call, space_id, parent_id), position)


@router.put("/space/{space_id}/block/{block_id}/sort")
async def sort_block(call: Call) -> None:
    space_id, block_id, body = call.path("space_id"), call.path("block_id"), await call.json()
    block = await call.service.spaces.get_block(space_id, block_id)
    path = await _parent_path(call, space_id, block.parent_id)
    await call.service.spaces.move_block(space_id, block_id, path, body.get("sort", int))


# Search and learning


@router.get("/space/{space_id}/experience_search")
async def experience_search(call: Call) -> Any:
    query = call.query("query")
    if not query:
        raise ApiError(400, "query parameter 'query' is required")
    result = await call.service.search.experience_search(
        call.path("space_id"), query, mode=call.query("mode") or "fast", limit=call.query_int("limit", 10, 1, 50) or 10
    )
    blocks = [{"block_id": b.block_id, "title": b.title, "type": b.type, "props": b.data, "distance": None}
              for b in result.cited_blocks]
    return {"cited_blocks": blocks, "final_answer": result.final_answer}


def _confirmation(item: PendingExperience) -> dict[str, Any]:
    return {"id": item.id, "space_id": item.space_id, "task_id": item.task_id,
            "experience_data": item.sop.model_dump() if item.sop else {"entries": item.entries},
            "created_at": item.created_at,
            "updated_at": item.decided_at or item.created_at}


@router.get("/space/{space_id}/experience_confirmations")
async def list_confirmations(call: Call) -> Any:
    pending = await call.service.learner.list_pending(call.path("space_id"))
    return page_of([_confirmation(item) for item in pending.items], call, "confirmation-page")


@router.patch("/space/{space_id}/experience_confirmations/{experience_id}")
async def confirm_experience(call: Call) -> Any:
    save = (await call.json()).get("save", bool)
    decided = await call.service.learner.confirm(call.path("space_id"), call.path("experience_id"), accept=save)
    return _confirmation(decided) if save else None
