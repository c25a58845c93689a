"""Records the sessions, messages, metrics and learner services return (the spaces, disks and observer
packages keep theirs beside them); the MCP tools return them as structured output."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from acontext_mcp.queue.leases import QueueLease
from acontext_mcp.services.spaces.models import SopData


class Session(BaseModel):
    id: str
    space_id: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: str = Field(description="UTC ISO-8601")
    updated_at: str = Field(description="UTC ISO-8601")
    message_count: int = 0
    token_count: int = Field(default=0, description="Tokens of all its messages, as counted when each was stored")


class SessionPage(BaseModel):
    items: list[Session]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` to get the next page")
    has_more: bool


class StoredMessage(BaseModel):
    id: str
    session_id: str
    seq: int = Field(description="Position in the session, from 1")
    role: str = Field(description="Native role: system, user or assistant (a tool result is stored as user)")
    created_at: str


class MessagePage(BaseModel):
    items: list[dict[str, Any]] = Field(description="Messages in the requested format, oldest first")
    message_ids: list[str] = Field(description="The stored message id of each item (one message may give several)")
    sources: list[list[str]] = Field(
        default_factory=list,
        description="Every stored message id each item holds, oldest first (Anthropic reads merge same-role runs)",
    )
    system: str | list[dict[str, Any]] | None = Field(
        default=None, description="Anthropic format only: the system prompt, from system messages on this page"
    )
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` to get the next page")
    has_more: bool
    tokens_before: int | None = Field(default=None, description="Tokens of this page's messages as stored")
    tokens_after: int | None = Field(
        default=None, description="Tokens of the returned messages after edit_strategies (= tokens_before without)"
    )


class MessageTokens(BaseModel):
    id: str
    seq: int
    role: str
    tokens: int


class TokenCounts(BaseModel):
    session_id: str
    items: list[MessageTokens] = Field(description="Every message of the session, oldest first")
    total: int
    tokenizer: str = Field(description="How this server counts new messages: estimate or tiktoken:<encoding>")


class Deleted(BaseModel):
    id: str
    deleted: bool = True


class TokenUsage(BaseModel):
    calls: int
    failed_calls: int
    prompt_tokens: int
    completion_tokens: int


class NativeMessage(BaseModel):
    """A message as stored, in the native format, without loading its blobs."""

    id: str
    seq: int
    role: str
    source_format: str = Field(description="The format it was sent in")
    created_at: str
    tokens: int | None = Field(default=None, description="Token count, as counted when stored")
    parts: list[dict[str, Any]] = Field(
        description="Native parts; a binary part holds inline `data` or a `blob` reference"
    )
    meta: dict[str, Any] = Field(default_factory=dict)


class NativePage(BaseModel):
    items: list[NativeMessage]
    has_more: bool


class Attachment(BaseModel):
    """The bytes of one binary part (image, file, audio) of a stored message."""

    data: bytes
    media_type: str | None = None
    filename: str | None = None


class DayCount(BaseModel):
    day: str = Field(description="UTC date, YYYY-MM-DD")
    sessions: int = Field(description="Sessions created that day")
    messages: int = Field(description="Messages stored that day")


class DailyActivity(BaseModel):
    days: list[DayCount] = Field(description="One entry per day, oldest first")


class DayOutcomes(BaseModel):
    day: str = Field(description="UTC date, YYYY-MM-DD")
    success: int = Field(description="Tasks last updated that day whose status is success")
    failed: int = Field(description="Tasks last updated that day whose status is failed")

    @property
    def success_rate(self) -> float | None:
        """success / (success + failed), or None on a day without finished tasks."""
        finished = self.success + self.failed
        return self.success / finished if finished else None


class DayTokens(BaseModel):
    day: str = Field(description="UTC date, YYYY-MM-DD")
    calls: int
    prompt_tokens: int
    completion_tokens: int


# Spaces: a tree of folders, pages and the text and SOP blocks on pages.

LearningStatus = Literal["queued", "learned", "skipped", "pending", "failed"]


class LearningItem(BaseModel):
    """One succeeded task in the learner's queue, and what became of it."""

    id: str
    task_id: str
    session_id: str
    space_id: str
    task_description: str
    status: LearningStatus = Field(description="queued (waiting or retrying), learned (an SOP was added or merged), "
                                   "skipped (too simple), pending (awaiting confirm_experience), failed (gave up)")
    attempts: int = Field(description="Failed attempts so far")
    last_error: str | None = None
    next_attempt_at: str | None = Field(default=None, description="When a failed attempt is retried")
    block_id: str | None = Field(default=None, description="learned: the SOP block added or merged into")
    skip_reason: str | None = Field(default=None, description="skipped: why the task taught nothing")
    experience_id: str | None = Field(default=None, description="pending: the experience to confirm")
    enqueued_at: str
    updated_at: str


class LearningItems(BaseModel):
    items: list[LearningItem] = Field(description="Oldest first")


class LearnerStatus(BaseModel):
    enabled: bool
    model: str | None = None
    note: str | None = None
    queue_depth: int = Field(description="Tasks waiting to be learned (retrying ones included)")
    running: int = Field(description="Items being learned now, on any replica")
    leases: list[QueueLease] = Field(description="Those items, with the replica working on each")
    replica: str = Field(description="This server process's id among the replicas sharing the database")
    retrying: list[LearningItem]
    failed: list[LearningItem] = Field(description="Items the learner gave up on, with their errors; "
                                       "flush_learning retries them")
    learned: int
    skipped: int
    pending_experiences: int = Field(description="Learned SOPs awaiting confirm_experience")
    tokens: TokenUsage = Field(description="LLM use by the learner and agentic search")


class PendingExperience(BaseModel):
    """A learned SOP held for confirmation (the space has confirm_before_learning on)."""

    id: str
    space_id: str
    task_id: str
    session_id: str
    sop: SopData
    page_path: str = Field(description="The page it will be added to when accepted")
    merge_into: str | None = Field(default=None, description="The sop block it will be merged into instead, if any")
    status: Literal["pending", "accepted", "rejected"]
    block_id: str | None = Field(default=None, description="accepted: the SOP block added or merged into")
    created_at: str
    decided_at: str | None = None


class PendingExperienceList(BaseModel):
    space_id: str
    items: list[PendingExperience] = Field(description="Oldest first")
