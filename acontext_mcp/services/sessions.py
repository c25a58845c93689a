"""Sessions: create, list, read and delete conversations."""

from __future__ import annotations

import json
import logging
from typing import Any

from acontext_mcp.errors import InvalidArgument, NotFound
from acontext_mcp.projects import current_project
from acontext_mcp.services import cursors
from acontext_mcp.services.limits import MAX_PAGE, encode_json_object, freeing
from acontext_mcp.services.models import Deleted, Session, SessionPage, SweepReport
from acontext_mcp.services.spaces.tree import lock_space
from acontext_mcp.services.users import ensure_user
from acontext_mcp.store.blobs import BlobStore
from acontext_mcp.store.database import Database, Reader, Row, Writer, in_batches, new_id, utc_now

_SELECT = (
    "SELECT s.rowid, s.*, (SELECT COUNT(*) FROM messages m WHERE m.session_id = s.id) AS message_count, "
    "(SELECT COALESCE(SUM(m.token_count), 0) FROM messages m WHERE m.session_id = s.id) AS token_count, "
    "(SELECT u.identifier FROM users u WHERE u.id = s.user_id) AS user_identifier "
    "FROM sessions s"
)
log = logging.getLogger(__name__)
SESSION_HINT = "call list_sessions to see the ids that exist, or create_session for a new one"


class SessionService:
    def __init__(self, db: Database, blobs: BlobStore, max_metadata_bytes: int) -> None:
        self._db = db
        self._blobs = blobs
        self._max_metadata_bytes = max_metadata_bytes

    async def create_session(
        self, space_id: str | None = None, metadata: dict[str, Any] | None = None, user: str | None = None
    ) -> Session:
        """Create an empty session, attached to a space when `space_id` is given (its tasks are learned there),
        belonging to `user` (an identifier, created on first use) when given.

        Raises `InvalidArgument` for metadata that is not a JSON object or a bad user identifier,
        `NotFound` for an unknown space.
        """
        encoded = encode_json_object(metadata, "metadata", self._max_metadata_bytes)
        session_id, now = new_id(), utc_now()
        async with self._db.transaction() as tx:
            if space_id is not None:
                await lock_space(tx, space_id)  # of this project: sessions learn only into their own project
            user_id = await ensure_user(tx, user) if user is not None else None
            await tx.execute(
                "INSERT INTO sessions (id, space_id, metadata, created_at, updated_at, project_id, user_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (session_id, space_id, encoded, now, now, current_project(), user_id),
            )
        return Session(id=session_id, space_id=space_id, metadata=metadata or {}, created_at=now, updated_at=now,
                       user=user)

    async def get_session(self, session_id: str) -> Session:
        """Raises `NotFound` for an unknown id."""
        row = await self._db.fetch_one(f"{_SELECT} WHERE s.id = ? AND s.project_id = ?",
                                       (session_id, current_project()))
        if row is None:
            raise unknown_session(session_id)
        return _session(row)

    async def list_sessions(
        self,
        limit: int = 50,
        cursor: str | None = None,
        query: str | None = None,
        user: str | None = None,
        filter_by_configs: dict[str, Any] | None = None,
        oldest_first: bool = False,
        space_id: str | None = None,
        not_connected: bool = False,
    ) -> SessionPage:
        """Newest first (or `oldest_first`); `query` keeps sessions whose id starts with it or whose metadata
        JSON contains it (case-insensitive for ASCII); `space_id` keeps that space's sessions, `not_connected`
        those in no space; `user` keeps a user's sessions; `filter_by_configs` keeps sessions whose metadata
        contains it as JSON (every key, recursively; lists contain each listed item; case- and type-sensitive).
        Raises `InvalidArgument` for a bad limit, cursor or filter.
        """
        cursors.check_limit(limit, MAX_PAGE)
        if filter_by_configs is not None and not isinstance(filter_by_configs, dict):
            raise InvalidArgument("filter_by_configs must be a JSON object, e.g. {\"agent\": \"bot1\"}")
        conditions: list[str] = ["s.project_id = ?"]
        params: list[Any] = [current_project()]
        if space_id is not None:
            conditions.append("s.space_id = ?")
            params.append(space_id)
        if not_connected:
            conditions.append("s.space_id IS NULL")
        if query:
            pattern = _like_escape(query)
            conditions.append("(lower(s.id) LIKE lower(?) ESCAPE '\\' OR lower(s.metadata) LIKE lower(?) ESCAPE '\\')")
            params += [f"{pattern}%", f"%{pattern}%"]
        if user is not None:
            conditions.append("s.user_id IN (SELECT u.id FROM users u WHERE u.identifier = ? AND u.project_id = ?)")
            params += [user, current_project()]
        where = f"WHERE {' AND '.join(conditions)}"
        position = cursors.decode("session", cursor) if cursor else None
        rows: list[Row] = []
        while len(rows) <= limit:  # with a filter, scan batches until a page (and one more) matched
            bound = "" if position is None else (" AND s.rowid > ?" if oldest_first else " AND s.rowid < ?")
            batch = await self._db.fetch_all(
                f"{_SELECT} {where}{bound} ORDER BY s.rowid {'ASC' if oldest_first else 'DESC'} LIMIT ?",
                (*params, *(() if position is None else (position,)), limit + 1),
            )
            rows += [row for row in batch
                     if not filter_by_configs or json_contains(json.loads(row["metadata"]), filter_by_configs)]
            if len(batch) <= limit:
                break
            position = batch[-1]["rowid"]
        has_more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = cursors.encode("session", rows[-1]["rowid"]) if has_more else None
        return SessionPage(items=[_session(row) for row in rows], next_cursor=next_cursor, has_more=has_more)

    async def set_metadata(self, session_id: str, metadata: dict[str, Any]) -> Session:
        """Replace a session's metadata. Raises `InvalidArgument` (not a JSON object, too big), `NotFound`."""
        encoded = encode_json_object(metadata, "metadata", self._max_metadata_bytes)
        async with self._db.transaction() as tx:
            if await tx.execute(
                "UPDATE sessions SET metadata = ?, updated_at = ? WHERE id = ? AND project_id = ?",
                (encoded, utc_now(), session_id, current_project()),
            ) == 0:
                raise unknown_session(session_id)
        return await self.get_session(session_id)

    async def connect_to_space(self, session_id: str, space_id: str) -> Session:
        """Attach a session to a space (its tasks are then learned there). Raises `NotFound` (session, space)."""
        async with self._db.transaction() as tx:
            await lock_space(tx, space_id)
            if await tx.execute(
                "UPDATE sessions SET space_id = ?, updated_at = ? WHERE id = ? AND project_id = ?",
                (space_id, utc_now(), session_id, current_project()),
            ) == 0:
                raise unknown_session(session_id)
        return await self.get_session(session_id)

    async def delete_session(self, session_id: str) -> Deleted:
        """Delete a session with its messages and their blobs. Raises `NotFound` for an unknown id."""
        async def delete() -> None:
            async with self._db.transaction() as tx:
                if await tx.execute(
                    "DELETE FROM sessions WHERE id = ? AND project_id = ?", (session_id, current_project())
                ) == 0:
                    raise unknown_session(session_id)

        await freeing(delete)  # works on a full disk too: deleting is how space is freed
        try:
            await self._blobs.delete_tree(session_id)
        except OSError:  # the session is gone either way; `sweep_orphans` takes what is left of its bytes
            log.warning("could not remove the blobs of deleted session %s; the next sweep will", session_id,
                        exc_info=True)
        return Deleted(id=session_id)

    async def sweep_orphans(self) -> SweepReport:
        """Remove the blob folders of sessions that no longer exist (left by kills or races); report them."""
        folders = await self._blobs.children()
        removed = []
        for batch, marks in in_batches([name for name in folders if not name.startswith(".")]):
            rows = await self._db.fetch_all(f"SELECT id FROM sessions WHERE id IN ({marks})", tuple(batch))
            known = {row["id"] for row in rows}
            for name in batch:
                if name not in known:
                    await self._blobs.delete_tree(name)
                    removed.append(name)
        return SweepReport(removed_folders=removed)


