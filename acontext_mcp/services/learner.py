"""The learner's queue: tasks that succeeded in sessions attached to a space become SOPs in that space, tasks
that failed become warnings, and the user's preferences of either become facts, on one page (a skill), each
entry dated and linked to its session and task; the change is a version of the skill (services/skills).

A task's status turning `success` (by the observer or `update_task_status`) queues it in
`learning_queue`, in the same transaction (services/observer/tasks.py `queue_learning`). Each item runs the
skill agent (extract, then place) and is acknowledged in the transaction that writes its SOP; a
failure is retried after `retry_base_s * 2**n` seconds until `max_attempts` marks it failed. With
`confirm_before_learning` on, the SOP and its planned place wait in `pending_experiences` for
`confirm_experience`. An item is leased while it runs, and a space while an SOP is placed in it
(queue/leases.py), so replicas on one database learn each task once and never place two SOPs in
one space at the same time. The loop that calls `process` is a `queue.loop.QueueLoop`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import anyio

from acontext_mcp.errors import (
    Conflict,
    InvalidArgument,
    NotFound,
    TimedOut,
    Unavailable,
)
from acontext_mcp.projects import PROJECT_SPACES, current_project
from acontext_mcp.queue.leases import Leases
from acontext_mcp.queue.work import (
    RetryPolicy,
    Signal,
    WorkQueue,
    describe,
    split_due,
    timestamp,
)
from acontext_mcp.redact import redact
from acontext_mcp.services.llm_usage import LlmUsage
from acontext_mcp.services.models import (
    LearnerStatus,
    LearningItem,
    LearningItems,
    PendingExperience,
    PendingExperienceList,
)
from acontext_mcp.services.observer.models import TaskData
from acontext_mcp.services.sessions import check_session
from acontext_mcp.services.skill_agent import EXTRACT_PURPOSE, PLACE_PURPOSE, SkillAgent, tools_used
from acontext_mcp.services.skills.history import Change
from acontext_mcp.services.spaces.models import EntrySource
from acontext_mcp.services.spaces.service import SpaceService
from acontext_mcp.services.spaces.tree import fetch_space
from acontext_mcp.store.database import Database, Row, Writer, new_id, utc_now

LLM_PURPOSES = (EXTRACT_PURPOSE, PLACE_PURPOSE, "agentic_search")
SPACE_LEASES = "learner-space"  # the leases that keep placements in one space apart
_EXPERIENCE_HINT = "call list_pending_experiences to see the ids that wait for confirmation"
FALLBACK_MESSAGES = 40  # a task with no linked messages is learned from the session's last messages


async def queue_learning(tx: Writer, task_ids: Sequence[str]) -> int:
    """Queue tasks that just succeeded or failed for the learner, with their data and linked messages as they are now.

    Only tasks of sessions attached to an existing space are queued, and a task at most once while
    it waits. Returns how many were queued; call `TaskService.learnable` after the commit.
    """
    queued = 0
    for task_id in task_ids:
        linked = await tx.fetch_all(
            "SELECT tm.message_id FROM task_messages tm JOIN messages m ON m.id = tm.message_id "
            "WHERE tm.task_id = ? ORDER BY m.seq",
            (task_id,),
        )
        now = utc_now()
        queued += await tx.execute(
            "INSERT INTO learning_queue (id, task_id, session_id, space_id, task, message_ids, status, "
            "enqueued_at, updated_at, task_status) SELECT ?, t.id, t.session_id, s.space_id, t.data, ?, 'queued', ?, "
            "?, t.status FROM tasks t JOIN sessions s ON s.id = t.session_id JOIN spaces sp ON sp.id = s.space_id "
            "WHERE t.id = ? AND t.status IN ('success', 'failed') AND sp.project_id = s.project_id "
            "ON CONFLICT DO NOTHING",
            (new_id(), json.dumps([row["message_id"] for row in linked]), now, now, task_id),
        )
    return queued


async def record_learned(tx: Writer, session_id: str, block_id: str | None, at: str) -> None:
    """Mark a session's queued tasks learned into `block_id`, as the learner does (the demo, which has no LLM)."""
    await tx.execute(
        "UPDATE learning_queue SET status = 'learned', outcome = ?, updated_at = ? "
        "WHERE session_id = ? AND status = 'queued'",
        (block_id, at, session_id),
    )


