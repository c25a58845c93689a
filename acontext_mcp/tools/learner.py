"""Tools: the skill learner (get_learner_status, flush_learning) and confirmation of what it learned
(list_pending_experiences, confirm_experience)."""

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from acontext_mcp.glue import domain_errors, service_of
from acontext_mcp.services.models import (
    LearnerStatus,
    LearningItems,
    PendingExperience,
    PendingExperienceList,
)
from acontext_mcp.tools.spaces import SpaceId


def register(server: MCPServer) -> None:
    @server.tool()
    @domain_errors
    async def get_learner_status(ctx: Context) -> LearnerStatus:
        """Whether the background skill learner is on (it needs an LLM), how many succeeded tasks wait to be
        learned, which are retrying or failed (with their errors), how many were learned, skipped as too
        simple, or wait for confirm_experience, and the LLM tokens it has spent."""
        return await service_of(ctx).learner.status()

    @server.tool()
    @domain_errors
    async def flush_learning(
        ctx: Context,
        space_id: Annotated[str | None, Field(description="Learn the queued tasks of this space...")] = None,
        session_id: Annotated[str | None, Field(description="...or of this session (give exactly one)")] = None,
        timeout_s: Annotated[float, Field(gt=0, le=600, description="Give up waiting after this many seconds")] = 60,
    ) -> LearningItems:
        """Make the learner process the succeeded tasks of a space or session now, wait until it has, and
        return every learning item there: learned (block_id of the SOP), skipped (skip_reason) or pending
        (experience_id, for confirm_experience). Tasks are learned when they succeed in a session attached
        to a space (create_session(space_id=...)); call flush first so the observer has marked them.
        Retries items the learner gave up on; fails clearly without an LLM, when an item fails again, or
        on timeout."""
        return await service_of(ctx).learner.flush(space_id, session_id, timeout_s)

    @server.tool()
    @domain_errors
    async def list_pending_experiences(ctx: Context, space_id: SpaceId) -> PendingExperienceList:
        """SOPs the learner extracted for a space whose setting confirm_before_learning is on, waiting for
        a decision: each with its SOP and the page it will go on (or the SOP it will merge into).
        Accept or reject each with confirm_experience."""
        return await service_of(ctx).learner.list_pending(space_id)

    @server.tool()
    @domain_errors
    async def confirm_experience(
        ctx: Context,
        space_id: SpaceId,
        experience_id: Annotated[str, Field(description="An id from list_pending_experiences")],
        accept: Annotated[bool, Field(description="true adds the SOP to the space; false discards it")],
    ) -> PendingExperience:
        """Accept a pending experience (its SOP is added on its planned page, creating folders and the
        page if needed, or merged into its near-duplicate) or reject it (nothing is added). Each
        experience is decided once."""
        return await service_of(ctx).learner.confirm(space_id, experience_id, accept)
