"""Reading a space's tree: paths, blocks with their paths, the space itself. Shared by the space
service (which writes the tree), the search index and the agents."""

from __future__ import annotations

import json
from collections.abc import Sequence

from acontext_mcp.errors import InvalidArgument, NotFound
from acontext_mcp.projects import current_project
from acontext_mcp.services.spaces.models import (
    Block,
    BlockType,
    EntrySource,
    Space,
    SpaceSettings,
)
from acontext_mcp.store.database import Reader, Row, Writer, in_batches

CHILD_TYPES: dict[str | None, tuple[BlockType, ...]] = {
    None: ("folder", "page"),  # the space's root
    "folder": ("folder", "page"),
    "page": ("text", "sop", "warning", "fact"),
    "text": (),
    "sop": (),
    "warning": (),
    "fact": (),
}
ENTRY_TYPES = ("sop", "warning", "fact", "text")
CONTAINERS = ("folder", "page")
SEARCHABLE = ("page", "text", "sop", "warning", "fact")
SPACE_HINT = "call list_spaces to see the ids that exist, or create_space for a new one"
BLOCK_HINT = "call list_space to see the blocks and their ids"


def split_path(path: str) -> list[str]:
    """'/github/GTM' -> ['github', 'GTM']; '/' and '' -> []. Raises `InvalidArgument` for empty segments."""
    inner = path.strip().strip("/")
    if not inner:
        return []
    parts = inner.split("/")
    if any(not part.strip() for part in parts):
        raise InvalidArgument(f"path {path!r} has an empty segment; write paths like /github/GTM")
    return [part.strip() for part in parts]


async def resolve(reader: Reader, space_id: str, path: str) -> str | None:
    """The id of the folder or page at `path`, or None for the root. Raises `NotFound`."""
    parent: str | None = None
    walked = ""
    for title in split_path(path):
        walked += f"/{title}"
        where, params = children_of(space_id, parent)
        row = await reader.fetch_one(
            f"SELECT id FROM blocks WHERE {where} AND title = ? AND type IN ('folder', 'page')", (*params, title)
        )
        if row is None:
            raise NotFound("path", walked, "call list_space to see the folders and pages that exist")
        parent = row["id"]
    return parent


async def subtree(reader: Reader, block_id: str) -> list[str]:
    """The block's id and the ids of everything under it."""
    rows = await reader.fetch_all(
        "WITH RECURSIVE sub(id) AS (SELECT id FROM blocks WHERE id = ?"
        " UNION ALL SELECT b.id FROM blocks b JOIN sub ON b.parent_id = sub.id) "
        "SELECT id FROM sub",
        (block_id,),
    )
    return [row["id"] for row in rows]


async def block_path(reader: Reader, block_id: str) -> str:
    return (await with_paths(reader, [block_id]))[block_id][1]


async def with_paths(reader: Reader, ids: Sequence[str]) -> dict[str, tuple[Row, str]]:
    """Each existing block's row and path (see `Block.path`): one query per 500 blocks, which walks up from each
    block and returns its own row (with `up_start` and `up_depth` besides the block's columns) before its ancestors'
    titles."""
    found: dict[str, tuple[Row, str]] = {}
    for batch, marks in in_batches(ids):
        rows = await reader.fetch_all(
            "WITH RECURSIVE up(start, id, parent_id, title, depth) AS ("
            f" SELECT id, id, parent_id, title, 0 FROM blocks WHERE id IN ({marks})"
            " UNION ALL SELECT up.start, b.id, b.parent_id, b.title, up.depth + 1"
            " FROM blocks b JOIN up ON b.id = up.parent_id)"
            " SELECT up.start AS up_start, up.depth AS up_depth, up.title AS up_title, b.* FROM up"
            " LEFT JOIN blocks b ON up.depth = 0 AND b.id = up.start ORDER BY up.start, up.depth DESC",
            batch,
        )
        ancestors: dict[str, list[str]] = {}
        for row in rows:
            if row["up_depth"] > 0:
                ancestors.setdefault(row["up_start"], []).append(row["up_title"])
                continue
            titles = ancestors.get(row["id"], [])
            if row["type"] in CONTAINERS:
                titles = [*titles, row["title"]]
            found[row["id"]] = (row, "/" + "/".join(titles))
    return found


async def load_blocks(reader: Reader, ids: Sequence[str]) -> dict[str, Block]:
    """The blocks with these ids that exist, by id."""
    return {block_id: block_record(row, path) for block_id, (row, path) in (await with_paths(reader, ids)).items()}


async def fetch_space(reader: Reader, space_id: str) -> Space:
    """The space, if it is the current project's. Raises `NotFound` (the same for another project's)."""
    row = await reader.fetch_one("SELECT * FROM spaces WHERE id = ? AND project_id = ?", (space_id, current_project()))
    if row is None:
        raise NotFound("space", space_id, SPACE_HINT)
    return space_record(row)


def children_of(space_id: str, parent_id: str | None) -> tuple[str, tuple[str, ...]]:
    """The condition (and its parameters) for the blocks under a parent, None meaning the space's root.

    Spelled per case so both engines use the (space_id, parent_id) index: PostgreSQL does not for
    `IS NOT DISTINCT FROM`, and SQLite before 3.39 lacks it.
    """
    if parent_id is None:
        return "space_id = ? AND parent_id IS NULL", (space_id,)
    return "space_id = ? AND parent_id = ?", (space_id, parent_id)


def space_key(space_id: str) -> str:
    """The `Writer.lock` key that orders the writes to one space (its tree, its sessions) across replicas."""
    return f"space:{space_id}"


async def lock_space(tx: Writer, space_id: str) -> Space:
    """`fetch_space`, holding the space (`space_key`) until the transaction ends."""
    await tx.lock(space_key(space_id))
    return await fetch_space(tx, space_id)


async def block_row(reader: Reader, space_id: str, block_id: str) -> Row:
    row = await reader.fetch_one("SELECT * FROM blocks WHERE id = ? AND space_id = ?", (block_id, space_id))
    if row is None:
        raise NotFound("block", block_id, BLOCK_HINT)
    return row


async def block_in(reader: Reader, space_id: str, block_id: str) -> Block:
    await block_row(reader, space_id, block_id)
    return (await load_blocks(reader, [block_id]))[block_id]


def space_record(row: Row) -> Space:
    return Space(id=row["id"], name=row["name"], settings=SpaceSettings.model_validate_json(row["settings"]),
                 created_at=row["created_at"], updated_at=row["updated_at"])


def block_record(row: Row, path: str) -> Block:
    return Block(id=row["id"], space_id=row["space_id"], parent_id=row["parent_id"], type=row["type"],
                 title=row["title"], data=json.loads(row["data"]), sort_order=row["sort_order"], path=path,
                 source=EntrySource.model_validate_json(row["source"]) if row["source"] else None,
                 created_at=row["created_at"], updated_at=row["updated_at"])
