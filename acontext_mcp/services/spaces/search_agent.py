"""Agentic experience search: a language model explores a space with tools and answers from its blocks.

Tools: `list_space(path)`, `read_page(path)`, `search(query)` (the fast index search) and
`answer(block_ids, final_answer)`, which ends the run; at most `max_steps` model calls. When the
model fails or runs out of steps, the caller gets the fast search with a note saying why.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pydantic import Field

from acontext_mcp.errors import InvalidArgument, LLMError
from acontext_mcp.formats.markdown import render_page
from acontext_mcp.llm.tool_loop import Tool, ToolArgs, ToolLoop
from acontext_mcp.services.spaces.index import SearchIndex, check_query
from acontext_mcp.services.spaces.models import CitedBlock, ExperienceSearchResult
from acontext_mcp.services.spaces.service import SpaceService

log = logging.getLogger(__name__)

PURPOSE = "agentic_search"
MAX_ANSWER_CHARS = 4000
NUDGE = "Call one of the tools; finish with answer(block_ids, final_answer)."
SYSTEM_PROMPT = """\
You find what a space (a tree of folders and pages holding SOPs and notes) knows about a request.
Use search, list_space and read_page to look, then call answer with the ids of the blocks that
help (best first; [ids] are shown by every tool) and a short final_answer that tells the agent
what to do, drawn from those blocks. If nothing fits, answer with no block ids and say so."""


class ListSpace(ToolArgs):
    """List the folders, pages and blocks under a path ("/" is the root)."""

    path: str = Field(default="/", description='A folder or page path such as "/github"')


class ReadPage(ToolArgs):
    """Read a page: its SOPs (with tool steps) and notes, each with its block id."""

    path: str = Field(description='A page path such as "/github/GTM"')


class Search(ToolArgs):
    """Search the space's index for blocks matching a query."""

    query: str


class Answer(ToolArgs):
    """Finish: the blocks that answer the request (best first) and a short answer drawn from them."""

    block_ids: list[str] = Field(description="Ids of the helpful blocks, best first; may be empty")
    final_answer: str = Field(description="What the agent should do, in a few sentences")


@dataclass
class _Answer:
    block_ids: list[str]
    final_answer: str


class SearchAgent:
    def __init__(self, loop: ToolLoop, spaces: SpaceService, index: SearchIndex, limit_chars: int = 6000) -> None:
        self._loop = loop
        self._spaces = spaces
        self._index = index
        self._limit_chars = limit_chars

    async def search(self, space_id: str, query: str, limit: int) -> ExperienceSearchResult:
        """Run the loop; fall back to the fast search (with a note) if it fails or runs out of steps."""
        answered: list[_Answer] = []

        async def list_space(args: ListSpace) -> str:
            tree = await self._spaces.list_space(space_id, args.path)
            lines = [f"{'  ' * e.depth}{e.type} [{e.id}] {e.title}" + (f" ({e.path})" if e.type in ("folder", "page")
                                                                         else "") for e in tree.entries]
            return self._cut("ok:\n" + ("\n".join(lines) or "(empty)"))

        async def read_page(args: ReadPage) -> str:
            node, children = await self._spaces.read_path(space_id, args.path)
            if node is None or node.type != "page":
                raise InvalidArgument(f"{args.path!r} is not a page; list_space shows the pages")
            for child in children:
                child.title = f"{child.title} [{child.id}]"
            return self._cut("ok:\n" + render_page(node, children))

        async def search(args: Search) -> str:
            found = await self._index.search(space_id, check_query(args.query, limit), limit)
            lines = [f"{b.type} [{b.block_id}] on {b.path}: {b.title}" for b in found]
            return self._cut("ok:\n" + ("\n".join(lines) or "(no matches)"))

        async def answer(args: Answer) -> str:
            ids = list(dict.fromkeys(args.block_ids))
            blocks = await self._spaces.blocks_in(space_id, ids)
            unknown = [i for i in ids if i not in blocks]
            if unknown:
                raise InvalidArgument(f"unknown block ids {unknown}; cite ids shown by the tools")
            if not args.final_answer.strip():
                raise InvalidArgument("final_answer is empty; say what the agent should do")
            answered.append(_Answer(ids, args.final_answer.strip()[:MAX_ANSWER_CHARS]))
            return "ok: answered"

        tools = {
            "list_space": Tool(ListSpace, list_space),
            "read_page": Tool(ReadPage, read_page),
            "search": Tool(Search, search),
            "answer": Tool(Answer, answer),
        }
        try:
            run = await self._loop.run(PURPOSE, SYSTEM_PROMPT, f"Request: {query}", tools, final={"answer"},
                                       nudge=NUDGE)
            why = None if run.finished else f"the model did not answer within {run.steps} steps"
        except LLMError as exc:
            why = f"the LLM failed ({exc})"
        if why is not None:
            log.warning("agentic search fell back to fast: %s", why)
            fast = await self._index.search(space_id, query, limit)
            return ExperienceSearchResult(cited_blocks=fast, note=f"agentic search fell back to fast search: {why}")
        result = answered[-1]
        blocks = await self._spaces.blocks_in(space_id, result.block_ids)
        cited = [
            CitedBlock(block_id=b.id, type=b.type, path=b.path, title=b.title, data=b.data,
                       score=float(len(result.block_ids) - rank))
            for rank, block_id in enumerate(result.block_ids[:limit])
            if (b := blocks.get(block_id)) is not None
        ]
        return ExperienceSearchResult(cited_blocks=cited, final_answer=result.final_answer)

    def _cut(self, text: str) -> str:
        return text if len(text) <= self._limit_chars else text[: self._limit_chars] + "\n… (cut; list a deeper path)"
