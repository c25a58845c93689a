"""Experience search: the blocks of a space that fit a request, fast (the index) or agentic (an LLM reads the space)."""

from __future__ import annotations

from collections.abc import Sequence

from acontext_mcp.errors import InvalidArgument
from acontext_mcp.services.spaces.index import SearchIndex, check_query
from acontext_mcp.services.spaces.models import (
    SEARCH_MODES,
    ExperienceSearchResult,
    IndexRebuilt,
)
from acontext_mcp.services.spaces.search_agent import SearchAgent
from acontext_mcp.services.spaces.tree import fetch_space
from acontext_mcp.store.database import Database

AGENTIC_FALLBACK_NOTE = (
    "agentic search needs an LLM and none is configured, so this is the fast (index) search instead"
)


class SearchService:
    """`experience_search` over a `SearchIndex`; `agent` (None without an LLM) answers the agentic mode."""

    def __init__(self, db: Database, index: SearchIndex, agent: SearchAgent | None = None) -> None:
        self._db = db
        self._index = index
        self._agent = agent

    async def experience_search(
        self,
        space_id: str,
        query: str,
        mode: str = "fast",
        limit: int = 5,
        types: Sequence[str] | None = None,
    ) -> ExperienceSearchResult:
        """The blocks of a space most relevant to `query`, best first (only `types` if given).

        Raises `NotFound` (space), `InvalidArgument` (empty query, bad mode or limit,
        or a query over MAX_QUERY_CHARS), `SearchUnavailable` (the index or embedder failed).
        """
        if mode not in SEARCH_MODES:
            raise InvalidArgument(f"unknown search mode {mode!r}; use fast or agentic")
        query = check_query(query, limit)
        await fetch_space(self._db, space_id)
        if mode == "agentic" and self._agent is not None:
            return await self._agent.search(space_id, query, limit)
        cited = await self._index.search(space_id, query, limit, types)
        return ExperienceSearchResult(cited_blocks=cited, note=AGENTIC_FALLBACK_NOTE if mode == "agentic" else None)


    async def rebuild(self, space_id: str | None = None, all_projects: bool = False) -> IndexRebuilt:
        """`SearchIndex.rebuild`."""
        return await self._index.rebuild(space_id, all_projects)
