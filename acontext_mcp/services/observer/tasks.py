"""Tasks: the per-session task list the observer keeps, readable and correctable by users.

The observer edits a `TaskBoard`, an in-memory copy of one session's list, and saves it in
the transaction that acknowledges the batch, so a failed batch leaves no half-written tasks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from acontext_mcp.errors import InvalidArgument, NotFound
from acontext_mcp.services.learner import queue_learning
from acontext_mcp.services.observer.models import (
    TASK_STATUSES,
    Task,
    TaskData,
    TaskStatus,
)
from acontext_mcp.services.sessions import check_session
from acontext_mcp.store.database import Database, Writer, new_id, utc_now

LEARNED = ("success", "failed")  # outcomes the learner learns from: SOPs and warnings
SAME_TASK = 0.7  # word overlap (Jaccard) of two descriptions that makes an insert a duplicate
MAX_STATUS_CHANGES = 2  # a task's status changes per batch; more is a model cycling through statuses
# Words that say nothing about what happened, so they cannot ground a progress line or a preference.
_FILLER_WORDS = """
i ive have has had the a an and or to of for in on with it its this that is was be been user agent task tasks
please want wants use used using make made done do did will would should can could new now then also all some
my me you your we our they them
"""
_FILLER = frozenset(_FILLER_WORDS.split())


@dataclass
class _Entry:
    id: str
    status: TaskStatus
    data: TaskData
    message_ids: list[str]
    new: bool = False
    was: str | None = None  # the status as loaded
    changed: set[str] = field(default_factory=set)
    new_links: list[str] = field(default_factory=list)
    status_changes: int = 0  # in this batch
    created_at: str | None = None
    updated_at: str | None = None


class TaskBoard:
    """One session's task list being edited; orders are positions from 1.

    Every edit raises `InvalidArgument` with a message fit to show the model that made it.
    """

    def __init__(self, session_id: str, entries: list[_Entry], known_message_ids: set[str]) -> None:
        self.session_id = session_id
        self._entries = entries
        self._known = known_message_ids
        self.learning_queued = 0  # tasks `save` queued for the learner
        self.labels: dict[str, str] = {}  # short per-batch message labels ("m1") -> message ids
        self.evidence: set[str] | None = None  # words of the batch's messages; progress must share one
        self.user_evidence: set[str] | None = None  # words of the user's messages; preferences must share one
        self.finish_checked = False  # the model was asked once to check open tasks before finishing

    def show(self, batch: list[tuple[str, str, str]]) -> None:
        """Set the batch the model reads: (label, message id, text said in it, with role "user: ..." first)."""
        self.labels = {label: message_id for label, message_id, _ in batch}
        self.evidence = set().union(*(_content_words(text) for _, _, text in batch))
        self.user_evidence = set().union(*(_content_words(text) for _, _, text in batch if text.startswith("user:")))

    @property
    def tasks(self) -> list[Task]:
        return [
            Task(id=e.id, order=i, status=e.status, data=e.data, message_ids=e.message_ids,
                 created_at=e.created_at, updated_at=e.updated_at)
            for i, e in enumerate(self._entries, 1)
        ]

    def insert(self, after_task_order: int, description: str) -> int:
        if not 0 <= after_task_order <= len(self._entries):
            raise InvalidArgument(
                f"after_task_order must be between 0 (insert first) and {len(self._entries)}, got {after_task_order}"
            )
        entry = _Entry(new_id(), "pending", TaskData(task_description=_text(description, "task_description")), [], True)
        self._entries.insert(after_task_order, entry)
        return after_task_order + 1

    def check_new_task(self, description: str) -> None:
        """Raise `InvalidArgument` when a task already says (nearly) the same as `description`, or it shares no word
        with the new messages (a small model copies a tool's answer, such as a check, as a task)."""
        _check_grounded(description, self.evidence, "task_description", "the messages ask for")
        for order, other in enumerate(self._entries, 1):
            if _similar(other.data.task_description, description):
                raise InvalidArgument(f"task {order} already says this ({other.data.task_description!r}); "
                                      f"update_task {order} instead of inserting a duplicate")

    def update(self, order: int, status: str, description: str | None = None) -> None:
        entry = self._entry(order)
        description = _text(description, "task_description") if description is not None else None
        status = check_status(status)
        if status != entry.status:
            if entry.status_changes >= MAX_STATUS_CHANGES:
                raise InvalidArgument(f"task {order}'s status already changed {entry.status_changes} times in this "
                                      f"batch; it stays {entry.status}: call finish")
            entry.status_changes += 1
        entry.status = status
        entry.changed.add("status")
        if description is not None:
            entry.data.task_description = description
            entry.changed.add("data")

    def append_progress(self, order: int, progress: str) -> None:
        entry = self._entry(order)
        progress = _text(progress, "progress")
        _check_new(progress, entry.data.progresses, "progress", order)
        _check_grounded(progress, self.evidence, "progress", "the messages show the agent did")
        entry.data.progresses.append(progress)
        entry.changed.add("data")

    def append_preference(self, order: int, preference: str) -> None:
        entry = self._entry(order)
        preference = _text(preference, "preference")
        _check_new(preference, entry.data.user_preferences, "preference", order)
        _check_grounded(preference, self.user_evidence, "preference", "the user said in their messages", most=True)
        entry.data.user_preferences.append(preference)
        entry.changed.add("data")

    def link(self, order: int, message_ids: list[str]) -> int:
        """Link messages of this session (by id, or by this batch's label such as "m2") to a task; return how
        many were newly linked."""
        entry = self._entry(order)
        message_ids = [self.labels.get(_label(m), m) for m in message_ids]
        unknown = [m for m in message_ids if m not in self._known]
        if unknown:
            raise InvalidArgument(f"unknown message ids {unknown}; use the labels in [brackets] from the transcript")
        fresh = [m for m in dict.fromkeys(message_ids) if m not in entry.message_ids]
        entry.message_ids += fresh
        entry.new_links += fresh
        return len(fresh)

    def ended_in_batch(self) -> bool:
        """Whether a task turned success or failed in this batch."""
        return any(e.status in LEARNED and e.was != e.status for e in self._entries)

    def render(self) -> str:
        """The list as the model reads it."""
        if not self._entries:
            return "(no tasks yet)"
        lines: list[str] = []
        for order, entry in enumerate(self._entries, 1):
            lines.append(f"{order}. [{entry.status}] {entry.data.task_description}")
            lines += [f"   progress: {p}" for p in entry.data.progresses]
            lines += [f"   user preference: {p}" for p in entry.data.user_preferences]
        return "\n".join(lines)

    async def save(self, tx: Writer, now: str | None = None) -> None:
        """Write a board's edits inside the caller's transaction; fields nobody edited are left alone.

        `now` (UTC ISO-8601) stamps the changed tasks; the demo uses it to write past outcomes.
        """
        now = now or utc_now()
        for order, entry in enumerate(self._entries, 1):
            data = json.dumps(entry.data.model_dump(), ensure_ascii=False)
            if entry.new:
                await tx.execute(
                    "INSERT INTO tasks (id, session_id, task_order, status, data, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (entry.id, self.session_id, order, entry.status, data, now, now),
                )
                continue
            await tx.execute(
                "UPDATE tasks SET task_order = ?, "
                "status = CASE WHEN ? THEN ? ELSE status END, data = CASE WHEN ? THEN ? ELSE data END, "
                "updated_at = CASE WHEN ? THEN ? ELSE updated_at END WHERE id = ?",
                (order, "status" in entry.changed, entry.status, "data" in entry.changed, data,
                 bool(entry.changed), now, entry.id),
            )
        await tx.execute_many(
            "INSERT INTO task_messages (task_id, message_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
            [(entry.id, m) for entry in self._entries for m in entry.new_links],
        )
        self.learning_queued = await queue_learning(
            tx, [e.id for e in self._entries if e.status in LEARNED and e.was != e.status]
        )

    def _entry(self, order: int) -> _Entry:
        if not 1 <= order <= len(self._entries):
            have = f"orders 1 to {len(self._entries)}" if self._entries else "no tasks yet; insert_task first"
            raise InvalidArgument(f"task_order {order} does not exist ({have})")
        return self._entries[order - 1]


class TaskService:
    def __init__(self, db: Database, on_learnable: Callable[[], None] | None = None) -> None:
        self._db = db
        self._on_learnable = on_learnable

    def learnable(self) -> None:
        """Tell the learner that tasks were queued for it (after the transaction that queued them)."""
        if self._on_learnable is not None:
            self._on_learnable()

    async def list_tasks(self, session_id: str) -> list[Task]:
        """A session's tasks in order. Raises `NotFound` for an unknown session."""
        await check_session(self._db, session_id)
        return (await self.load_board(session_id)).tasks

    async def update_task_status(self, session_id: str, task_order: int, status: str) -> Task:
        """Correct one task's status. Raises `NotFound` (session or task order), `InvalidArgument` (status)."""
        check_status(status)
        await check_session(self._db, session_id)
        async with self._db.transaction() as tx:
            # Two corrections at once (on PostgreSQL, even in one replica) must not both see the old status.
            await tx.lock(f"task:{session_id}:{task_order}")
            before = await tx.fetch_one(
                "SELECT id, status FROM tasks WHERE session_id = ? AND task_order = ?", (session_id, task_order)
            )
            if before is None:
                raise NotFound("task", str(task_order), "call get_tasks to see this session's task orders")
            await tx.execute(
                "UPDATE tasks SET status = ?, updated_at = ? WHERE id = ?", (status, utc_now(), before["id"])
            )
            changed = status in LEARNED and status != before["status"]
            queued = await queue_learning(tx, [before["id"]] if changed else [])
        if queued:
            self.learnable()
        tasks = await self.list_tasks(session_id)
        return tasks[task_order - 1]

    async def load_board(self, session_id: str) -> TaskBoard:
        rows = await self._db.fetch_all(
            "SELECT id, status, data, created_at, updated_at FROM tasks WHERE session_id = ? ORDER BY task_order",
            (session_id,),
        )
        links = await self._db.fetch_all(
            "SELECT tm.task_id, tm.message_id FROM task_messages tm JOIN tasks t ON t.id = tm.task_id "
            "JOIN messages m ON m.id = tm.message_id WHERE t.session_id = ? ORDER BY m.seq",
            (session_id,),
        )
        linked: dict[str, list[str]] = {}
        for link in links:
            linked.setdefault(link["task_id"], []).append(link["message_id"])
        known = await self._db.fetch_all("SELECT id FROM messages WHERE session_id = ?", (session_id,))
        entries = [
            _Entry(row["id"], row["status"], TaskData.model_validate_json(row["data"]), linked.get(row["id"], []),
                   was=row["status"], created_at=row["created_at"], updated_at=row["updated_at"])
            for row in rows
        ]
        return TaskBoard(session_id, entries, {row["id"] for row in known})


def check_status(status: str) -> TaskStatus:
    if status not in TASK_STATUSES:
        raise InvalidArgument(f"status must be one of {', '.join(TASK_STATUSES)}, got {status!r}")
    return status


def _label(value: str) -> str:
    """A label as a model may write it: "m2", "[m2]", "M2" or "2" all mean "m2"."""
    value = value.strip().strip("[]").lower()
    return f"m{value}" if value.isdigit() else value


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def _content_words(text: str) -> set[str]:
    return {w for w in _words(text) if w not in _FILLER and len(w) > 1}


def _similar(a: str, b: str) -> bool:
    """Mostly the same words, and the same numbers ("fix issue 12" is not "fix issue 13")."""
    x, y = _words(a), _words(b)
    if {w for w in x if w.isdigit()} != {w for w in y if w.isdigit()}:
        return False
    return bool(x | y) and len(x & y) / len(x | y) >= SAME_TASK


def _check_new(line: str, lines: list[str], name: str, order: int) -> None:
    if any(_words(line) == _words(old) for old in lines):
        raise InvalidArgument(f"task {order} already has this {name}; add only something new, or call finish")


def _check_grounded(line: str, evidence: set[str] | None, name: str, what: str, most: bool = False) -> None:
    """`line` shares a word with `evidence` (`most`: at least half of its words, so it is what was said, not a
    guess that borrows a word of it)."""
    if evidence is None:
        return
    words = _content_words(line)
    shared = words & evidence
    if not shared:
        raise InvalidArgument(f"{name} shares no word with the new messages; record only what {what}")
    if most and 2 * len(shared) < len(words):
        missing = ", ".join(sorted(words - evidence)[:5])
        raise InvalidArgument(f"{name} has words nobody said ({missing}); record only what {what}, in their words")


def _text(value: str, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(f"{name} must be non-empty text")
    return value.strip()


async def copy_tasks(tx: Writer, source: str, target: str, message_ids: dict[str, str]) -> int:
    """Copy session `source`'s tasks into session `target` (new ids; message links follow `message_ids`,
    old id -> new id). Nothing is queued for learning: the copy repeats work already learned or queued."""
    rows = await tx.fetch_all("SELECT * FROM tasks WHERE session_id = ? ORDER BY task_order", (source,))
    ids = {row["id"]: new_id() for row in rows}
    await tx.execute_many(
        "INSERT INTO tasks (id, session_id, task_order, status, data, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        [(ids[r["id"]], target, r["task_order"], r["status"], r["data"], r["created_at"], r["updated_at"])
         for r in rows],
    )
    links = await tx.fetch_all(
        "SELECT tm.task_id, tm.message_id FROM task_messages tm JOIN tasks t ON t.id = tm.task_id "
        "WHERE t.session_id = ?", (source,)
    )
    await tx.execute_many(
        "INSERT INTO task_messages (task_id, message_id) VALUES (?, ?)",
        [(ids[link["task_id"]], message_ids[link["message_id"]])
         for link in links if link["message_id"] in message_ids],
    )
    return len(rows)
