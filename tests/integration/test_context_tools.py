"""Context tools through an in-process MCP client: edit strategies, token counts, and their errors."""

from __future__ import annotations

from typing import Any

import pytest
from mcp import Client

from tests.support.mcp import call, call_error
from tests.support.rules import anthropic_problems, openai_problems
from tests.support.sessions import tool_session

pytestmark = pytest.mark.anyio

STRATEGIES = [
    {"type": "remove_tool_result", "keep_recent_n": 3, "placeholder": "(old output)"},
    {"type": "remove_tool_call_params", "keep_recent_n": 3},
    {"type": "token_limit", "limit_tokens": 3000},
]


async def stored_session(client: Client, n: int = 150) -> tuple[str, list[dict[str, Any]]]:
    session = await call(client, "create_session")
    messages = tool_session(n)
    for message in messages:
        await call(client, "send_message", session_id=session["id"], message=message)
    return session["id"], messages


async def test_strategies_fit_the_budget_in_both_formats_and_store_nothing(client: Client) -> None:
    session_id, messages = await stored_session(client)
    counts = await call(client, "get_token_counts", session_id=session_id)
    ids = [item["id"] for item in counts["items"]]
    assert len(ids) == len(messages) and counts["total"] > 3000

    for fmt, problems in [("openai", openai_problems), ("anthropic", anthropic_problems)]:
        page = await call(client, "get_messages", session_id=session_id, format=fmt, edit_strategies=STRATEGIES)
        assert page["tokens_before"] == counts["total"] and page["tokens_after"] <= 3000
        assert problems(page["items"]) == []
        assert page["message_ids"] == sorted(set(page["message_ids"]), key=ids.index)
        assert page["message_ids"][-1] == ids[-1] and page["has_more"] is False
    assert page["system"] == messages[0]["content"]

    openai_page = await call(client, "get_messages", session_id=session_id, edit_strategies=STRATEGIES)
    assert openai_page["items"][0] == messages[0]
    old_results = [item for item in openai_page["items"] if item["role"] == "tool"][:-3]
    assert old_results and all(item["content"] == "(old output)" for item in old_results)

    assert (await call(client, "get_messages", session_id=session_id))["items"] == messages
    assert await call(client, "get_token_counts", session_id=session_id) == counts


async def test_token_counts_and_session_totals(client: Client) -> None:
    session_id, _ = await stored_session(client, 12)
    counts = await call(client, "get_token_counts", session_id=session_id)
    assert counts["total"] == sum(item["tokens"] for item in counts["items"]) > 0
    assert counts["tokenizer"] == "tiktoken:cl100k_base"
    assert (await call(client, "get_session", session_id=session_id))["token_count"] == counts["total"]
    assert "session 'missing' not found" in await call_error(client, "get_token_counts", session_id="missing")


@pytest.mark.parametrize(
    ("strategies", "paging", "expected"),
    [
        ([{"type": "summarize"}], {}, "does not match any of the expected tags: 'remove_tool_result'"),
        ([{"type": "remove_tool_result", "keep_recent_n": -1}], {}, "greater than or equal to 0"),
        ([{"type": "token_limit", "limit_tokens": -10}], {}, "greater than or equal to 1"),
        ([{"type": "token_limit", "limit_tokens": 10}], {}, "limit_tokens 10 is smaller than the system message"),
        ([{"type": "token_limit", "limit_tokens": 5000}], {"limit": 5}, "cannot be combined with limit or cursor"),
    ],
)
async def test_bad_strategies_get_clear_errors(client: Client, strategies: list, paging: dict, expected: str) -> None:
    session_id, _ = await stored_session(client, 12)
    before = await call(client, "get_messages", session_id=session_id)
    error = await call_error(client, "get_messages", session_id=session_id, edit_strategies=strategies, **paging)
    assert expected in error
    assert await call(client, "get_messages", session_id=session_id) == before


async def test_a_limit_the_newest_turn_cannot_fit_is_refused(client: Client) -> None:
    session_id, _ = await stored_session(client, 12)
    system = (await call(client, "get_token_counts", session_id=session_id))["items"][0]["tokens"]
    strategies = [{"type": "middle_out", "limit_tokens": system + 1}]
    error = await call_error(client, "get_messages", session_id=session_id, edit_strategies=strategies)
    assert f"limit_tokens {system + 1} is too small: the system message ({system} tokens) and the newest turn" in error
    assert "put remove_tool_result before the limit strategy" in error
