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
    user: str | None = Field(default=None, description="The identifier of the user it belongs to, if any")


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
    meta: dict[str, Any] = Field(default_factory=dict, description="The caller's meta, as sent")


class SessionEvent(BaseModel):
    id: str
    session_id: str
    type: str = Field(description="What kind of event, e.g. text_event or disk_event")
    data: dict[str, Any] = Field(description="The event's payload")
    created_at: str = Field(description="UTC ISO-8601")


class EventPage(BaseModel):
    items: list[SessionEvent]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` to get the next page")
    has_more: bool


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
    edit_at_message_id: str | None = Field(
        default=None, description="The last message edit_strategies applied to (pin_at_message, else the last one)"
    )
    metas: list[dict[str, Any]] = Field(
        default_factory=list, description="The caller's meta of each item's message (see patch_message_meta)"
    )
    created_at: list[str] = Field(default_factory=list, description="When each item's message was stored")
    events: list[SessionEvent] | None = Field(
        default=None, description="with_events: the session's events in this page's stretch of time, oldest first"
    )


class MessageMeta(BaseModel):
    id: str = Field(description="The message id")
    meta: dict[str, Any] = Field(description="The message's whole meta after the change")


class CopiedSession(BaseModel):
    old_session_id: str
    new_session_id: str
    messages: int = Field(description="Messages copied")
    tasks: int = Field(description="Tasks copied")
    events: int = Field(description="Events copied")


class User(BaseModel):
    id: str
    identifier: str = Field(description="The caller's own name for the user")
    created_at: str
    updated_at: str


class UserPage(BaseModel):
    items: list[User]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` to get the next page")
    has_more: bool


class UserResources(BaseModel):
    identifier: str
    sessions_count: int
    disks_count: int
    spaces_count: int
    skills_count: int = Field(description="SOP blocks in the user's spaces")


class DeletedUser(BaseModel):
    identifier: str
    deleted: bool = True
    sessions: int = Field(description="Sessions deleted with the user")
    disks: int = Field(description="Disks deleted with the user")
    spaces: int = Field(description="Spaces deleted with the user")


class ProjectConfigs(BaseModel):
    task_success_criteria: str | None = Field(
        default=None, description="When the observer should mark a task success; given to its task agent"
    )
    task_failure_criteria: str | None = Field(
        default=None, description="When the observer should mark a task failed; given to its task agent"
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
    cached_prompt_tokens: int = Field(default=0, description="Of prompt_tokens, those the server answered from "
                                      "its prompt cache (prompt_tokens_details.cached_tokens)")


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
    search_index_pending: int = Field(0, description="Block changes in the project's spaces not yet in the search "
                                                     "index: being embedded in the background, or a rebuild queued")


class PendingExperience(BaseModel):
    """A learned SOP held for confirmation (the space has confirm_before_learning on)."""

    id: str
    space_id: str
    task_id: str
    session_id: str
    sop: SopData | None = Field(description="The SOP learned from a task that succeeded; None for a failed task")
    entries: list[dict[str, Any]] = Field(default_factory=list, description="Warnings (from a failed task) and "
                                          "facts (the user's preferences) to add with it: {type, data}")
    page_path: str = Field(description="The page it will be added to when accepted")
    merge_into: str | None = Field(default=None, description="The sop block it will be merged into instead, if any")
    status: Literal["pending", "accepted", "rejected"]
    block_id: str | None = Field(default=None, description="accepted: the SOP block added or merged into")
    created_at: str
    decided_at: str | None = None


class PendingExperienceList(BaseModel):
    space_id: str
    items: list[PendingExperience] = Field(description="Oldest first")


class SweepReport(BaseModel):
    """What a sweep of unreferenced bytes removed."""

    removed_folders: list[str] = Field(default_factory=list, description="Blob folders of sessions that are gone")
