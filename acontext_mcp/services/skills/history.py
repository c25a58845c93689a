"""Skill versions: every change to a page (a skill) records the SKILL.md it now renders to, with who made the
change, why and when, in the transaction that made it. This module is the only writer of `skill_versions`.

A page's skill name is its data's `name`, else a slug of its title made unique in the space (older
pages keep theirs); its description is its data's `description`, else one derived from its SOPs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from acontext_mcp.formats.skill_md import Entry, SkillDoc, describe, render, slug, unique
from acontext_mcp.services.spaces.tree import ENTRY_TYPES
from acontext_mcp.store.database import Reader, Row, Writer, in_batches, new_id, utc_now

EXTRA_KEYS = ("license", "compatibility", "metadata", "allowed-tools")


@dataclass(frozen=True)
class Change:
    """Who changed a skill and why: `learner` (with its task), `user` (block tools, dashboard), `import`,
    `rollback`."""

    author: str
    reason: str
    task_id: str | None = None
    session_id: str | None = None


USER_EDIT = Change("user", "edited with the block tools")


async def skill_names(reader: Reader, space_id: str) -> dict[str, str]:
    """Each page's skill name, by page id: stored names first, then slugs of titles, unique in the space."""
    rows = await reader.fetch_all(
        "SELECT id, title, data FROM blocks WHERE space_id = ? AND type = 'page' ORDER BY rowid", (space_id,)
    )
    names: dict[str, str] = {}
    taken: set[str] = set()
    derived: list[Row] = []
    for row in rows:
        # Most pages store no name: parse only the data that may hold one (every search asks for these names).
        stored = json.loads(row["data"]).get("name") if '"name"' in row["data"] else None
        if isinstance(stored, str) and stored and stored not in taken:
            names[row["id"]] = stored
            taken.add(stored)
        else:
            derived.append(row)
    for row in derived:
        name = unique(slug(row["title"]), taken)
        names[row["id"]] = name
        taken.add(name)
    return names


async def snapshot(reader: Reader, page_id: str) -> dict[str, Any] | None:
    """A page's state as a skill: its title, data and entries in order (None when it is gone)."""
    page = await reader.fetch_one("SELECT title, data, type FROM blocks WHERE id = ?", (page_id,))
    if page is None or page["type"] != "page":
        return None
    marks = ", ".join("?" * len(ENTRY_TYPES))
    rows = await reader.fetch_all(
        f"SELECT type, title, data, source FROM blocks WHERE parent_id = ? AND type IN ({marks}) ORDER BY sort_order",
        (page_id, *ENTRY_TYPES),
    )
    return {
        "title": page["title"],
        "data": json.loads(page["data"]),
        "entries": [{"type": r["type"], "title": r["title"], "data": json.loads(r["data"]),
                     "source": json.loads(r["source"]) if r["source"] else None} for r in rows],
    }


def skill_doc(name: str, state: dict[str, Any]) -> SkillDoc:
    data = state["data"]
    entries = [Entry(e["type"], e["title"], e["data"], e["source"]) for e in state["entries"]]
    description = data.get("description")
    return SkillDoc(
        name=name,
        description=description if isinstance(description, str) and description.strip()
        else describe(state["title"], entries),
        title=state["title"],
        entries=entries,
        body=data["body"] if isinstance(data.get("body"), str) else "",
        extra={k: data[k] for k in EXTRA_KEYS if data.get(k) is not None},
    )


async def record(
    tx: Writer, space_id: str, page_ids: Iterable[str | None], change: Change, force: bool = False
) -> None:
    """Record a version of each page whose SKILL.md (or state) changed, or of each with `force` (a rollback
    is a version even when it restores the current state); call it in the changing transaction."""
    pages = [p for p in dict.fromkeys(page_ids) if p is not None]
    if not pages:
        return
    names = await skill_names(tx, space_id)
    for page_id in pages:
        state = await snapshot(tx, page_id)
        if state is None:
            continue
        name = names[page_id]
        skill_md = render(skill_doc(name, state))
        encoded = json.dumps(state, ensure_ascii=False, sort_keys=True)
        last = await tx.fetch_one(
            "SELECT version, skill_md, snapshot FROM skill_versions WHERE page_id = ? ORDER BY version DESC LIMIT 1",
            (page_id,),
        )
        if not force and last is not None and last["skill_md"] == skill_md and last["snapshot"] == encoded:
            continue
        await tx.execute(
            "INSERT INTO skill_versions (id, space_id, page_id, version, name, skill_md, snapshot, author, reason, "
            "task_id, session_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (new_id(), space_id, page_id, (last["version"] if last else 0) + 1, name, skill_md, encoded,
             change.author, change.reason, change.task_id, change.session_id, utc_now()),
        )


async def pages_of(reader: Reader, block_ids: Iterable[str | None]) -> list[str]:
    """The pages that the given blocks are (pages) or sit on (entries), in the order of the blocks."""
    ids = [block_id for block_id in block_ids if block_id is not None]
    page_of = await page_of_each(reader, ids)
    return [page_of[block_id] for block_id in ids if block_id in page_of]


async def page_of_each(reader: Reader, block_ids: Iterable[str | None]) -> dict[str, str]:
    """Each given block's page, by block id: itself for a page, its parent for an entry; other blocks (folders,
    entries outside a page) and unknown ids are left out. One query per 500 blocks."""
    ids = sorted({block_id for block_id in block_ids if block_id is not None})
    found: dict[str, str] = {}
    for batch, marks in in_batches(ids):
        for row in await reader.fetch_all(f"SELECT id, type, parent_id FROM blocks WHERE id IN ({marks})", batch):
            if row["type"] == "page":
                found[row["id"]] = row["id"]
            elif row["type"] in ENTRY_TYPES and row["parent_id"]:
                found[row["id"]] = row["parent_id"]
    return found
