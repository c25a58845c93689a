"""Spaces: Notion-like trees of folders, pages, text and SOP blocks, addressed by paths like /github/GTM.

Folders (and a space's root) hold folders and pages; pages hold text and sop blocks. A folder's
or page's title is unique within its parent, so a path names one block. Every write commits to
the database first, then tells the search index which blocks changed.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from acontext_mcp.errors import Conflict, InvalidArgument, PayloadTooLarge
from acontext_mcp.formats.skill_md import check_description, check_name
from acontext_mcp.projects import current_project
from acontext_mcp.services.limits import check_depth
from acontext_mcp.services.models import Deleted
from acontext_mcp.services.sessions import detach_space
from acontext_mcp.services.skills.history import USER_EDIT, Change, pages_of, record, skill_names
from acontext_mcp.services.spaces.index import SearchIndex
from acontext_mcp.services.spaces.models import (
    BLOCK_TYPES,
    Block,
    BlocksDeleted,
    EntrySource,
    FactData,
    SopData,
    Space,
    SpaceList,
    SpaceSettings,
    SpaceTree,
    TextData,
    TreeEntry,
    WarningData,
)
from acontext_mcp.services.spaces.tree import (
    CHILD_TYPES,
    CONTAINERS,
    block_in,
    block_path,
    block_row,
    children_of,
    fetch_space,
    load_blocks,
    lock_space,
    resolve,
    space_record,
    split_path,
    subtree,
)
from acontext_mcp.services.users import ensure_user
from acontext_mcp.store.database import Database, Reader, Row, Writer, new_id, utc_now

DATA_MODELS: dict[str, type[BaseModel]] = {"sop": SopData, "text": TextData, "warning": WarningData,
                                            "fact": FactData}
DATA_SHAPES = {
    "sop": '{"use_when": str, "preferences": str, "tool_sops": [{"tool_name": str, "action": str}]}',
    "text": '{"text": str}',
    "warning": '{"text": str, "instead": str}',
    "fact": '{"text": str}',
}
MAX_TITLE_CHARS = 200
MAX_TREE_ENTRIES = 1000


class SpaceService:
    def __init__(self, db: Database, search: SearchIndex, max_data_bytes: int) -> None:
        self._db = db
        self._search = search
        self._max_data_bytes = max_data_bytes

    # Spaces

    async def create_space(
        self, name: str | None = None, settings: SpaceSettings | None = None, user: str | None = None
    ) -> Space:
        """A new empty space, belonging to `user` (an identifier, created on first use) when given.
        Raises `InvalidArgument` for a name over `MAX_TITLE_CHARS` or a bad user identifier."""
        if name is not None and len(name) > MAX_TITLE_CHARS:
            raise InvalidArgument(f"name is {len(name)} characters, over the limit of {MAX_TITLE_CHARS}")
        now = utc_now()
        space = Space(id=new_id(), name=name, settings=settings or SpaceSettings(), created_at=now, updated_at=now,
                      user=user)
        async with self._db.transaction() as tx:
            user_id = await ensure_user(tx, user) if user is not None else None
            await tx.execute(
                "INSERT INTO spaces (id, name, settings, created_at, updated_at, project_id, user_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (space.id, name, space.settings.model_dump_json(), space.created_at, space.updated_at,
                 current_project(), user_id),
            )
        return space

    async def update_space(
        self, space_id: str, name: str | None = None, settings: SpaceSettings | None = None
    ) -> Space:
        """Rename a space and/or replace its settings. Raises `NotFound`, `InvalidArgument` (name too long)."""
        if name is not None and len(name) > MAX_TITLE_CHARS:
            raise InvalidArgument(f"name is {len(name)} characters, over the limit of {MAX_TITLE_CHARS}")
        async with self._db.transaction() as tx:
            await lock_space(tx, space_id)
            sets: dict[str, Any] = {"updated_at": utc_now()}
            if name is not None:
                sets["name"] = name
            if settings is not None:
                sets["settings"] = settings.model_dump_json()
            await tx.execute(f"UPDATE spaces SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?",
                             (*sets.values(), space_id))
        return await fetch_space(self._db, space_id)

    async def get_space(self, space_id: str) -> Space:
        """Raises `NotFound` for an unknown id."""
        return await fetch_space(self._db, space_id)

    async def list_spaces(self) -> SpaceList:
        """Every space, oldest first."""
        rows = await self._db.fetch_all("SELECT * FROM spaces WHERE project_id = ? ORDER BY rowid",
                                        (current_project(),))
        return SpaceList(items=[space_record(row) for row in rows])

    async def delete_space(self, space_id: str) -> Deleted:
        """Delete a space and every block in it; its sessions stay, detached. Raises `NotFound` for an unknown id."""
        async with self._db.transaction() as tx:
            await lock_space(tx, space_id)
            await tx.execute("DELETE FROM spaces WHERE id = ?", (space_id,))
            await detach_space(tx, space_id)
            await self._search.enqueue(tx, space_id)
        await self._search.sync()
        return Deleted(id=space_id)

    # Reading the tree

    async def list_space(self, space_id: str, path: str = "/") -> SpaceTree:
        """The blocks under `path`, depth first. Raises `NotFound` for an unknown space or path."""
        await fetch_space(self._db, space_id)
        top = await resolve(self._db, space_id, path)
        rows = await self._db.fetch_all(
            "SELECT id, parent_id, type, title FROM blocks WHERE space_id = ? ORDER BY sort_order", (space_id,)
        )
        children: dict[str | None, list[Row]] = {}
        for row in rows:
            children.setdefault(row["parent_id"], []).append(row)
        entries: list[TreeEntry] = []
        top_path = await block_path(self._db, top) if top else ""
        stack = [(row, top_path, 0) for row in reversed(children.get(top, []))]
        while stack and len(entries) < MAX_TREE_ENTRIES:
            row, parent_path, depth = stack.pop()
            own_path = f"{parent_path}/{row['title']}" if row["type"] in CONTAINERS else parent_path or "/"
            entries.append(TreeEntry(id=row["id"], type=row["type"], title=row["title"], path=own_path,
                                     parent_id=row["parent_id"], depth=depth))
            stack.extend((child, own_path, depth + 1) for child in reversed(children.get(row["id"], [])))
        return SpaceTree(space_id=space_id, path=top_path or "/", entries=entries, truncated=bool(stack))

    async def get_block(self, space_id: str, block_id: str) -> Block:
        """Raises `NotFound` for an unknown space or a block not in it."""
        await fetch_space(self._db, space_id)
        return await block_in(self._db, space_id, block_id)

    async def read_path(self, space_id: str, path: str) -> tuple[Block | None, list[Block]]:
        """The folder or page at `path` (None for the root) and its children in order."""
        await fetch_space(self._db, space_id)
        node_id = await resolve(self._db, space_id, path)
        where, params = children_of(space_id, node_id)
        ids = [r["id"] for r in await self._db.fetch_all(
            f"SELECT id FROM blocks WHERE {where} ORDER BY sort_order", params
        )]
        blocks = await load_blocks(self._db, [node_id, *ids] if node_id else ids)
        return (blocks[node_id] if node_id else None), [blocks[i] for i in ids]

    async def blocks_in(self, space_id: str, ids: Sequence[str]) -> dict[str, Block]:
        """The blocks of this space among `ids`, by id; other ids are left out."""
        return {i: b for i, b in (await load_blocks(self._db, ids)).items() if b.space_id == space_id}

    async def skill_names(self, space_id: str) -> dict[str, str]:
        """Each page's skill name, by page id (see services/skills/history.py)."""
        return await skill_names(self._db, space_id)

    async def list_pages(self, limit: int) -> list[Block]:
        """Up to `limit` pages across the project's spaces, oldest space first, for listing as resources."""
        rows = await self._db.fetch_all(
            "SELECT b.id FROM blocks b JOIN spaces s ON s.id = b.space_id WHERE b.type = 'page' AND s.project_id = ? "
            "ORDER BY s.rowid, b.rowid LIMIT ?",
            (current_project(), limit),
        )
        blocks = await load_blocks(self._db, [r["id"] for r in rows])
        return [blocks[r["id"]] for r in rows]

    # Writing blocks

    async def create_block(
        self, space_id: str, parent_path: str, type: str, title: str, data: dict[str, Any] | None = None,
        change: Change = USER_EDIT,
    ) -> Block:
        """Add a block as the last child of the folder or page at `parent_path` ("/" is the root).

        Raises `NotFound` (space, path), `InvalidArgument` (type, title, data, a child type the
        parent cannot hold), `Conflict` (a folder or page of that title already there).
        """
        encoded = self._encode_data(type, data)
        title = _check_title(type, title)
        async with self._db.transaction() as tx:
            await lock_space(tx, space_id)
            parent_id = await resolve(tx, space_id, parent_path)
            await _check_child(tx, parent_id, type, parent_path)
            await _check_unique(tx, space_id, parent_id, type, title)
            block_id = await _insert(tx, space_id, parent_id, type, title, encoded)
            await self._search.enqueue(tx, space_id, [block_id])
            await record(tx, space_id, await pages_of(tx, [block_id]), change)
        await self._search.sync()
        return await block_in(self._db, space_id, block_id)

    async def place_sop(
        self,
        space_id: str,
        page_path: str,
        sop: dict[str, Any],
        merge_into: str | None = None,
        then: Callable[[Writer, str], Awaitable[None]] | None = None,
    ) -> Block:
        """`place_entries` with one SOP."""
        return await self.place_entries(space_id, page_path, sop, merge_into=merge_into, then=then)

    async def place_entries(
        self,
        space_id: str,
        page_path: str,
        sop: dict[str, Any] | None,
        others: Sequence[dict[str, Any]] = (),
        merge_into: str | None = None,
        page_data: dict[str, Any] | None = None,
        source: EntrySource | None = None,
        change: Change = USER_EDIT,
        then: Callable[[Writer, str], Awaitable[None]] | None = None,
    ) -> Block:
        """Add learned entries to the page (skill) at `page_path`, creating the folders and page on the way
        (the page with `page_data`), in one transaction that also records the skill's version.

        `sop` is added, or with `merge_into` (an sop block of the space) merged into that block (see
        `merge_sops`); `others` are warnings and facts (`{"type", "data"}`; a fact the page states already
        is left out). `then(tx, block_id)` runs last in the same transaction with the first entry's block.
        Raises `NotFound` (space, merge target), `InvalidArgument` (path through a page or onto a folder, bad
        titles, malformed data, nothing to add).
        """
        data = validate_data("sop", sop) if sop is not None else None
        extra = [(e["type"], validate_data(e["type"], e["data"])) for e in others]
        if data is None and not extra:
            raise InvalidArgument("nothing to place: give an SOP, warnings or facts")
        async with self._db.transaction() as tx:
            await lock_space(tx, space_id)
            added: list[str] = []
            if merge_into is not None and data is not None:
                target = await block_row(tx, space_id, merge_into)
                if target["type"] != "sop":
                    raise InvalidArgument(f"block {merge_into!r} is a {target['type']}, not an sop; merge into an sop")
                merged = merge_sops(json.loads(target["data"]), data)
                await tx.execute("UPDATE blocks SET data = ?, updated_at = ? WHERE id = ?",
                                 (self._encode_data("sop", merged), utc_now(), merge_into))
                page_id = target["parent_id"]
                added.append(merge_into)
            else:
                page_id = await self._make_page(tx, space_id, page_path, page_data)
                if data is not None:
                    added.append(await _insert(tx, space_id, page_id, "sop", sop_title(data),
                                               self._encode_data("sop", data), source))
            known = {json.loads(r["data"])["text"].strip().lower() for r in await tx.fetch_all(
                "SELECT data FROM blocks WHERE parent_id = ? AND type = 'fact'", (page_id,))}
            for type, entry in extra:
                if type == "fact" and entry["text"].strip().lower() in known:
                    continue
                known.add(entry["text"].strip().lower())
                added.append(await _insert(tx, space_id, page_id, type, entry_title(entry),
                                           self._encode_data(type, entry), source))
            await self._search.enqueue(tx, space_id, added)
            await record(tx, space_id, [page_id], change)
            first = added[0] if added else page_id
            if then is not None:
                await then(tx, first)
        await self._search.sync()
        return await block_in(self._db, space_id, first)

    async def _make_page(self, tx: Writer, space_id: str, page_path: str, page_data: dict[str, Any] | None) -> str:
        """The page at `page_path`, with the folders on the way, created if missing; returns its id."""
        titles = split_path(page_path)
        if not titles:
            raise InvalidArgument("learned entries go on a page: give a page path such as /github/basic_ops")
        parent_id: str | None = None
        created: list[str] = []
        for depth, title in enumerate(titles):
            type = "page" if depth == len(titles) - 1 else "folder"
            title = _check_title(type, title)
            where, params = children_of(space_id, parent_id)
            row = await tx.fetch_one(
                f"SELECT id, type FROM blocks WHERE {where} AND title = ? AND type IN ('folder', 'page')",
                (*params, title),
            )
            if row is not None and row["type"] != type:
                raise InvalidArgument(f"{title!r} in {page_path!r} is a {row['type']}, not a {type}; "
                                      "SOPs go on pages, and pages sit in folders")
            if row is None:
                encoded = json.dumps(page_data or {}, ensure_ascii=False) if type == "page" else "{}"
                row_id = await _insert(tx, space_id, parent_id, type, title, encoded)
                created.append(row_id)
            parent_id = row["id"] if row else row_id
        await self._search.enqueue(tx, space_id, created)
        assert parent_id is not None
        return parent_id

    async def restore_page(self, space_id: str, page_id: str, state: dict[str, Any], change: Change) -> Block:
        """Put a page (skill) back to a recorded state: its data, its entries in order, and its title unless
        another folder or page took it meanwhile. Raises `NotFound` (space, page)."""
        async with self._db.transaction() as tx:
            await lock_space(tx, space_id)
            row = await block_row(tx, space_id, page_id)
            if row["type"] != "page":
                raise InvalidArgument(f"block {page_id!r} is a {row['type']}, not a page (a skill)")
            title = row["title"]
            if state["title"] != title:
                where, params = children_of(space_id, row["parent_id"])
                clash = await tx.fetch_one(f"SELECT 1 FROM blocks WHERE {where} AND title = ? AND "
                                           "type IN ('folder', 'page')", (*params, state["title"]))
                title = title if clash else state["title"]
            await tx.execute("UPDATE blocks SET title = ?, data = ?, updated_at = ? WHERE id = ?",
                             (title, json.dumps(state["data"], ensure_ascii=False), utc_now(), page_id))
            removed = await subtree(tx, page_id)
            await tx.execute("DELETE FROM blocks WHERE parent_id = ?", (page_id,))
            added = [await _insert(tx, space_id, page_id, e["type"], e["title"],
                                   json.dumps(e["data"], ensure_ascii=False),
                                   EntrySource.model_validate(e["source"]) if e["source"] else None)
                     for e in state["entries"]]
            await self._search.enqueue(tx, space_id, [*removed, *added])
            await record(tx, space_id, [page_id], change, force=True)
        await self._search.sync()
        return await block_in(self._db, space_id, page_id)

    async def update_block(
        self, space_id: str, block_id: str, title: str | None = None, data: dict[str, Any] | None = None,
        change: Change = USER_EDIT,
    ) -> Block:
        """Change a block's title and/or data (data is replaced whole, and validated for its type).

        Raises `NotFound`, `InvalidArgument` (nothing to change, bad title or data), `Conflict`.
        """
        if title is None and data is None:
            raise InvalidArgument("nothing to update: pass a new title, new data, or both")
        async with self._db.transaction() as tx:
            await lock_space(tx, space_id)
            row = await block_row(tx, space_id, block_id)
            sets: dict[str, Any] = {"updated_at": utc_now()}
            if title is not None:
                sets["title"] = _check_title(row["type"], title)
                if sets["title"] != row["title"]:
                    await _check_unique(tx, space_id, row["parent_id"], row["type"], sets["title"])
            if data is not None:
                sets["data"] = self._encode_data(row["type"], data)
            await tx.execute(
                f"UPDATE blocks SET {', '.join(f'{k} = ?' for k in sets)} WHERE id = ?", (*sets.values(), block_id)
            )
            await self._search.enqueue(tx, space_id, await subtree(tx, block_id))
            await record(tx, space_id, await pages_of(tx, [block_id]), change)
        await self._search.sync()
        return await block_in(self._db, space_id, block_id)

    async def move_block(
        self, space_id: str, block_id: str, new_parent_path: str, position: int | None = None,
        change: Change = USER_EDIT,
    ) -> Block:
        """Move a block (with everything under it) under another parent, at `position` (from 0; default last).

        Raises `NotFound`, `InvalidArgument` (a parent that cannot hold it, a move into itself,
        a position out of range), `Conflict`.
        """
        async with self._db.transaction() as tx:
            await lock_space(tx, space_id)
            row = await block_row(tx, space_id, block_id)
            left = await pages_of(tx, [block_id])
            parent_id = await resolve(tx, space_id, new_parent_path)
            moved = await subtree(tx, block_id)
            if parent_id in moved:
                raise InvalidArgument(
                    f"cannot move {row['type']} {row['title']!r} into {new_parent_path!r}: that is the block "
                    "itself or inside it; pick a parent outside it"
                )
            await _check_child(tx, parent_id, row["type"], new_parent_path)
            if parent_id != row["parent_id"]:
                await _check_unique(tx, space_id, parent_id, row["type"], row["title"])
            await _close_gap(tx, space_id, row["parent_id"], row["sort_order"], block_id)
            where, params = children_of(space_id, parent_id)
            count = await tx.fetch_one(
                f"SELECT COUNT(*) AS n FROM blocks WHERE {where} AND id != ?", (*params, block_id)
            )
            siblings = count["n"] if count else 0
            if position is None:
                position = siblings
            elif not 0 <= position <= siblings:
                raise InvalidArgument(f"position {position} is out of range: {new_parent_path!r} has {siblings} "
                                      f"other children, so use 0..{siblings} (or omit it to move to the end)")
            await tx.execute(
                f"UPDATE blocks SET sort_order = sort_order + 1 WHERE {where} AND id != ? AND sort_order >= ?",
                (*params, block_id, position),
            )
            await tx.execute(
                "UPDATE blocks SET parent_id = ?, sort_order = ?, updated_at = ? WHERE id = ?",
                (parent_id, position, utc_now(), block_id),
            )
            await self._search.enqueue(tx, space_id, moved)
            await record(tx, space_id, [*left, *await pages_of(tx, [block_id])], change)
        await self._search.sync()
        return await block_in(self._db, space_id, block_id)

    async def delete_block(
        self, space_id: str, block_id: str, recursive: bool = False, change: Change = USER_EDIT
    ) -> BlocksDeleted:
        """Delete a block; a folder or page must be empty unless `recursive`, which deletes all under it.

        Raises `NotFound`, `InvalidArgument` (a non-empty folder or page without `recursive`).
        """
        async with self._db.transaction() as tx:
            await lock_space(tx, space_id)
            row = await block_row(tx, space_id, block_id)
            removed = await subtree(tx, block_id)
            page = [row["parent_id"]] if row["type"] not in CONTAINERS else []
            if len(removed) > 1 and not recursive:
                raise InvalidArgument(
                    f"{row['type']} {row['title']!r} is not empty ({len(removed) - 1} blocks under it); "
                    "delete or move them first, or pass recursive=true to delete everything under it"
                )
            await tx.execute("DELETE FROM blocks WHERE id = ?", (block_id,))
            await _close_gap(tx, space_id, row["parent_id"], row["sort_order"], block_id)
            await self._search.enqueue(tx, space_id, removed)
            await record(tx, space_id, page, change)
        await self._search.sync()
        return BlocksDeleted(id=block_id, block_ids=removed)

    def _encode_data(self, type: str, data: dict[str, Any] | None) -> str:
        check_depth(data, f"{type} data")
        encoded = json.dumps(validate_data(type, data), ensure_ascii=False, allow_nan=False)
        if (size := len(encoded.encode())) > self._max_data_bytes:
            raise PayloadTooLarge(f"{type} data", size, self._max_data_bytes, "ACONTEXT_MAX_MESSAGE_BYTES")
        return encoded


