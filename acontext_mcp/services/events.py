"""Session events: typed records (`{type, data}`) beside a session's messages, such as a file the agent
wrote to a disk or a note; read on their own or merged into the message timeline by time."""

from __future__ import annotations

import json
from typing import Any

from acontext_mcp.errors import InvalidArgument
from acontext_mcp.services import cursors
from acontext_mcp.services.limits import MAX_PAGE, encode_json_object
from acontext_mcp.services.models import EventPage, SessionEvent
from acontext_mcp.services.sessions import check_session
from acontext_mcp.store.database import Database, Reader, Row, Writer, new_id, utc_now

MAX_TYPE_CHARS = 64


class EventService:
    def __init__(self, db: Database, max_data_bytes: int) -> None:
        self._db = db
        self._max_data_bytes = max_data_bytes

    async def add_event(self, session_id: str, type: str, data: dict[str, Any] | None = None) -> SessionEvent:
        """Record an event at the end of a session's timeline.

        Raises `InvalidArgument` (empty or long type, data not a JSON object), `PayloadTooLarge`, `NotFound`.
        """
        if not isinstance(type, str) or not type.strip() or len(type) > MAX_TYPE_CHARS:
            raise InvalidArgument(f"type must be a non-empty string of at most {MAX_TYPE_CHARS} characters, "
                                  "e.g. 'text_event' or 'disk_event'")
        encoded = encode_json_object(data, "data", self._max_data_bytes)
        event_id, now = new_id(), utc_now()
        async with self._db.transaction() as tx:
            await tx.lock(f"session-events:{session_id}")
            await check_session(tx, session_id)
            row = await tx.fetch_one(
                "SELECT COALESCE(MAX(seq), 0) AS last FROM session_events WHERE session_id = ?", (session_id,)
            )
            seq = int(row["last"] if row else 0) + 1
            await tx.execute(
                "INSERT INTO session_events (id, session_id, seq, type, data, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (event_id, session_id, seq, type, encoded, now),
            )
        return SessionEvent(id=event_id, session_id=session_id, type=type, data=data or {}, created_at=now)

    async def list_events(
        self, session_id: str, limit: int = 50, cursor: str | None = None, time_desc: bool = False
    ) -> EventPage:
        """A session's events, oldest first (newest first with `time_desc`), a page at a time.

        Raises `NotFound` (session), `InvalidArgument` (limit, cursor).
        """
        cursors.check_limit(limit, MAX_PAGE)
        await check_session(self._db, session_id)
        after = cursors.decode("event", cursor) if cursor else None
        op, order = ("<", "DESC") if time_desc else (">", "ASC")
        where = f" AND seq {op} ?" if after is not None else ""
        params: tuple[Any, ...] = (session_id, after) if after is not None else (session_id,)
        rows = await self._db.fetch_all(
            f"SELECT * FROM session_events WHERE session_id = ?{where} ORDER BY seq {order} LIMIT ?",
            (*params, limit + 1),
        )
        has_more = len(rows) > limit
        rows = rows[:limit]
        return EventPage(
            items=[_event(row) for row in rows],
            next_cursor=cursors.encode("event", rows[-1]["seq"]) if has_more else None,
            has_more=has_more,
        )

    async def events_between(self, session_id: str, start: str | None, end: str | None) -> list[SessionEvent]:
        """Events with `start <= created_at < end` (an open bound when None), oldest first."""
        return await events_between(self._db, session_id, start, end)


async def events_between(reader: Reader, session_id: str, start: str | None, end: str | None) -> list[SessionEvent]:
    """See `EventService.events_between`."""
    sql, params = "SELECT * FROM session_events WHERE session_id = ?", [session_id]
    if start is not None:
        sql, params = f"{sql} AND created_at >= ?", [*params, start]
    if end is not None:
        sql, params = f"{sql} AND created_at < ?", [*params, end]
    return [_event(row) for row in await reader.fetch_all(f"{sql} ORDER BY seq", params)]


async def copy_events(tx: Writer, source: str, target: str) -> int:
    """Copy every event of session `source` into session `target` (new ids, same times); return how many."""
    rows = await tx.fetch_all("SELECT * FROM session_events WHERE session_id = ? ORDER BY seq", (source,))
    await tx.execute_many(
        "INSERT INTO session_events (id, session_id, seq, type, data, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        [(new_id(), target, row["seq"], row["type"], row["data"], row["created_at"]) for row in rows],
    )
    return len(rows)


def _event(row: Row) -> SessionEvent:
    return SessionEvent(id=row["id"], session_id=row["session_id"], type=row["type"],
                        data=json.loads(row["data"]), created_at=row["created_at"])
