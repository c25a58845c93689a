"""The search index of the spaces' blocks (LanceDB), kept in step with the database.

The database is the source of truth. Every block write queues the changed blocks in its
`search_outbox`, in the same transaction, and the index then catches up. If that fails (or the
process dies first) the write still stands and stays queued until a later sync or search
applies it; an index that is missing, or built for another embedder, is rebuilt from the database.

Replicas sharing the database take turns writing the index: draining the outbox (or rebuilding)
holds a lease (queue/leases.py). Left to race, two drains of the same rows could interleave
their deletes and inserts in LanceDB and index a block twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import anyio
from anyio.abc import TaskStatus

from acontext_mcp.errors import (
    AcontextError,
    InvalidArgument,
    SearchUnavailable,
    Unavailable,
)
from acontext_mcp.projects import PROJECT_SPACES, current_project
from acontext_mcp.queue.leases import Leases
from acontext_mcp.queue.work import Signal
from acontext_mcp.services.spaces.models import MAX_QUERY_CHARS, MAX_RESULTS, CitedBlock, IndexRebuilt
from acontext_mcp.services.spaces.tree import (
    SEARCHABLE,
    fetch_space,
    load_blocks,
    space_key,
    with_paths,
)
from acontext_mcp.store.database import Database, Writer
from acontext_mcp.store.vectors import BlockIndex, IndexedBlock

log = logging.getLogger(__name__)

_WHOLE_SPACE = ""  # the outbox's block_id for "every block of the space"
_DRAIN_BATCH = 500
_RETRY_S = 5.0  # the worker's pause after a failed drain
# How long the worker gathers writes before it indexes them: a burst (a learner placing a skill, a client
# building a tree) becomes one index write, and the call that woke it is answered before the index work
# (the first one imports LanceDB, a second or two holding the GIL) competes with it.
_GATHER_S = 0.15
INDEX_LEASE = ("search", "index")  # the lease a process holds while it writes the index


class SearchIndex:
    """The block index with its outbox: what `SpaceService` queues, what `SearchService` queries."""

    def __init__(self, db: Database, index: BlockIndex, leases: Leases) -> None:
        self._db = db
        self._index = index
        self._leases = leases
        self._ready = False
        self._lock = anyio.Lock()
        self._worker: Signal | None = None  # set while `run` drains in the background
        self._queued = 0  # syncs asked for by this process's writes
        self._applied = 0  # of those, how many a finished drain covers

    @property
    def embeds(self) -> bool:
        """Whether indexing a block runs an embedding model."""
        return self._index.hybrid

    async def run(self, *, task_status: TaskStatus[None] = anyio.TASK_STATUS_IGNORED) -> None:
        """The search outbox worker: drain what writes queue, so they do not wait on LanceDB or the embedding model.

        A search waits for the writes this process made before it (it drains them itself if need be).
        """
        # It starts idle (opening LanceDB and the model at start would cost every cold start about 100 MB); the
        # first write wakes it, and it rebuilds an index made for another model then, off the request path.
        self._worker = wake = Signal()
        task_status.started()
        try:
            while True:
                changed = wake.changes()
                if self._applied < self._queued:
                    await anyio.sleep(_GATHER_S)  # not a wait for anything: a search drains what it needs itself
                    if self._applied < self._queued:  # unless a search or rebuild drained it meanwhile
                        await self._catch_up()
                    if self._applied < self._queued:  # it failed and is logged: retry after a pause
                        with anyio.move_on_after(_RETRY_S):
                            await changed.wait()
                    continue
                await changed.wait()
        finally:
            self._worker = None

    async def search(
        self, space_id: str, query: str, limit: int, types: Sequence[str] | None = None
    ) -> list[CitedBlock]:
        """The blocks of a space that best match `query`, best first (only `types` if given); the caller
        checked the space and the query. Raises `SearchUnavailable` (the index or embedder failed)."""
        with self._reporting("search"):
            await self._ensure_ready()
            hits = await self._index.search(space_id, query, limit, types)
        blocks = await load_blocks(self._db, [hit.block_id for hit in hits])
        return [
            CitedBlock(block_id=b.id, type=b.type, path=b.path, title=b.title, data=b.data, score=hit.score)
            for hit in hits
            if (b := blocks.get(hit.block_id)) is not None and b.space_id == space_id
        ]

    async def settle(self) -> None:
        """Apply every write this process queued so far, as a search does first; the background worker
        otherwise does it a moment later. Raises `SearchUnavailable` (the index or embedder failed)."""
        with self._reporting("indexing"):
            await self._ensure_ready()

    async def rebuild(self, space_id: str | None = None, all_projects: bool = False) -> IndexRebuilt:
        """Rebuild the index from the database: one space's rows, or (None) the rows of the current project's
        spaces; with `all_projects` (an operator's command, not a tool) the whole index, which every project
        shares, built aside and then switched to. Other projects' searches go on meanwhile. Blocks are counted
        in that space, or in the current project's spaces (every project's with `all_projects`).

        Raises `NotFound` for an unknown space, `SearchUnavailable` if the index cannot be written.
        """
        if space_id is not None:
            await fetch_space(self._db, space_id)
        if not all_projects:
            one, params = ("AND id = ?", (space_id,)) if space_id is not None else ("", ())
            rows = await self._db.fetch_all(
                f"SELECT id FROM spaces WHERE id IN {PROJECT_SPACES} {one} ORDER BY id", (current_project(), *params))
            async with self._db.transaction() as tx:
                for row in rows:
                    await self.enqueue(tx, row["id"])
        with self._reporting("rebuilding the index"):
            async with self._writing():
                if all_projects and space_id is None:
                    await self._rebuild_all()
                else:
                    await self._ready_locked()  # drains the queue, these spaces included
                await self._index.compact()
        if space_id is not None:
            ids = await self._searchable_ids("AND space_id = ?", (space_id,))
        elif all_projects:
            ids = await self._searchable_ids()
        else:  # what other projects store is not the caller's to count
            ids = await self._searchable_ids(f"AND space_id IN {PROJECT_SPACES}", (current_project(),))
        return IndexRebuilt(space_id=space_id, indexed_blocks=len(ids))

    # Keeping the index in step with the database: SpaceService queues each change in its transaction
    # (`enqueue`), then calls `sync`. What a failed or interrupted sync leaves queued is retried by
    # the next sync or search, in this process or any other sharing the database.

    async def enqueue(self, tx: Writer, space_id: str, block_ids: Sequence[str] | None = None) -> None:
        """Queue blocks (None: every block of the space) for re-indexing, inside the caller's transaction."""
        await tx.lock(space_key(space_id))  # two replicas re-queueing one key would both insert it
        keys = [_WHOLE_SPACE] if block_ids is None else block_ids
        # A re-queued key gets a new seq, so a sync already reading the old one keeps it queued.
        rows = [(space_id, k) for k in keys]
        await tx.execute_many("DELETE FROM search_outbox WHERE space_id = ? AND block_id = ?", rows)
        await tx.execute_many("INSERT INTO search_outbox (space_id, block_id) VALUES (?, ?)", rows)

    async def sync(self) -> None:
        """Bring the index in step with everything queued. A failure is logged and left queued for a retry.

        With the worker running (`run`), wake it instead and return at once.
        """
        self._queued += 1
        if self._worker is not None:
            self._worker.notify()
            return
        await self._catch_up()

    async def _catch_up(self) -> None:
        try:
            async with self._writing():
                await self._ready_locked()
        except Exception as exc:  # the database already holds the truth; the queue holds what is missing
            self._ready = False
            log.warning("search index: could not catch up (%s); will retry on the next write or search", exc)

    async def _ensure_ready(self) -> None:
        if not self._ready or self._applied < self._queued:  # this process's writes are searchable at once
            async with self._writing():
                await self._ready_locked()

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[None]:
        """Write the index alone: the lock among this process's tasks, then the lease among replicas.

        Raises `Unavailable` when another replica keeps the index past the lease's length.
        """
        async with self._lock, self._leases.hold(*INDEX_LEASE, timeout_s=self._leases.lease_s) as got:
            if not got:
                raise Unavailable("the search index stayed busy with another replica's update; try again")
            yield

    async def _ready_locked(self) -> None:
        """Open (or rebuild) the index if needed, then apply everything queued."""
        target = self._queued  # this process's writes so far, all in the outbox by now
        if not self._ready and not await self._index.is_current():
            await self._rebuild_all()
        self._ready = True
        try:
            await self._drain()
        except BaseException:
            self._ready = False
            raise
        self._applied = max(self._applied, target)

    async def _drain(self) -> None:
        while rows := await self._db.fetch_all(
            f"SELECT seq, space_id, block_id FROM search_outbox ORDER BY seq LIMIT {_DRAIN_BATCH}"
        ):
            spaces = {row["space_id"] for row in rows if row["block_id"] == _WHOLE_SPACE}
            for space_id in spaces:
                await self._index.delete_space(space_id)
                ids = await self._searchable_ids("AND space_id = ?", (space_id,))  # none if it was deleted
                await self._index.replace([], await self._documents(ids))
            ids = [row["block_id"] for row in rows if row["space_id"] not in spaces]
            await self._index.replace(ids, await self._documents(ids))
            async with self._db.transaction() as tx:
                await tx.execute_many("DELETE FROM search_outbox WHERE seq = ?", [(row["seq"],) for row in rows])

    async def _rebuild_all(self) -> None:
        target = self._queued  # the old table serves searches until the new one replaces it
        # Every change queued now is in what the database holds now, so the rebuild covers exactly
        # these rows. (Not `seq <= MAX(seq)`: on PostgreSQL a lower seq may still commit later.)
        queued = await self._db.fetch_all("SELECT seq FROM search_outbox")
        ids = await self._searchable_ids()
        await self._index.reset(await self._documents(ids))
        async with self._db.transaction() as tx:
            await tx.execute_many("DELETE FROM search_outbox WHERE seq = ?", [(row["seq"],) for row in queued])
        self._ready = True
        self._applied = max(self._applied, target)

    @contextmanager
    def _reporting(self, what: str) -> Iterator[None]:
        """Turn an index or embedder failure into `SearchUnavailable`; the next use starts from the database."""
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
                         text=document_text(row["type"], row["title"], row["data"], path),
                         head=document_head(row["type"], row["title"], row["data"]))
            for row, path in found.values()
            if row["type"] in SEARCHABLE
        ]