# Paths and validation


def validate_data(type: str, data: dict[str, Any] | None) -> dict[str, Any]:
    """The block's data checked against its type's model. Raises `InvalidArgument`."""
    if type not in BLOCK_TYPES:
        raise InvalidArgument(f"unknown block type {type!r}; use folder, page, text, sop, warning or fact")
    model = DATA_MODELS.get(type)
    if model is None:
        if data is not None and not isinstance(data, dict):
            raise InvalidArgument(f"{type} data must be a JSON object")
        if type == "page" and data:
            check_skill_fields(data)
        return data or {}
    try:
        return model.model_validate(data or {}).model_dump()
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'data'}: {error['msg']}" for error in exc.errors()
        )
        raise InvalidArgument(f"invalid {type} data ({problems}); {type} data looks like {DATA_SHAPES[type]}") from None


def check_skill_fields(data: dict[str, Any]) -> None:
    """A page's skill fields, when set, as the Agent Skills spec wants them. Raises `InvalidArgument`."""
    if "name" in data:
        check_name(data["name"], "page data name")
    if "description" in data:
        check_description(data["description"], "page data description")
    if "body" in data and not isinstance(data["body"], str):
        raise InvalidArgument("page data body must be a string (the SKILL.md body, Markdown)")


def _check_title(type: str, title: str) -> str:
    title = title.strip() if isinstance(title, str) else ""
    if not title:
        raise InvalidArgument("title must not be empty")
    if len(title) > MAX_TITLE_CHARS:
        raise InvalidArgument(f"title is {len(title)} characters, over the limit of {MAX_TITLE_CHARS}")
    if any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in title):
        raise InvalidArgument(f"title {title!r} contains a control character (NUL, newline, ...); remove it")
    if type in CONTAINERS and ("/" in title or title in (".", "..")):
        raise InvalidArgument(f"{type} title {title!r} cannot contain '/' or be '.' or '..': titles form paths")
    return title


