"""Token counts stored with each message, per-session totals, and counting a file from before version 4."""

from __future__ import annotations

import json

import pytest

from acontext_mcp import Container, Settings
from acontext_mcp.errors import InvalidArgument, NotFound
from acontext_mcp.formats import openai
from acontext_mcp.formats.editing import RemoveToolResult, TokenLimit
from acontext_mcp.store.engines import open_database
from acontext_mcp.store.migrations import MIGRATIONS, current_version, migrate
from acontext_mcp.tokens import (
    IMAGE_TOKENS,
    EstimateCounter,
    message_tokens,
    open_counter,
)
from tests.support.sessions import tool_session

pytestmark = pytest.mark.anyio

MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "What is in a.py?"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "read_file", "arguments": '{"path": "a.py"}'}},
    ]},
    {"role": "tool", "tool_call_id": "c1", "content": "def main():\n    print('hello')\n" * 20},
    {"role": "assistant", "content": "It prints hello twenty times."},
]


async def test_counts_are_stored_and_summed(service: Container) -> None:
    counter = open_counter("auto")
    session = await service.sessions.create_session()
    stored = [await service.messages.send_message(session.id, message) for message in MESSAGES]
    expected = [message_tokens(openai.to_native(message), counter) for message in MESSAGES]

    counts = await service.messages.get_token_counts(session.id)
    assert [item.tokens for item in counts.items] == expected
    assert [item.id for item in counts.items] == [s.id for s in stored]
    assert [item.role for item in counts.items] == ["system", "user", "assistant", "user", "assistant"]
    assert counts.total == sum(expected) and counts.tokenizer == "tiktoken:cl100k_base"
    assert (await service.sessions.get_session(session.id)).token_count == sum(expected)
    assert (await service.sessions.list_sessions()).items[0].token_count == sum(expected)
    with pytest.raises(NotFound, match="session 'nope' not found"):
        await service.messages.get_token_counts("nope")


async def test_edits_report_tokens_and_leave_storage_alone(service: Container) -> None:
    session = await service.sessions.create_session()
    for message in MESSAGES:
        await service.messages.send_message(session.id, message)
    rows_before = await service.db.fetch_all("SELECT * FROM messages ORDER BY seq")
    plain = await service.messages.get_messages(session.id)
    assert plain.tokens_before == plain.tokens_after == (await service.messages.get_token_counts(session.id)).total

    edited = await service.messages.get_messages(
        session.id,
        edit_strategies=[RemoveToolResult(type="remove_tool_result", keep_recent_n=0, placeholder="(removed)")],
    )
    assert edited.items[3] == {"role": "tool", "tool_call_id": "c1", "content": "(removed)"}
    assert edited.tokens_before == plain.tokens_before and edited.tokens_after < edited.tokens_before
    assert edited.message_ids == plain.message_ids

    rows_after = await service.db.fetch_all("SELECT * FROM messages ORDER BY seq")
    assert [tuple(row) for row in rows_after] == [tuple(row) for row in rows_before]
    assert (await service.messages.get_messages(session.id)).items == MESSAGES


@pytest.mark.parametrize("paging", [{"limit": 2}, {"cursor": "bWVzc2FnZToy"}])
async def test_strategies_do_not_page(service: Container, paging: dict) -> None:
    session = await service.sessions.create_session()
    with pytest.raises(
        InvalidArgument,
        match="edit_strategies apply to the whole session, so they cannot be combined with limit or cursor",
    ):
        await service.messages.get_messages(
            session.id, edit_strategies=[TokenLimit(type="token_limit", limit_tokens=100)], **paging
        )


async def test_a_file_from_before_token_counts_is_counted_on_open(settings: Settings) -> None:
    """A version-1 file (rows without token_count, one image in a blob) is upgraded and counted."""
    natives = [openai.to_native(message) for message in MESSAGES]
    image = {"type": "image", "media_type": "image/png", "blob": {"key": "s1/m6/0", "size": 4, "sha256": "x"}}
    bodies = [native.model_dump(mode="json", exclude_none=True) for native in natives]
    bodies.append({"role": "user", "parts": [{"type": "text", "text": "and this"}, image]})
    (settings.data_dir / "blobs" / "s1" / "m6").mkdir(parents=True)
    (settings.data_dir / "blobs" / "s1" / "m6" / "0").write_bytes(b"\x89PNG")
    async with open_database(settings.database) as db:
        await migrate(db, MIGRATIONS[:1])
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO sessions (id, created_at, updated_at) VALUES ('s1', 't', 't')")
            for seq, body in enumerate(bodies, 1):
                await tx.execute(
                    "INSERT INTO messages (id, session_id, seq, role, source_format, body, created_at) "
                    "VALUES (?, 's1', ?, ?, 'openai', ?, 't')",
                    (f"m{seq}", seq, body["role"], json.dumps(body)),
                )

    async with Container.open(settings.model_copy(update={"tokenizer": "estimate"})) as service:
        assert await current_version(service.db) >= 4
        counts = await service.messages.get_token_counts("s1")
        counter = EstimateCounter()
        expected = [message_tokens(native, counter) for native in natives]
        assert [item.tokens for item in counts.items] == [*expected, 4 + counter.count("and this") + IMAGE_TOKENS]
        assert (await service.sessions.get_session("s1")).token_count == counts.total
        assert (await service.messages.get_messages("s1")).tokens_before == counts.total
        assert counts.tokenizer == "estimate"


async def test_a_large_session_fits_a_budget(service: Container) -> None:
    session = await service.sessions.create_session()
    for message in tool_session(120):
        await service.messages.send_message(session.id, message)
    page = await service.messages.get_messages(
        session.id, "anthropic", edit_strategies=[TokenLimit(type="token_limit", limit_tokens=2000)]
    )
    assert page.tokens_before > 2000 >= page.tokens_after
    assert page.system is not None and page.items[0]["role"] == "user"
