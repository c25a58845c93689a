"""Tools: skills (a space's pages as Agent Skills) and their history: list_skills, get_skill, get_skill_file,
skill_history, diff_skill, rollback_skill."""

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from acontext_mcp.glue import domain_errors, service_of
from acontext_mcp.services.skills.models import (
    Skill,
    SkillDiff,
    SkillFile,
    SkillHistory,
    SkillList,
    SkillVersion,
)

SpaceId = Annotated[str, Field(description="A space id from create_space or list_spaces")]
Name = Annotated[str, Field(description="A skill name from list_skills, e.g. landing-pages")]
Version = Annotated[int, Field(ge=1, description="A version number from skill_history")]


def register(server: MCPServer) -> None:
    @server.tool()
    @domain_errors
    async def list_skills(ctx: Context, space_id: SpaceId) -> SkillList:
        """List a space's skills: each page is an Agent Skill (name, description, latest version), rendered
        from its SOPs, warnings and facts. Load one with get_skill when its description fits the task."""
        return await service_of(ctx).skills.list_skills(space_id)

    @server.tool()
    @domain_errors
    async def get_skill(
        ctx: Context, space_id: SpaceId, name: Name,
        version: Annotated[int | None, Field(ge=1, description="An older version to read; default the current")]
        = None,
    ) -> Skill:
        """Get a skill with its SKILL.md (front matter, then procedures, warnings and facts to follow)."""
        return await service_of(ctx).skills.get_skill(space_id, name, version)

    @server.tool()
    @domain_errors
    async def get_skill_file(
        ctx: Context, space_id: SpaceId, name: Name,
        path: Annotated[str, Field(description="A file of the skill's folder, e.g. SKILL.md")] = "SKILL.md",
    ) -> SkillFile:
        """Read one file of a skill's folder (SKILL.md is the skill itself: front matter and instructions)."""
        return await service_of(ctx).skills.get_skill_file(space_id, name, path)

    @server.tool()
    @domain_errors
    async def skill_history(ctx: Context, space_id: SpaceId, name: Name) -> SkillHistory:
        """Every version of a skill, newest first: who changed it (learner, user, import, rollback), why, the
        session and task a learned change came from, and when. Use diff_skill to see a change."""
        return await service_of(ctx).skills.history(space_id, name)

    @server.tool()
    @domain_errors
    async def diff_skill(
        ctx: Context, space_id: SpaceId, name: Name, from_version: Version,
        to_version: Annotated[int | None, Field(ge=1, description="Default: the latest version")] = None,
    ) -> SkillDiff:
        """A unified diff of a skill's SKILL.md between two versions."""
        return await service_of(ctx).skills.diff(space_id, name, from_version, to_version)

    @server.tool()
    @domain_errors
    async def rollback_skill(
        ctx: Context, space_id: SpaceId, name: Name, version: Version,
        reason: Annotated[str | None, Field(description="Why, for the history")] = None,
    ) -> SkillVersion:
        """Undo changes to a skill: put it back as it was at `version` (its SKILL.md byte for byte). The
        rollback is itself a new version, so it can be undone the same way."""
        return await service_of(ctx).skills.rollback(space_id, name, version, reason)
