"""Experience search: the blocks of a space that fit a request, fast (the index) or agentic (an LLM reads the space)."""

from __future__ import annotations

from collections.abc import Sequence

from acontext_mcp.errors import InvalidArgument
from acontext_mcp.services.skills.history import page_of_each, skill_names
from acontext_mcp.services.spaces.index import SearchIndex, check_query
from acontext_mcp.services.spaces.models import (
    SEARCH_MODES,
    CitedBlock,
    CitedSkill,
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
            result = await self._agent.search(space_id, query, limit)
        else:
            cited = await self._index.search(space_id, query, limit, types)
            result = ExperienceSearchResult(cited_blocks=cited,
                                            note=AGENTIC_FALLBACK_NOTE if mode == "agentic" else None)
        result.skills = await self._skills_of(space_id, result.cited_blocks)
        return result

    async def _skills_of(self, space_id: str, cited: Sequence[CitedBlock]) -> list[CitedSkill]:
        """The skills (pages) the cited blocks are or sit on, in the order first cited."""
        if not cited:
            return []
        page_of = await page_of_each(self._db, [block.block_id for block in cited])
        if not page_of:
            return []
        names = await skill_names(self._db, space_id)
        found: dict[str, CitedSkill] = {}
        for block in cited:
            page_id = page_of.get(block.block_id)
            if page_id is not None and page_id in names and page_id not in found:
                name = names[page_id]
                found[page_id] = CitedSkill(name=name, path=block.path, uri=f"skill://{space_id}/{name}/SKILL.md")
        return list(found.values())

    async def rebuild(self, space_id: str | None = None, all_projects: bool = False) -> IndexRebuilt:
        """`SearchIndex.rebuild`."""
        return await self._index.rebuild(space_id, all_projects)