def document_text(type: str, title: str, data_json: str, path: str) -> str:
    """The text a block is found by: its title, its content, and the titles on its path.

    Changing it changes every row: bump `store.vectors.SCHEMA_VERSION` so indexes are rebuilt.
    """
    data = json.loads(data_json)
    parts = [title]
    if type == "sop":
        parts += [data["use_when"], data["preferences"]]
        for step in data["tool_sops"]:
            parts.append(f"{step['tool_name']} {step['tool_name'].replace('_', ' ')}: {step['action']}")
    elif type in ("text", "fact"):
        parts.append(data["text"])
    elif type == "warning":
        parts += [data["text"], data["instead"]]
    parts.append(" ".join(path.strip("/").split("/")))
    return "\n".join(part for part in parts if part)


def document_head(type: str, title: str, data_json: str) -> str:
    """The part of a block that weighs more in full-text search: its title and, for a SOP, when to use it."""
    return "\n".join([title, json.loads(data_json)["use_when"]] if type == "sop" else [title])


def check_query(query: str, limit: int) -> str:
    """The query, stripped. Raises `InvalidArgument` for an empty or over-long query, or a limit out of range."""
    if not 1 <= limit <= MAX_RESULTS:
        raise InvalidArgument(f"limit must be between 1 and {MAX_RESULTS}, got {limit}")
    query = query.strip()
    if not query:
        raise InvalidArgument("query is empty; describe the task you want experience for")
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidArgument(
            f"query is {len(query)} characters, over the limit of {MAX_QUERY_CHARS}; describe the task briefly"
        )
    return query