class LearnerService(WorkQueue):
    """The learner's queue and its pending experiences; `agent` is None when no LLM is configured."""

    log_label = "learning item"
    lease_queue = "learner"
    disabled_note = "learner waiting: no LLM is configured; set OPENAI_API_KEY or OPENAI_BASE_URL and restart"

    def __init__(
        self,
        db: Database,
        spaces: SpaceService,
        usage: LlmUsage,
        agent: SkillAgent | None,
        retry: RetryPolicy,
        leases: Leases,
        poll_s: float,
        signal: Signal | None = None,
    ) -> None:
        super().__init__(retry, leases, poll_s, agent, signal)
        self._db = db
        self._spaces = spaces
        self._usage = usage
        self._agent = agent
        self._space_locks: dict[str, anyio.Lock] = {}

    # -- the loop's side -------------------------------------------------------------------

    async def schedule(self) -> tuple[list[str], float | None]:
        busy = await self.busy()
        rows = await self._db.fetch_all(
            "SELECT id, next_attempt_at FROM learning_queue WHERE status = 'queued' ORDER BY enqueued_at"
        )
        now = datetime.now(UTC).timestamp()
        return split_due([(row["id"], timestamp(row["next_attempt_at"]) if row["next_attempt_at"] else now)
                          for row in rows if row["id"] not in busy], now)

    async def _process(self, item_id: str) -> None:
        assert self._agent is not None, "process() needs an LLM"
        item = await self._db.fetch_one("SELECT * FROM learning_queue WHERE id = ? AND status = 'queued'", (item_id,))
        if item is None:
            return  # done meanwhile, or its session or space was deleted
        task = TaskData.model_validate_json(item["task"])
        failed = item["task_status"] == "failed"
        if item["extracted"] is not None:  # an earlier attempt extracted it and failed later: place only
            learned = json.loads(item["extracted"])
        else:
            messages = await self._messages(item["session_id"], json.loads(item["message_ids"]))
            learned = await self._agent.extract(task, messages, failed=failed)
            async with self._db.transaction() as tx:
                await tx.execute("UPDATE learning_queue SET extracted = ? WHERE id = ?", (json.dumps(learned), item_id))
        if isinstance(learned, str):
            async with self._db.transaction() as tx:
                await self._ack(tx, item_id, "skipped", learned)
            return
        # One placement per space at a time, so two similar tasks learned together merge instead of twinning:
        # a lock among this process's tasks, then a lease among the replicas.
        space_id = item["space_id"]
        async with (self._space_locks.setdefault(space_id, anyio.Lock()),
                    self._leases.hold(SPACE_LEASES, space_id, timeout_s=self._leases.lease_s) as got):
            if not got:
                raise Unavailable(f"space {space_id!r} stayed busy with another replica's placement; will retry")
            space = await fetch_space(self._db, space_id)
            placement = await self._agent.place(space.id, learned, warning=failed)
            sop = None if failed else learned
            others = ([{"type": "warning", "data": learned}] if failed else []) + facts(task)
            if space.settings.confirm_before_learning:
                async with self._db.transaction() as tx:
                    experience_id = new_id()
                    await tx.execute(
                        "INSERT INTO pending_experiences (id, space_id, task_id, session_id, sop, page_path, "
                        "merge_into, status, created_at, entries, page_data) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
                        (experience_id, space.id, item["task_id"], item["session_id"], json.dumps(sop),
                         placement.page_path, placement.merge_into, utc_now(), json.dumps(others),
                         json.dumps(placement.page_data) if placement.page_data else None),
                    )
                    await self._ack(tx, item_id, "pending", experience_id)
                return

            async def ack(tx: Writer, block_id: str) -> None:
                await self._ack(tx, item_id, "learned", block_id)

            await self._spaces.place_entries(
                space.id, placement.page_path, sop, others, merge_into=placement.merge_into,
                page_data=placement.page_data, source=_source(item["session_id"], item["task_id"]),
                change=_change(task, failed, item["session_id"], item["task_id"]), then=ack,
            )

    async def _messages(self, session_id: str, ids: list[str]) -> list[dict[str, Any]]:
        """The task's linked messages; when none is linked, or none of them calls a tool (so no step could be
        checked against them), the session's last `FALLBACK_MESSAGES`."""
        rows = []
        if ids:
            marks = ",".join("?" * len(ids))
            rows = await self._db.fetch_all(f"SELECT id, body FROM messages WHERE id IN ({marks}) ORDER BY seq", ids)
        messages = [{"id": row["id"], **json.loads(row["body"])} for row in rows]
        if tools_used(messages):
            return messages
        rows = await self._db.fetch_all(
            "SELECT id, body FROM messages WHERE session_id = ? ORDER BY seq DESC LIMIT ?",
            (session_id, FALLBACK_MESSAGES))
        return [{"id": row["id"], **json.loads(row["body"])} for row in rows[::-1]]

    async def project_of(self, item_id: str) -> str | None:
        row = await self._db.fetch_one(
            "SELECT s.project_id FROM learning_queue q JOIN spaces s ON s.id = q.space_id WHERE q.id = ?", (item_id,)
        )
        return row["project_id"] if row else None

    async def _record_failure(self, item_id: str, exc: Exception) -> None:
        row = await self._db.fetch_one("SELECT attempts FROM learning_queue WHERE id = ?", (item_id,))
        if row is None:
            return
        attempts = row["attempts"] + 1
        next_at, failed = self.retry.next_attempt(attempts)
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE learning_queue SET attempts = ?, next_attempt_at = ?, last_error = ?, status = ?, "
                "updated_at = ? WHERE id = ? AND status = 'queued'",
                (attempts, None if failed else next_at, describe(exc), "failed" if failed else "queued",
                 utc_now(), item_id),
            )

    # -- what users see ----------------------------------------------------------------------

    async def status(self) -> LearnerStatus:
        """The learner's state for the current project's spaces."""
        project = (current_project(),)
        counts = {row["status"]: row["n"] for row in await self._db.fetch_all(
            f"SELECT status, COUNT(*) AS n FROM learning_queue WHERE space_id IN {PROJECT_SPACES} GROUP BY status",
            project)}
        problems = await self._items(f"WHERE (q.status = 'failed' OR (q.status = 'queued' AND q.attempts > 0)) "
                                     f"AND q.space_id IN {PROJECT_SPACES}", project)
        pending = await self._db.fetch_one(
            f"SELECT COUNT(*) AS n FROM pending_experiences WHERE status = 'pending' AND space_id IN {PROJECT_SPACES}",
            project,
        )
        held = await self.held_in_project()
        indexing = await self._db.fetch_one(
            f"SELECT COUNT(*) AS n FROM search_outbox WHERE space_id IN {PROJECT_SPACES}", project)
        return LearnerStatus(
            enabled=self.enabled,
            model=self.model,
            note=self.note,
            queue_depth=counts.get("queued", 0),
            running=len(held),
            leases=held,
            replica=self.replica,
            retrying=[p for p in problems if p.status == "queued"],
            failed=[p for p in problems if p.status == "failed"],
            learned=counts.get("learned", 0),
            skipped=counts.get("skipped", 0),
            pending_experiences=pending["n"] if pending else 0,
            tokens=await self._usage.totals(LLM_PURPOSES),
            search_index_pending=indexing["n"] if indexing else 0,
        )

    async def flush(self, space_id: str | None, session_id: str | None, timeout_s: float = 60.0) -> LearningItems:
        """Learn the queued tasks of a space or a session now (failed ones retried), wait, and return its items.

        Raises `InvalidArgument` (neither or both ids), `NotFound`, `Unavailable` (no LLM, or an
        item failed again), `TimedOut`.
        """
        where, param = await self._scope(space_id, session_id)
        self.require_enabled()
        async with self._db.transaction() as tx:
            await tx.execute(
                f"UPDATE learning_queue SET status = 'queued', attempts = 0, next_attempt_at = NULL "
                f"WHERE {where} AND status = 'failed'", (param,)
            )
            await tx.execute(f"UPDATE learning_queue SET next_attempt_at = NULL WHERE {where} AND status = 'queued'",
                             (param,))
        self.notify()

        async def settled() -> LearningItems | None:
            items = await self._items(f"WHERE q.{where}", (param,))
            if failed := [i for i in items if i.status == "failed"]:
                raise Unavailable(f"the learner gave up on task {failed[0].task_id!r} after {failed[0].attempts} "
                                  f"attempts: {failed[0].last_error}; fix the cause (see get_learner_status), "
                                  "then flush_learning again")
            held = await self.held()
            busy = any(i.status == "queued" or i.id in held for i in items)
            return None if busy else LearningItems(items=items)

        if (items := await self.wait_until(settled, timeout_s)) is not None:
            return items
        raise TimedOut(f"flush_learning timed out after {timeout_s:g}s with tasks still queued; call it again with a "
                       "longer timeout_s, or check get_learner_status")

    async def list_items(self, space_id: str | None, session_id: str | None) -> LearningItems:
        """The learner's items for a space or a session, oldest first. Raises `InvalidArgument`, `NotFound`."""
        where, param = await self._scope(space_id, session_id)
        return LearningItems(items=await self._items(f"WHERE q.{where}", (param,)))

    async def list_pending(self, space_id: str) -> PendingExperienceList:
        """A space's experiences waiting for confirm_experience, oldest first. Raises `NotFound`."""
        await fetch_space(self._db, space_id)
        rows = await self._db.fetch_all(
            "SELECT * FROM pending_experiences WHERE space_id = ? AND status = 'pending' ORDER BY rowid", (space_id,)
        )
        return PendingExperienceList(space_id=space_id, items=[_experience(row) for row in rows])

    async def confirm(self, space_id: str, experience_id: str, accept: bool) -> PendingExperience:
        """Accept (add or merge the SOP where it was planned) or reject a pending experience.

        Raises `NotFound` (space, experience), `Conflict` (already decided).
        """
        await fetch_space(self._db, space_id)
        row = await self._db.fetch_one(
            "SELECT * FROM pending_experiences WHERE id = ? AND space_id = ?", (experience_id, space_id)
        )
        if row is None:
            raise NotFound("experience", experience_id, _EXPERIENCE_HINT)
        if row["status"] != "pending":
            raise Conflict(f"experience {experience_id!r} was already {row['status']}; nothing to do")

        async def decide(tx: Writer, block_id: str | None) -> None:
            changed = await tx.execute(
                "UPDATE pending_experiences SET status = ?, block_id = ?, decided_at = ? "
                "WHERE id = ? AND status = 'pending'",
                ("accepted" if accept else "rejected", block_id, utc_now(), experience_id),
            )
            if not changed:  # decided by someone else meanwhile: roll the placement back
                raise Conflict(f"experience {experience_id!r} was decided meanwhile; nothing to do")

        if not accept:
            async with self._db.transaction() as tx:
                await decide(tx, None)
        else:
            sop = json.loads(row["sop"])
            merge_into = row["merge_into"]
            if merge_into and await self._db.fetch_one("SELECT 1 FROM blocks WHERE id = ?", (merge_into,)) is None:
                merge_into = None  # the twin was deleted since: add it on the planned page instead
            task = await self._db.fetch_one("SELECT data, status FROM tasks WHERE id = ?", (row["task_id"],))
            change = Change("learner", f"confirmed experience {experience_id}", row["task_id"], row["session_id"])
            if task is not None:
                change = _change(TaskData.model_validate_json(task["data"]), task["status"] == "failed",
                                 row["session_id"], row["task_id"])
            await self._spaces.place_entries(
                space_id, row["page_path"], sop, json.loads(row["entries"]), merge_into=merge_into,
                page_data=json.loads(row["page_data"]) if row["page_data"] else None,
                source=_source(row["session_id"], row["task_id"]), change=change, then=decide,
            )
        decided = await self._db.fetch_one("SELECT * FROM pending_experiences WHERE id = ?", (experience_id,))
        assert decided is not None
        return _experience(decided)

    async def _scope(self, space_id: str | None, session_id: str | None) -> tuple[str, str]:
        if (space_id is None) == (session_id is None):
            raise InvalidArgument("give exactly one of space_id or session_id")
        if space_id is not None:
            await fetch_space(self._db, space_id)
            return "space_id = ?", space_id
        await check_session(self._db, str(session_id))
        return "session_id = ?", str(session_id)

    async def _ack(self, tx: Writer, item_id: str, status: str, outcome: str) -> None:
        await self.confirm_lease(tx, item_id)
        await tx.execute(
            "UPDATE learning_queue SET status = ?, outcome = ?, next_attempt_at = NULL, last_error = NULL, "
            "updated_at = ? WHERE id = ?",
            (status, outcome, utc_now(), item_id),
        )

    async def _items(self, where: str, params: tuple[Any, ...] = ()) -> list[LearningItem]:
        rows = await self._db.fetch_all(f"SELECT * FROM learning_queue q {where} ORDER BY q.enqueued_at, q.rowid",
                                        params)
        return [_item(row) for row in rows]


