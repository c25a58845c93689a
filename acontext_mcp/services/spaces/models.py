"""Records the spaces services return; the MCP tools return them as structured output."""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

BlockType = Literal["folder", "page", "text", "sop", "warning", "fact"]
BLOCK_TYPES: tuple[BlockType, ...] = get_args(BlockType)
SearchMode = Literal["fast", "agentic"]
SEARCH_MODES: tuple[SearchMode, ...] = get_args(SearchMode)
MAX_QUERY_CHARS = 2000
"""The longest search query."""
MAX_RESULTS = 50
"""The most blocks one search returns."""


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
    user: str | None = Field(default=None, description="The identifier of the user it belongs to, if any")


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


class WarningData(BaseModel):
    """The data of a `warning` block, learned from a task that failed: what went wrong, what to do instead."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, description="What went wrong, and in which situation")
    instead: str = Field(default="", description="What to do instead")


class FactData(BaseModel):
    """The data of a `fact` block: a user preference or fact to apply, e.g. "prefers dark themes"."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, description="The fact, as one sentence")


class EntrySource(BaseModel):
    """Where a learned entry came from."""

    session_id: str | None = None
    task_id: str | None = None
    learned_at: str = Field(description="UTC ISO-8601")


class Block(BaseModel):
    id: str
    space_id: str
    parent_id: str | None = Field(default=None, description="None for a folder or page at the space's root")
    type: BlockType
    title: str
    data: dict[str, Any] = Field(default_factory=dict)
    sort_order: int = Field(description="Position among its siblings, from 0")
    source: EntrySource | None = Field(default=None, description="Learned entries: the session and task it came "
                                       "from, and when")
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


class CitedSkill(BaseModel):
    name: str = Field(description="The skill's name (get_skill, skill history)")
    path: str = Field(description="Its page's path")
    uri: str = Field(description="Its SKILL.md as a resource")


class ExperienceSearchResult(BaseModel):
    cited_blocks: list[CitedBlock] = Field(description="The most relevant blocks, best first")
    skills: list[CitedSkill] = Field(default_factory=list, description="The skills (pages) those blocks belong to, "
                                     "in the order first cited: load one whole with get_skill")
    final_answer: str | None = Field(default=None, description="agentic mode: an answer drawn from the blocks")
    note: str | None = Field(default=None, description="Anything about how the search ran, e.g. a fallback")


class IndexRebuilt(BaseModel):
    space_id: str | None = Field(description="The space rebuilt, or None for every space")
    indexed_blocks: int


class SpaceList(BaseModel):
    items: list[Space] = Field(description="Every space, oldest first")


# The learner: tasks that succeeded, turned into SOPs.
