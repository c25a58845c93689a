"""The observer's work queue: which sessions are due, one batch at a time, and what users see of it.

`send_message` queues each message in `observer_queue` in the transaction that stores it. A
session is due when `batch` messages wait, when its newest has waited `idle_s` seconds, or when
someone flushes it. A batch runs the task agent and is acknowledged in the transaction that saves
its tasks; a failure is recorded in `observer_sessions` and retried after `retry_base_s * 2**n`
seconds, until `max_attempts` marks the session failed. A session is leased while its batch runs
(queue/leases.py), so with several replicas on one database each batch is sent to the LLM once
and a session's batches run one after another. The loop that calls `process` is a
`queue.loop.QueueLoop`.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from acontext_mcp.errors import TimedOut, Unavailable
from acontext_mcp.projects import PROJECT_SESSIONS, current_project
from acontext_mcp.queue.leases import Leases
from acontext_mcp.queue.work import (
    RetryPolicy,
    WorkQueue,
    describe,
    split_due,
    timestamp,
)
from acontext_mcp.redact import redact
from acontext_mcp.services.llm_usage import LlmUsage
from acontext_mcp.services.observer.models import (
    ObserverState,
    ObserverStatus,
    ObserverStatusName,
    SessionProblem,
    TaskList,
)
from acontext_mcp.services.observer.task_agent import TaskAgent
from acontext_mcp.services.observer.tasks import TaskService
from acontext_mcp.services.project_configs import ProjectConfigService
from acontext_mcp.store.database import Database, Writer, utc_now

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ObserverConfig:
    batch: int = 8
    idle_s: float = 10.0
    max_attempts: int = 5
    retry_base_s: float = 2.0


class ObserverService(WorkQueue):
    """The observer's queue (keyed by session) and state; `agent` is None when no LLM is configured."""

    log_label = "observer batch for session"
    lease_queue = "observer"
    disabled_note = "observer disabled: set OPENAI_API_KEY or OPENAI_BASE_URL"

    def __init__(
        self,
        db: Database,
        tasks: TaskService,
        usage: LlmUsage,
        agent: TaskAgent | None,
        config: ObserverConfig,
        leases: Leases,
        poll_s: float,
        configs: ProjectConfigService | None = None,
    ) -> None:
        """`configs` gives the task agent each project's success and failure criteria."""
        super().__init__(RetryPolicy(config.max_attempts, config.retry_base_s), leases, poll_s, agent)
        self._db = db
        self._tasks = tasks
        self._usage = usage
        self._agent = agent
        self._config = config
        self._flushing: Counter[str] = Counter()
        self._configs = configs

    # -- the loop's side -------------------------------------------------------------------

    async def schedule(self) -> tuple[list[str], float | None]:
        """Sessions due now (none `busy`), and seconds until the next one is due (None: no timer)."""
        busy = await self.busy()
        rows = await self._db.fetch_all(
            "SELECT q.session_id, COUNT(*) AS waiting, MAX(q.enqueued_at) AS newest, "
            "COALESCE(s.failed, 0) AS failed, s.next_attempt_at FROM observer_queue q "
            "LEFT JOIN observer_sessions s ON s.session_id = q.session_id "
            "GROUP BY q.session_id, s.failed, s.next_attempt_at"
        )
        now = datetime.now(UTC).timestamp()
        ready: list[tuple[str, float]] = []
        for row in rows:
            if row["failed"] or row["session_id"] in busy:
                continue
            at = now if row["waiting"] >= self._config.batch or self._flushing[row["session_id"]] else (
                timestamp(row["newest"]) + self._config.idle_s
            )
            if row["next_attempt_at"]:
                at = max(at, timestamp(row["next_attempt_at"]))
            ready.append((row["session_id"], at))
        return split_due(ready, now)

    async def _process(self, session_id: str) -> None:
        assert self._agent is not None, "process() needs an LLM"
        rows = await self._db.fetch_all(
            "SELECT m.id, m.body FROM observer_queue q JOIN messages m ON m.id = q.message_id "
            "WHERE q.session_id = ? ORDER BY m.seq LIMIT ?",
            (session_id, self._config.batch),
        )
        if not rows:
            return
        messages = [{"id": row["id"], **json.loads(row["body"])} for row in rows]
        board = await self._tasks.load_board(session_id)
        run = await self._agent.run(board, messages, await self._configs.get_configs() if self._configs else None)
        note = None if run.finished else (
            f"the model did not call finish within {run.steps} steps; the batch's edits were kept, and the "
            f"task list may be incomplete ({run.tool_errors} tool errors)")
        if note:
            log.warning("observer: session %s: %s", session_id, note)
        async with self._db.transaction() as tx:
            await self.confirm_lease(tx, session_id)
            marks = ",".join("?" * len(rows))
            acked = await tx.execute(
                f"DELETE FROM observer_queue WHERE message_id IN ({marks})", [row["id"] for row in rows]
            )
            if acked != len(rows):
                raise _AlreadyDone  # another observer on this file got there first; roll back
            await board.save(tx)
            await tx.execute(
                "INSERT INTO observer_sessions (session_id, attempts, next_attempt_at, last_error, failed, updated_at, "
                "last_note) SELECT ?, 0, NULL, NULL, 0, ?, ? WHERE EXISTS (SELECT 1 FROM sessions WHERE id = ?) "
                "ON CONFLICT (session_id) DO UPDATE SET attempts = 0, next_attempt_at = NULL, failed = 0, "
                "updated_at = excluded.updated_at, last_note = excluded.last_note",
                (session_id, utc_now(), note, session_id),
            )
        if board.learning_queued:
            self._tasks.learnable()

    async def project_of(self, session_id: str) -> str | None:
        row = await self._db.fetch_one("SELECT project_id FROM sessions WHERE id = ?", (session_id,))
        return row["project_id"] if row else None

    async def _record_failure(self, session_id: str, exc: Exception) -> None:
        if isinstance(exc, _AlreadyDone):
            return
        row = await self._db.fetch_one("SELECT attempts FROM observer_sessions WHERE session_id = ?", (session_id,))
        attempts = (row["attempts"] if row else 0) + 1
        next_at, failed = self.retry.next_attempt(attempts)
        async with self._db.transaction() as tx:
            # A session deleted meanwhile has nothing left to retry: the WHERE EXISTS writes nothing.
            await tx.execute(
                "INSERT INTO observer_sessions (session_id, attempts, next_attempt_at, last_error, failed, updated_at) "
                "SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM sessions WHERE id = ?) "
                "ON CONFLICT (session_id) DO UPDATE SET attempts = excluded.attempts, "
                "next_attempt_at = excluded.next_attempt_at, last_error = excluded.last_error, "
                "failed = excluded.failed, updated_at = excluded.updated_at",
                (session_id, attempts, next_at, describe(exc), failed, utc_now(), session_id),
            )

    # -- what users see ----------------------------------------------------------------------

    async def get_tasks(self, session_id: str) -> TaskList:
        """A session's tasks with the observer's progress on it. Raises `NotFound` for an unknown session."""
        items = await self._tasks.list_tasks(session_id)
        return TaskList(session_id=session_id, items=items, observer=await self.session_state(session_id))

    async def session_state(self, session_id: str) -> ObserverState:
        row = await self._db.fetch_one(
            "SELECT (SELECT COUNT(*) FROM observer_queue WHERE session_id = ?) AS waiting, "
            "s.attempts, s.failed, s.last_error, s.last_note "
            "FROM (SELECT 1) AS one LEFT JOIN observer_sessions s ON s.session_id = ?",
            (session_id, session_id),
        )
        assert row is not None
        waiting, attempts, failed = row["waiting"], row["attempts"] or 0, bool(row["failed"])
        error = redact(row["last_error"]) if (attempts or failed) and row["last_error"] else None
        status: ObserverStatusName
        note: str | None
        if not self.enabled:
            return ObserverState(enabled=False, status="disabled", pending_messages=waiting, note=self.note)
        if failed:
            status = "failed"
            note = f"gave up after {attempts} attempts; fix the cause, then call flush to retry"
        elif session_id in await self.held():
            status, note = "running", None
        elif attempts:
            status = "retrying"
            note = f"attempt {attempts} of {self._config.max_attempts} failed; retrying with backoff"
        else:
            status = "queued" if waiting else "idle"
            note = f"last batch: {row['last_note']}" if row["last_note"] else None
        return ObserverState(
            enabled=True, status=status, pending_messages=waiting, attempts=attempts, last_error=error, note=note
        )

    async def status(self) -> ObserverStatus:
        """The observer's state for the current project's sessions."""
        project = (current_project(),)
        counts = await self._db.fetch_one(
            "SELECT COUNT(*) AS depth, COUNT(DISTINCT q.session_id) AS sessions FROM observer_queue q "
            f"WHERE q.session_id IN {PROJECT_SESSIONS}", project
        )
        assert counts is not None
        problems = await self._db.fetch_all(
            "SELECT session_id, attempts, failed, last_error, updated_at, next_attempt_at FROM observer_sessions "
            f"WHERE (attempts > 0 OR failed = 1) AND session_id IN {PROJECT_SESSIONS} ORDER BY updated_at DESC",
            project,
        )
        held = await self.held_in_project()
        latest = await self._db.fetch_one(
            "SELECT session_id, last_error FROM observer_sessions WHERE last_error IS NOT NULL "
            f"AND session_id IN {PROJECT_SESSIONS} ORDER BY updated_at DESC LIMIT 1", project
        )
        listed = [
            SessionProblem(session_id=r["session_id"], attempts=r["attempts"], failed=bool(r["failed"]),
                           last_error=redact(r["last_error"] or "") or None, updated_at=r["updated_at"],
                           next_attempt_at=None if r["failed"] else r["next_attempt_at"])
            for r in problems
        ]
        return ObserverStatus(
            enabled=self.enabled,
            model=self.model,
            note=self.note,
            queue_depth=counts["depth"],
            sessions_pending=counts["sessions"],
            sessions_running=len(held),
            leases=held,
            replica=self.replica,
            sessions_retrying=[p for p in listed if not p.failed],
            sessions_failed=[p for p in listed if p.failed],
            last_error=f"session {latest['session_id']}: {redact(latest['last_error'])}" if latest else None,
            tokens=await self._usage.totals(),
        )

    async def flush(self, session_id: str, timeout_s: float = 60.0) -> TaskList:
        """Process a session's queued messages now and return its tasks.

        A failed session is retried from its first attempt. Raises `NotFound` (session),
        `Unavailable` (observer off, or the session failed again), `TimedOut`.
        """
        await self._tasks.list_tasks(session_id)  # NotFound for an unknown session
        self.require_enabled(then=", then restart the server")
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE observer_sessions SET next_attempt_at = NULL, attempts = CASE WHEN failed != 0 THEN 0 "
                "ELSE attempts END, failed = 0 WHERE session_id = ?",
                (session_id,),
            )
        self._flushing[session_id] += 1
        self.notify()

        async def settled() -> TaskList | None:
            state = await self.session_state(session_id)
            if state.status == "failed":
                raise Unavailable(
                    f"the observer gave up on session {session_id!r} after {state.attempts} attempts: "
                    f"{state.last_error}; fix the cause (see get_observer_status), then flush again"
                )
            if state.pending_messages == 0 and state.status != "running":
                return await self.get_tasks(session_id)
            return None

        try:
            if (tasks := await self.wait_until(settled, timeout_s)) is not None:
                return tasks
        finally:
            self._flushing[session_id] -= 1
            if not self._flushing[session_id]:
                del self._flushing[session_id]
        state = await self.session_state(session_id)
        raise TimedOut(
            f"flush timed out after {timeout_s:g}s with {state.pending_messages} messages of session {session_id!r} "
            f"still queued (observer {state.status}{': ' + state.last_error if state.last_error else ''}); "
            "call flush again with a longer timeout_s, or check get_observer_status"
        )


async def queue_for_observer(tx: Writer, session_id: str, message_id: str, now: str) -> None:
    """Queue a stored message for the observer, in the transaction that stores it: an acknowledged
    message is never missed."""
    await tx.defer(
        "INSERT INTO observer_queue (message_id, session_id, enqueued_at) VALUES (?, ?, ?)",
        (message_id, session_id, now),
    )


async def acknowledge_all(tx: Writer, session_id: str) -> None:
    """Drop a session's queued messages, as a batch that covered them all does (the demo writes its
    tasks directly, as the observer would have)."""
    await tx.execute("DELETE FROM observer_queue WHERE session_id = ?", (session_id,))


class _AlreadyDone(Exception):
    """The batch's queue rows were gone when it came to acknowledge them."""