async def _check_child(reader: Reader, parent_id: str | None, type: str, parent_path: str) -> None:
    parent_type = None
    if parent_id is not None:
        row = await reader.fetch_one("SELECT type FROM blocks WHERE id = ?", (parent_id,))
        parent_type = row["type"] if row else None
    allowed = CHILD_TYPES[parent_type]
    if type not in allowed:
        where = "the space's root" if parent_id is None else f"{parent_type} {parent_path!r}"
        hint = {"folder": "folders and pages", "page": "text and sop blocks"}
        raise InvalidArgument(
            f"{where} cannot hold a {type} block: it holds only {' and '.join(allowed)} blocks "
            f"(folders hold {hint['folder']}; pages hold {hint['page']})"
        )


async def _check_unique(reader: Reader, space_id: str, parent_id: str | None, type: str, title: str) -> None:
    if type not in CONTAINERS:
        return
    where, params = children_of(space_id, parent_id)
    clash = await reader.fetch_one(
        f"SELECT type FROM blocks WHERE {where} AND title = ? AND type IN ('folder', 'page')", (*params, title)
    )
    if clash is not None:
        raise Conflict(f"a {clash['type']} titled {title!r} already exists there; choose another title, "
                       "or use the existing one")


async def _insert(
    tx: Writer, space_id: str, parent_id: str | None, type: str, title: str, encoded: str,
    source: EntrySource | None = None,
) -> str:
    """Insert a checked block as its parent's last child; return its id."""
    block_id, now = new_id(), utc_now()
    where, params = children_of(space_id, parent_id)
    order = await tx.fetch_one(f"SELECT COALESCE(MAX(sort_order) + 1, 0) AS n FROM blocks WHERE {where}", params)
    await tx.execute(
        "INSERT INTO blocks (id, space_id, parent_id, type, title, data, sort_order, created_at, updated_at, source) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (block_id, space_id, parent_id, type, title, encoded, order["n"] if order else 0, now, now,
         source.model_dump_json() if source else None),
    )
    return block_id


