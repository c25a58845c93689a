"""A record of every language-model call: what it was for, which model, the tokens it cost."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from acontext_mcp.llm import ChatProvider, ChatReply
from acontext_mcp.projects import current_project
from acontext_mcp.services.models import TokenUsage
from acontext_mcp.store.database import Database, utc_now


class LlmUsage:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def chat(
        self, provider: ChatProvider, purpose: str, messages: list[dict[str, Any]], tools: list[dict[str, Any]]
    ) -> ChatReply:
        """`provider.chat`, recorded in `llm_calls` whether it answers or raises."""
        try:
            reply = await provider.chat(messages, tools)
        except Exception as exc:
            await self._record(purpose, provider.model, 0, 0, 0, str(exc))
            raise
        await self._record(purpose, reply.model, reply.prompt_tokens, reply.completion_tokens, reply.cached_tokens,
                           None)
        return reply

    async def totals(self, purposes: Sequence[str] | None = None) -> TokenUsage:
        """The current project's calls and tokens so far: every call, or only those made for `purposes`."""
        where = f"AND purpose IN ({', '.join('?' * len(purposes))})" if purposes else ""
        row = await self._db.fetch_one(
            "SELECT COUNT(*) AS calls, COALESCE(SUM(1 - ok), 0) AS failed, COALESCE(SUM(prompt_tokens), 0) AS prompt, "
            "COALESCE(SUM(cached_tokens), 0) AS cached, "
            f"COALESCE(SUM(completion_tokens), 0) AS completion FROM llm_calls WHERE project_id = ? {where}",
            (current_project(), *(purposes or ())),
        )
        assert row is not None
        return TokenUsage(
            calls=row["calls"],
            failed_calls=row["failed"],
            prompt_tokens=row["prompt"],
            completion_tokens=row["completion"],
            cached_prompt_tokens=row["cached"],
        )

    async def _record(
        self, purpose: str, model: str, prompt: int, completion: int, cached: int, error: str | None
    ) -> None:
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO llm_calls (purpose, model, prompt_tokens, completion_tokens, cached_tokens, ok, error, "
                "created_at, project_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (purpose, model, prompt, completion, cached, error is None, error, utc_now(), current_project()),
            )