def facts(task: TaskData) -> list[dict[str, Any]]:
    """The user's preferences stated in a task, as fact entries."""
    return [{"type": "fact", "data": {"text": " ".join(p.split())}} for p in task.user_preferences if p.strip()]


def _source(session_id: str, task_id: str) -> EntrySource:
    return EntrySource(session_id=session_id, task_id=task_id, learned_at=utc_now())


def _change(task: TaskData, failed: bool, session_id: str, task_id: str) -> Change:
    outcome = "failed" if failed else "succeeded"
    return Change("learner", f"learned from a task that {outcome}: {task.task_description[:200]}", task_id, session_id)


def _item(row: Row) -> LearningItem:
    outcome = {"learned": "block_id", "skipped": "skip_reason", "pending": "experience_id"}.get(row["status"])
    return LearningItem(
        id=row["id"], task_id=row["task_id"], session_id=row["session_id"], space_id=row["space_id"],
        task_description=TaskData.model_validate_json(row["task"]).task_description, status=row["status"],
        attempts=row["attempts"], last_error=redact(row["last_error"] or "") or None,
        next_attempt_at=row["next_attempt_at"] if row["status"] == "queued" else None,
        enqueued_at=row["enqueued_at"], updated_at=row["updated_at"],
        **({outcome: row["outcome"]} if outcome else {}),
    )


def _experience(row: Row) -> PendingExperience:
    return PendingExperience(
        id=row["id"], space_id=row["space_id"], task_id=row["task_id"], session_id=row["session_id"],
        sop=json.loads(row["sop"]), entries=json.loads(row["entries"]), page_path=row["page_path"],
        merge_into=row["merge_into"], status=row["status"],
        block_id=row["block_id"], created_at=row["created_at"], decided_at=row["decided_at"],
    )
