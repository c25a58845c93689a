"""Tools: experience_search, rebuild_search_index."""

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from pydantic import Field

from acontext_mcp.glue import domain_errors, service_of
from acontext_mcp.services.spaces.models import (
    MAX_QUERY_CHARS,
    MAX_RESULTS,
    ExperienceSearchResult,
    IndexRebuilt,
    SearchMode,
)


def register(server: MCPServer) -> None:
    @server.tool()
    @domain_errors
    async def experience_search(
        ctx: Context,
        space_id: Annotated[str, Field(description="The space to search")],
        query: Annotated[str, Field(description=f"The task at hand, in plain words (up to {MAX_QUERY_CHARS} "
                                                "characters)")],
        mode: Annotated[SearchMode, Field(description="fast: the search index; agentic: an LLM "
                                                                      "explores the space and writes final_answer "
                                                                      "(slower; falls back to fast, with a note, "
                                                                      "without an LLM or if it fails)")] = "fast",
        limit: Annotated[int, Field(ge=1, le=MAX_RESULTS, description="Most blocks to return")] = 5,
    ) -> ExperienceSearchResult:
        """Find what a space has learned that fits a task: SOPs (tool steps that worked before), notes and
        pages, best first. Call it before starting a task that may have been done before. In agentic mode
        the blocks are the ones the model cited and final_answer says what to do; `note` tells when a
        fallback to fast search happened, and why."""
        return await service_of(ctx).search.experience_search(space_id, query, mode=mode, limit=limit)

    @server.tool()
    @domain_errors
    async def rebuild_search_index(
        ctx: Context,
        space_id: Annotated[str | None, Field(description="Rebuild one space only; omit for every space")] = None,
    ) -> IndexRebuilt:
        """Admin: rebuild the search index from the stored blocks (they are the source of truth). Use it
        if experience_search seems to miss blocks that list_space shows."""
        return await service_of(ctx).search.rebuild(space_id)
