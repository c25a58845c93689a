"""Records the observer services return; the MCP tools return them as structured output."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, Field

from acontext_mcp.queue.leases import QueueLease
from acontext_mcp.services.models import TokenUsage

TaskStatus = Literal["pending", "running", "success", "failed"]
TASK_STATUSES: tuple[TaskStatus, ...] = get_args(TaskStatus)


ObserverStatusName = Literal["disabled", "idle", "queued", "running", "retrying", "failed"]

class TaskData(BaseModel):
    task_description: str
    progresses: list[str] = Field(default_factory=list, description="What was done, first person, oldest first")
    user_preferences: list[str] = Field(default_factory=list, description="What the user asked for about this task")


class Task(BaseModel):
    id: str
    order: int = Field(description="Position in the session's task list, from 1")
    status: TaskStatus
    data: TaskData
    message_ids: list[str] = Field(default_factory=list, description="Messages that belong to this task, oldest first")
    created_at: str | None = Field(default=None, description="UTC ISO-8601; None before the task is saved")
    updated_at: str | None = Field(default=None, description="UTC ISO-8601; None before the task is saved")


class ObserverState(BaseModel):
    """How far the background observer has got with one session."""

    enabled: bool
    status: ObserverStatusName
    pending_messages: int = Field(description="Messages stored but not yet read by the observer")
    attempts: int = Field(default=0, description="Failed attempts at the current batch")
    last_error: str | None = None
    note: str | None = None


class TaskList(BaseModel):
    session_id: str
    items: list[Task]
    observer: ObserverState


class SessionProblem(BaseModel):
    session_id: str
    attempts: int
    failed: bool = Field(description="True once the observer gave up; flush the session to retry")
    last_error: str | None
    updated_at: str = Field(description="When the last attempt failed")
    next_attempt_at: str | None = Field(
        description="When it is retried (backoff doubles per attempt); null once failed"
    )


class ObserverStatus(BaseModel):
    enabled: bool
    model: str | None = None
    note: str | None = None
    queue_depth: int = Field(description="Messages waiting for the observer, all sessions")
    sessions_pending: int = Field(description="Sessions with messages waiting")
    sessions_running: int = Field(description="Sessions whose batch runs now, on any replica")
    leases: list[QueueLease] = Field(description="Those sessions, with the replica working on each")
    replica: str = Field(description="This server process's id among the replicas sharing the database")
    sessions_retrying: list[SessionProblem]
    sessions_failed: list[SessionProblem]
    last_error: str | None = Field(default=None, description="The most recent batch error, with its session")
    tokens: TokenUsage


class SessionSummary(BaseModel):
    session_id: str
    summary: str = Field(description="The session's tasks, progress and preferences as compact text")
    task_count: int
    summary_tokens: int = Field(description="Tokens of `summary`")
    session_tokens: int = Field(description="Tokens of every stored message, for comparison")
    observer: ObserverState
