"""Records the skills service returns; MCP tools return them as structured output."""

from __future__ import annotations

from pydantic import BaseModel, Field


class SkillSummary(BaseModel):
    name: str = Field(description="The skill's name: its folder name when exported")
    description: str = Field(description="What it does and when to use it")
    page_id: str = Field(description="The page that is this skill")
    path: str = Field(description="The page's path in the space, e.g. /web/landing_pages")
    version: int | None = Field(default=None, description="Its latest version, None if never changed since "
                                "versions began")
    updated_at: str


class SkillList(BaseModel):
    space_id: str
    items: list[SkillSummary] = Field(description="Every skill (page) of the space, oldest first")


class Skill(SkillSummary):
    skill_md: str = Field(description="The SKILL.md: front matter, then the body")
    files: list[str] = Field(description="The skill folder's files, relative to it")


class SkillFile(BaseModel):
    name: str
    path: str
    content: str


class SkillVersion(BaseModel):
    version: int
    name: str = Field(description="The skill's name at that version")
    author: str = Field(description="learner, user, import or rollback")
    reason: str
    task_id: str | None = None
    session_id: str | None = None
    created_at: str = Field(description="UTC ISO-8601")


class SkillHistory(BaseModel):
    space_id: str
    name: str
    page_id: str
    versions: list[SkillVersion] = Field(description="Newest first")


class SkillDiff(BaseModel):
    name: str
    from_version: int
    to_version: int
    diff: str = Field(description="Unified diff of SKILL.md between the two versions ('' when equal)")


class SkillsExported(BaseModel):
    space_id: str
    to: str
    written: list[str] = Field(default_factory=list, description="Skill folders written or updated")
    unchanged: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list, description="Folders this server made whose skill is gone")
    skipped: list[str] = Field(default_factory=list, description="Folders left alone: this server did not make them")


class SkillsImported(BaseModel):
    space_id: str
    imported: list[SkillSummary]
    ignored_files: list[str] = Field(default_factory=list, description="Files besides SKILL.md, not kept")
