"""Records the services return; the MCP tools return them as structured output."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


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


TaskStatus = Literal["pending", "running", "success", "failed"]
TASK_STATUSES: tuple[str, ...] = ("pending", "running", "success", "failed")


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


class ObserverState(BaseModel):
    """How far the background observer has got with one session."""

    enabled: bool
    status: Literal["disabled", "idle", "queued", "running", "retrying", "failed"]
    pending_messages: int = Field(description="Messages stored but not yet read by the observer")
    attempts: int = Field(default=0, description="Failed attempts at the current batch")
    last_error: str | None = None
    note: str | None = None


class TaskList(BaseModel):
    session_id: str
    items: list[Task]
    observer: ObserverState


class TokenUsage(BaseModel):
    calls: int
    failed_calls: int
    prompt_tokens: int
    completion_tokens: int


class SessionProblem(BaseModel):
    session_id: str
    attempts: int
    failed: bool = Field(description="True once the observer gave up; flush the session to retry")
    last_error: str | None
    updated_at: str = Field(description="When the last attempt failed")
    next_attempt_at: str | None = Field(description="When it is retried (backoff doubles per attempt); null once failed")


class QueueLease(BaseModel):
    """A queue item some server process (replica) works on right now."""

    key: str = Field(description="The item: a session id for the observer, a learning item id for the learner")
    owner: str = Field(description="The replica working on it (its `replica` id in the status)")
    lease_until: str = Field(description="When other replicas may take it over unless the owner renews the lease")


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

BlockType = Literal["folder", "page", "text", "sop"]


class SpaceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    confirm_before_learning: bool = Field(
        default=False, description="Hold learned SOPs as pending until confirmed, instead of adding them directly"
    )


class Space(BaseModel):
    id: str
    name: str | None = None
    settings: SpaceSettings = Field(default_factory=SpaceSettings)
    created_at: str = Field(description="UTC ISO-8601")
    updated_at: str = Field(description="UTC ISO-8601")


class ToolSop(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tool_name: str = Field(min_length=1, description="The tool to call in this step")
    action: str = Field(min_length=1, description="What to do with it, e.g. which arguments to pass")


class SopData(BaseModel):
    """The data of an `sop` block: when to use it, what the user prefers, and the tool steps in order."""

    model_config = ConfigDict(extra="forbid")

    use_when: str = Field(min_length=1, description="The situation this procedure is for")
    preferences: str = Field(default="", description="User preferences that shaped it")
    tool_sops: list[ToolSop] = Field(default_factory=list, description="The tool steps, in order")


class TextData(BaseModel):
    """The data of a `text` block."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="Markdown text")


class Block(BaseModel):
    id: str
    space_id: str
    parent_id: str | None = Field(default=None, description="None for a folder or page at the space's root")
    type: BlockType
    title: str
    data: dict[str, Any] = Field(default_factory=dict)
    sort_order: int = Field(description="Position among its siblings, from 0")
    path: str = Field(description="A folder's or page's own path (e.g. /github/GTM); for text and sop blocks, "
                      "the path of the page holding them")
    created_at: str = Field(description="UTC ISO-8601")
    updated_at: str = Field(description="UTC ISO-8601")


class TreeEntry(BaseModel):
    id: str
    type: BlockType
    title: str
    path: str = Field(description="As in Block.path")
    parent_id: str | None = None
    depth: int = Field(description="Levels below the listed path, from 0")


class SpaceTree(BaseModel):
    space_id: str
    path: str = Field(description="The path that was listed")
    entries: list[TreeEntry] = Field(description="Every block under the path, depth first, in order")
    truncated: bool = Field(default=False, description="True when the listing was cut short: list a deeper path")


class BlocksDeleted(BaseModel):
    id: str
    deleted: bool = True
    block_ids: list[str] = Field(description="Every block removed: this one and, if recursive, everything under it")


class CitedBlock(BaseModel):
    block_id: str
    type: BlockType
    path: str = Field(description="As in Block.path")
    title: str
    data: dict[str, Any]
    score: float = Field(description="Higher is more relevant; comparable only within one result")


class ExperienceSearchResult(BaseModel):
    cited_blocks: list[CitedBlock] = Field(description="The most relevant blocks, best first")
    final_answer: str | None = Field(default=None, description="agentic mode: an answer drawn from the blocks")
    note: str | None = Field(default=None, description="Anything about how the search ran, e.g. a fallback")


class IndexRebuilt(BaseModel):
    space_id: str | None = Field(description="The space rebuilt, or None for every space")
    indexed_blocks: int


class SpaceList(BaseModel):
    items: list[Space] = Field(description="Every space, oldest first")


# The learner: tasks that succeeded, turned into SOPs.

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
class Disk(BaseModel):
    id: str
    name: str | None = None
    created_at: str
    artifact_count: int = 0


class DiskList(BaseModel):
    items: list[Disk]


class Artifact(BaseModel):
    id: str
    disk_id: str
    file_path: str = Field(description="The folder, e.g. /todo/")
    filename: str
    size: int = Field(description="Bytes")
    mime_type: str
    sha256: str
    meta: dict[str, Any] = Field(default_factory=dict)
    created_at: str
    updated_at: str


class ArtifactContent(Artifact):
    content: str | None = Field(default=None, description="The file's text, or base64 of its bytes; see encoding")
    encoding: Literal["utf-8", "base64"] | None = None
    public_url: str | None = Field(default=None, description="A URL anyone can GET the bytes from until it expires")
    public_url_expires_at: str | None = Field(default=None, description="UTC ISO-8601")
    note: str | None = Field(default=None, description="Why a requested public_url is missing")


class ArtifactListing(BaseModel):
    disk_id: str
    path: str
    folders: list[str] = Field(description="Sub-folders directly under path, e.g. /todo/done/")
    files: list[Artifact] = Field(description="Files directly under path")
    truncated: bool = Field(default=False, description="True if there were more than could be listed")


class ArtifactMatches(BaseModel):
    items: list[Artifact]
    truncated: bool = Field(description="True if more files matched than were returned")


class GrepMatch(BaseModel):
    file_path: str
    filename: str
    line_number: int = Field(description="From 1")
    line: str


class GrepResult(BaseModel):
    matches: list[GrepMatch]
    truncated: bool = Field(description="True if the limit or the scan budget stopped the search early")
    files_scanned: int
    note: str | None = None