def _like_escape(text: str) -> str:
    """`text` as a literal inside a LIKE pattern with `ESCAPE '\\'`."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _session(row: Row) -> Session:
    return Session(
        id=row["id"],
        space_id=row["space_id"],
        metadata=json.loads(row["metadata"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        message_count=row["message_count"],
        token_count=row["token_count"],
        user=row["user_identifier"],
    )


def json_contains(value: Any, pattern: Any) -> bool:
    """JSON containment as PostgreSQL's `jsonb @>`: objects hold each key with a contained value, arrays
    hold a contained element for each pattern element, scalars are equal with the same JSON type."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(k in value and json_contains(value[k], v) for k, v in pattern.items())
    if isinstance(pattern, list):
        return isinstance(value, list) and all(any(json_contains(v, p) for v in value) for p in pattern)
    if isinstance(pattern, bool) or isinstance(value, bool):
        return type(pattern) is type(value) and pattern == value
    if isinstance(pattern, int | float) and isinstance(value, int | float):
        return pattern == value
    return type(pattern) is type(value) and pattern == value


def unknown_session(session_id: str) -> NotFound:
    """The error for a session that does not exist in the current project (another project's included)."""
    return NotFound("session", session_id, SESSION_HINT)


async def check_session(reader: Reader, session_id: str) -> None:
    """Raise `NotFound` unless the session exists in the current project."""
    if await reader.fetch_one(
        "SELECT 1 FROM sessions WHERE id = ? AND project_id = ?", (session_id, current_project())
    ) is None:
        raise unknown_session(session_id)


async def touch_session(tx: Writer, session_id: str, now: str) -> None:
    """Mark the session updated at `now` (a message was stored in it)."""
    await tx.defer("UPDATE sessions SET updated_at = ? WHERE id = ?", (now, session_id))


async def copy_session_row(tx: Writer, source: str, target: str, now: str) -> None:
    """Insert session `target` as a copy of session `source` (space, metadata, user), created at `now`."""
    await tx.execute(
        "INSERT INTO sessions (id, space_id, metadata, created_at, updated_at, project_id, user_id) "
        "SELECT ?, space_id, metadata, ?, ?, project_id, user_id FROM sessions WHERE id = ?",
        (target, now, now, source),
    )


async def user_session_ids(reader: Reader, user_id: str) -> list[str]:
    return [row["id"] for row in await reader.fetch_all("SELECT id FROM sessions WHERE user_id = ?", (user_id,))]


async def detach_space(tx: Writer, space_id: str) -> None:
    """Detach every session from a space being deleted; the sessions stay."""
    await tx.execute("UPDATE sessions SET space_id = NULL WHERE space_id = ?", (space_id,))
