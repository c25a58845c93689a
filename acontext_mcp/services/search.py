"""Experience search: find the blocks of a space that fit a request, through the LanceDB index.

SQLite is the source of truth. After every block write the index is brought in step; when that
fails the write still stands, the index is marked dirty in SQLite, and it is rebuilt from
SQLite before its next use (by this process or any other sharing the data dir).
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import anyio

from acontext_mcp.errors import AcontextError, InvalidArgument, SearchUnavailable
from acontext_mcp.services.models import CitedBlock, ExperienceSearchResult, IndexRebuilt
from acontext_mcp.services.spaces import SEARCHABLE, fetch_space, load_blocks, with_paths
from acontext_mcp.store.sqlite import Database, utc_now
from acontext_mcp.store.vectors import BlockIndex, IndexedBlock

log = logging.getLogger(__name__)

MAX_QUERY_CHARS = 2000
MAX_RESULTS = 50
SEARCH_MODES = ("fast", "agentic")
AGENTIC_FALLBACK_NOTE = (
    "agentic search needs an LLM and none is configured, so this is the fast (index) search instead"
)


class SearchService:
    def __init__(self, db: Database, index: BlockIndex) -> None:
        self._db = db
        self._index = index
        self._ready = False
        self._lock = anyio.Lock()

    async def experience_search(
        self,
        space_id: str,
        query: str,
        mode: str = "fast",
        limit: int = 5,
        types: Sequence[str] | None = None,
    ) -> ExperienceSearchResult:
        """The blocks of a space most relevant to `query`, best first (only `types` if given).

        Raises `NotFound` (space), `InvalidArgument` (empty query, bad mode or limit,
        or a query over MAX_QUERY_CHARS), `SearchUnavailable` (the index or embedder failed).
        """
        if mode not in SEARCH_MODES:
            raise InvalidArgument(f"unknown search mode {mode!r}; use fast or agentic")
        if not 1 <= limit <= MAX_RESULTS:
            raise InvalidArgument(f"limit must be between 1 and {MAX_RESULTS}, got {limit}")
        query = query.strip()
        if not query:
            raise InvalidArgument("query is empty; describe the task you want experience for")
        if len(query) > MAX_QUERY_CHARS:
            raise InvalidArgument(
                f"query is {len(query)} characters, over the limit of {MAX_QUERY_CHARS}; describe the task briefly"
            )
        await fetch_space(self._db, space_id)
        with self._reporting("search"):
            await self._ensure_ready()
            hits = await self._index.search(space_id, query, limit, types)
        blocks = await load_blocks(self._db, [hit.block_id for hit in hits])
        cited = [
            CitedBlock(block_id=b.id, type=b.type, path=b.path, title=b.title, data=b.data, score=hit.score)
            for hit in hits
            if (b := blocks.get(hit.block_id)) is not None
        ]
        return ExperienceSearchResult(cited_blocks=cited, note=AGENTIC_FALLBACK_NOTE if mode == "agentic" else None)

    async def rebuild(self, space_id: str | None = None) -> IndexRebuilt:
        """Rebuild the index from SQLite: one space's rows, or (None) the whole index.

        Raises `NotFound` for an unknown space.
        """
        if space_id is not None:
            await fetch_space(self._db, space_id)
        with self._reporting("rebuilding the index"):
            async with self._lock:
                if space_id is None or not self._ready:
                    count = await self._rebuild_all()
                else:
                    async with self._dirty_on_failure(f"rebuild space {space_id}"):
                        ids = await self._searchable_ids("AND space_id = ?", (space_id,))
                        await self._index.delete_space(space_id)
                        await self._index.replace([], await self._documents(ids))
                    count = len(ids)
        return IndexRebuilt(space_id=space_id, indexed_blocks=count)

    # Keeping the index in step; called by SpaceService after each committed write.

    async def blocks_changed(self, block_ids: Sequence[str]) -> None:
        """Re-index these blocks from their current SQLite state (dropping any no longer searchable)."""

        async def write() -> None:
            await self._index.replace(block_ids, await self._documents(block_ids))

        await self._apply("update blocks", write)

    async def blocks_removed(self, block_ids: Sequence[str]) -> None:
        await self._apply("remove blocks", lambda: self._index.replace(block_ids, []))

    async def space_removed(self, space_id: str) -> None:
        await self._apply("remove a space", lambda: self._index.delete_space(space_id))

    async def _apply(self, what: str, write: Callable[[], Awaitable[None]]) -> None:
        """Run an index write; on failure keep SQLite's write and mark the index for a rebuild."""
        async with self._lock:
            try:
                async with self._dirty_on_failure(what):
                    await self._ready_locked()
                    await write()
            except Exception as exc:  # any index failure: SQLite already holds the truth
                log.warning("search index: could not %s (%s); it will be rebuilt from SQLite", what, exc)

    async def _ensure_ready(self) -> None:
        if not self._ready:
            async with self._lock:
                await self._ready_locked()

    async def _ready_locked(self) -> None:
        if self._ready:
            return
        state = await self._db.fetch_one("SELECT dirty FROM search_index_state WHERE id = 1")
        if (state is not None and state["dirty"]) or not await self._index.is_current():
            await self._rebuild_all()
        self._ready = True

    async def _rebuild_all(self) -> int:
        self._ready = False
        # Clear the flag before reading SQLite: a write that fails after the read marks it again.
        await self._set_state(dirty=False, reason=None)
        async with self._dirty_on_failure("rebuild"):
            ids = await self._searchable_ids()
            await self._index.reset(await self._documents(ids))
        self._ready = True
        return len(ids)

    @asynccontextmanager
    async def _dirty_on_failure(self, what: str) -> AsyncIterator[None]:
        """On an index failure, record in SQLite that the index needs a rebuild, then re-raise."""
        try:
            yield
        except Exception as exc:
            self._ready = False
            await self._mark_dirty(f"{what}: {exc}")
            raise

    @contextmanager
    def _reporting(self, what: str) -> Iterator[None]:
        """Turn an index or embedder failure into `SearchUnavailable`; the next use starts from SQLite."""
        try:
            yield
        except AcontextError:
            raise
        except Exception as exc:  # LanceDB or the embedding provider
            self._ready = False
            raise SearchUnavailable(
                f"{what} failed: {exc}; check the embedding settings (ACONTEXT_EMBEDDING, the provider's "
                "API key and URL), then call rebuild_search_index"
            ) from exc

    async def _mark_dirty(self, reason: str) -> None:
        try:
            await self._set_state(dirty=True, reason=reason[:500])
        except Exception:  # noqa: BLE001 - the next open rebuilds anyway when the index looks stale
            log.exception("search index: could not record that it needs a rebuild")

    async def _set_state(self, dirty: bool, reason: str | None) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO search_index_state (id, dirty, reason, updated_at) VALUES (1, ?, ?, ?) "
                "ON CONFLICT (id) DO UPDATE SET dirty = excluded.dirty, reason = excluded.reason, "
                "updated_at = excluded.updated_at",
                (int(dirty), reason, utc_now()),
            )

    async def _searchable_ids(self, extra: str = "", params: Sequence[Any] = ()) -> list[str]:
        marks = ", ".join("?" * len(SEARCHABLE))
        rows = await self._db.fetch_all(
            f"SELECT id FROM blocks WHERE type IN ({marks}) {extra} ORDER BY rowid", (*SEARCHABLE, *params)
        )
        return [row["id"] for row in rows]

    async def _documents(self, block_ids: Sequence[str]) -> list[IndexedBlock]:
        found = await with_paths(self._db, block_ids)
        return [
            IndexedBlock(block_id=row["id"], space_id=row["space_id"], type=row["type"],
                         text=document_text(row["type"], row["title"], row["data"], path))
            for row, path in found.values()
            if row["type"] in SEARCHABLE
        ]


def document_text(type: str, title: str, data_json: str, path: str) -> str:
    """The text a block is found by: its title, its content, and the titles on its path."""
    data = json.loads(data_json)
    parts = [title]
    if type == "sop":
        parts += [data["use_when"], data["preferences"]]
        for step in data["tool_sops"]:
            parts.append(f"{step['tool_name']} {step['tool_name'].replace('_', ' ')}: {step['action']}")
    elif type == "text":
        parts.append(data["text"])
    parts.append(" ".join(path.strip("/").split("/")))
    return "\n".join(part for part in parts if part)
