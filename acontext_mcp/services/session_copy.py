"""Copy a session: its messages (with their blobs and meta), tasks, configs and events, as a new session
that changes independently of the original."""

from __future__ import annotations

import anyio

from acontext_mcp.errors import InvalidArgument
from acontext_mcp.services.events import copy_events
from acontext_mcp.services.messages import copy_messages, count_messages
from acontext_mcp.services.models import CopiedSession
from acontext_mcp.services.observer.tasks import copy_tasks
from acontext_mcp.services.sessions import check_session, copy_session_row
from acontext_mcp.store.blobs import BlobStore
from acontext_mcp.store.database import Database, new_id, utc_now

MAX_COPY_MESSAGES = 5000


class SessionCopier:
    def __init__(self, db: Database, blobs: BlobStore, max_messages: int = MAX_COPY_MESSAGES) -> None:
        self._db = db
        self._blobs = blobs
        self._max_messages = max_messages

    async def copy_session(self, session_id: str) -> CopiedSession:
        """Copy a session in one transaction. The copy is not observed again: its tasks are copied as they are.

        Raises `NotFound` (session), `InvalidArgument` (more than the copyable number of messages).
        """
        target = new_id()
        try:
            async with self._db.transaction() as tx:
                await tx.lock(f"session:{session_id}")
                await check_session(tx, session_id)
                count = await count_messages(tx, session_id)
                if count > self._max_messages:
                    raise InvalidArgument(
                        f"session {session_id!r} has {count} messages, over the {self._max_messages} a copy can hold; "
                        "start a new session from get_session_summary instead"
                    )
                await copy_session_row(tx, session_id, target, utc_now())
                ids = await copy_messages(tx, self._blobs, session_id, target)
                tasks = await copy_tasks(tx, session_id, target, ids)
                events = await copy_events(tx, session_id, target)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._blobs.delete_tree(target)
            raise
        return CopiedSession(old_session_id=session_id, new_session_id=target, messages=len(ids), tasks=tasks,
                             events=events)