def sop_title(sop: dict[str, Any]) -> str:
    """An SOP block's title: its use_when, cut to a title's length."""
    text = " ".join(sop["use_when"].split())
    return text if len(text) <= 80 else text[:79].rstrip() + "…"


def entry_title(data: dict[str, Any]) -> str:
    """A warning's or fact's title: its text, cut to a title's length."""
    text = " ".join(data["text"].split())
    return text if len(text) <= 80 else text[:79].rstrip() + "…"


def merge_sops(existing: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """One SOP from two near-duplicates: the existing use_when and steps stay first; the new SOP adds
    the steps whose tool the existing one never calls, and preferences it does not state yet."""
    known_tools = {step["tool_name"] for step in existing["tool_sops"]}
    steps = existing["tool_sops"] + [step for step in new["tool_sops"] if step["tool_name"] not in known_tools]
    preferences = [p for p in (existing["preferences"].strip(), new["preferences"].strip()) if p]
    if len(preferences) == 2 and preferences[1].lower() in preferences[0].lower():
        preferences = preferences[:1]
    return {"use_when": existing["use_when"], "preferences": "; ".join(preferences), "tool_sops": steps}


async def _close_gap(tx: Writer, space_id: str, parent_id: str | None, order: int, block_id: str) -> None:
    where, params = children_of(space_id, parent_id)
    await tx.execute(
        f"UPDATE blocks SET sort_order = sort_order - 1 WHERE {where} AND id != ? AND sort_order > ?",
        (*params, block_id, order),
    )


# Loading records


