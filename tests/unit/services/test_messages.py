"""MessageService on a real SQLite file and blob directory: storage, paging, limits, atomicity."""

from __future__ import annotations

import base64
import gc
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from acontext_mcp import Container, Settings
from acontext_mcp.errors import (
    InvalidArgument,
    InvalidMessage,
    NotFound,
    PayloadTooLarge,
)

pytestmark = pytest.mark.anyio


def png_of(size: int) -> tuple[bytes, str]:
    raw = bytes(range(256)) * (size // 256) + b"\x00" * (size % 256)
    return raw, base64.b64encode(raw).decode()


async def stored_bodies(service: Container, session_id: str) -> list[dict[str, Any]]:
    rows = await service.db.fetch_all("SELECT body FROM messages WHERE session_id = ? ORDER BY seq", (session_id,))
    return [json.loads(row["body"]) for row in rows]


def blob_files(settings: Settings) -> list[Path]:
    """Blob files on disk (the default blob store is <data_dir>/blobs)."""
    root = settings.data_dir / "blobs"
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def test_large_binary_parts_go_to_blobs_and_come_back(service: Container, settings: Settings) -> None:
    session = await service.sessions.create_session()
    raw, encoded = png_of(settings.blob_threshold_bytes + 1)
    _, small = png_of(100)
    message = {
        "role": "user",
        "content": [
            {"type": "text", "text": "two pictures"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{encoded}"}},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{small}"}},
        ],
    }
    await service.messages.send_message(session.id, message)

    body = (await stored_bodies(service, session.id))[0]
    big, tiny = body["parts"][1], body["parts"][2]
    assert "data" not in big and big["blob"]["size"] == len(raw)
    assert big["blob"]["sha256"] == hashlib.sha256(raw).hexdigest()
    assert tiny["data"] == small and "blob" not in tiny
    [blob] = blob_files(settings)
    assert blob.read_bytes() == raw

    page = await service.messages.get_messages(session.id, "openai")
    assert page.items == [message]
    anthropic = await service.messages.get_messages(session.id, "anthropic")
    assert anthropic.items[0]["content"][1]["source"] == {"type": "base64", "media_type": "image/png", "data": encoded}


async def test_blobs_inside_tool_results(service: Container, settings: Settings) -> None:
    session = await service.sessions.create_session()
    raw, encoded = png_of(settings.blob_threshold_bytes * 2)
    await service.messages.send_message(
        session.id,
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "shot", "input": {}}]},
        "anthropic",
    )
    result = {
        "role": "user",
        "content": [{
            "type": "tool_result",
            "tool_use_id": "t1",
            "content": [{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": encoded}}],
        }],
    }
    await service.messages.send_message(session.id, result, "anthropic")
    assert "blob" in (await stored_bodies(service, session.id))[1]["parts"][0]["content"][0]
    assert blob_files(settings)[0].read_bytes() == raw
    assert (await service.messages.get_messages(session.id, "anthropic")).items[1] == result


async def test_a_refused_message_leaves_no_record_and_no_blob(service: Container, settings: Settings) -> None:
    """The tool-result check runs after the blob is written; the blob must go with the failed record."""
    session = await service.sessions.create_session()
    _, encoded = png_of(settings.blob_threshold_bytes + 10)
    orphan = {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "never-made",
             "content": [{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": encoded}}]},
        ],
    }
    with pytest.raises(InvalidMessage) as error:
        await service.messages.send_message(session.id, orphan, "anthropic")
    assert error.value.field == "content.0.tool_use_id"
    assert await stored_bodies(service, session.id) == []
    assert blob_files(settings) == []
    assert (await service.sessions.get_session(session.id)).message_count == 0


@pytest.mark.parametrize(
    ("message", "fmt", "field"),
    [
        ({"content": "no role"}, "openai", "role"),
        ({"role": "wizard", "content": "x"}, "openai", "role"),
        ({"role": "user", "content": [{"type": "hologram"}]}, "openai", "content.0.type"),
        ({"role": "tool", "tool_call_id": "nope", "content": "42"}, "openai", "tool_call_id"),
        ({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "x", "content": "1"}]},
         "anthropic", "content.0.tool_use_id"),
        ({"role": "user", "content": [{"type": "image", "source": {"type": "base64"}}]},
         "anthropic", "content.0.source"),
    ],
)
async def test_malformed_messages_name_their_field(
    service: Container, message: dict[str, Any], fmt: str, field: str
) -> None:
    session = await service.sessions.create_session()
    with pytest.raises(InvalidMessage) as error:
        await service.messages.send_message(session.id, message, fmt)
    assert error.value.field.startswith(field), str(error.value)
    assert await stored_bodies(service, session.id) == []


async def test_unknown_format_and_session(service: Container) -> None:
    session = await service.sessions.create_session()
    with pytest.raises(InvalidArgument, match="format 'cohere'"):
        await service.messages.send_message(session.id, {"role": "user", "content": "x"}, "cohere")
    with pytest.raises(NotFound, match="session 'nope' not found"):
        await service.messages.send_message("nope", {"role": "user", "content": "x"})
    with pytest.raises(InvalidArgument, match="format 'cohere'"):
        await service.messages.get_messages(session.id, "cohere")


async def test_size_limit(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, max_message_bytes=1000)
    async with Container.open(settings) as service:
        session = await service.sessions.create_session()
        with pytest.raises(PayloadTooLarge) as error:
            await service.messages.send_message(session.id, {"role": "user", "content": "x" * 1000})
        assert "ACONTEXT_MAX_MESSAGE_BYTES" in str(error.value)
        assert await stored_bodies(service, session.id) == []
        await service.messages.send_message(session.id, {"role": "user", "content": "x" * 900})


async def test_default_size_limit_is_8_mib() -> None:
    assert Settings().max_message_bytes == 8 * 1024 * 1024
    assert Settings().blob_threshold_bytes == 64 * 1024


async def test_paging_walks_every_message_once_in_order(service: Container) -> None:
    session = await service.sessions.create_session()
    sent = [await service.messages.send_message(session.id, {"role": "user", "content": f"m{i}"}) for i in range(7)]
    seen, cursor = [], None
    while True:
        page = await service.messages.get_messages(session.id, limit=3, cursor=cursor)
        assert len(page.items) == (3 if page.has_more else 1)
        seen += page.message_ids
        if not page.has_more:
            break
        cursor = page.next_cursor
    assert seen == [s.id for s in sent]
    assert [s.seq for s in sent] == list(range(1, 8))
    everything = await service.messages.get_messages(session.id)
    assert [item["content"] for item in everything.items] == [f"m{i}" for i in range(7)]
    assert everything.has_more is False and everything.next_cursor is None


@pytest.mark.parametrize(("limit", "cursor"), [(0, None), (1001, None), (None, "garbage"), (None, "c2Vzc2lvbjox")])
async def test_bad_paging(service: Container, limit: int | None, cursor: str | None) -> None:
    session = await service.sessions.create_session()
    with pytest.raises(InvalidArgument):
        await service.messages.get_messages(session.id, limit=limit, cursor=cursor)


async def test_openai_tool_round_trip_is_readable_as_anthropic(service: Container) -> None:
    session = await service.sessions.create_session()
    call = {"id": "call_1", "type": "function", "function": {"name": "add", "arguments": '{"a": 1, "b": 2}'}}
    await service.messages.send_message(session.id, {"role": "system", "content": "be brief"})
    await service.messages.send_message(session.id, {"role": "user", "content": "1+2?"})
    await service.messages.send_message(session.id, {"role": "assistant", "content": None, "tool_calls": [call]})
    await service.messages.send_message(session.id, {"role": "tool", "tool_call_id": "call_1", "content": "3"})
    page = await service.messages.get_messages(session.id, "anthropic")
    assert page.system == "be brief"
    assert page.items[1]["content"] == [{"type": "tool_use", "id": "call_1", "name": "add", "input": {"a": 1, "b": 2}}]
    assert page.items[2]["content"][0]["type"] == "tool_result"
    assert page.items[2]["content"][0]["tool_use_id"] == "call_1"
    assert len(page.message_ids) == len(page.items)


async def test_delete_session_removes_messages_and_blobs(service: Container, settings: Settings) -> None:
    session = await service.sessions.create_session()
    _, encoded = png_of(settings.blob_threshold_bytes + 1)
    await service.messages.send_message(
        session.id,
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": f"data:image/png;base64,{encoded}"}}]},
    )
    assert blob_files(settings)
    await service.sessions.delete_session(session.id)
    assert await service.db.fetch_all("SELECT id FROM messages") == []
    assert await service.db.fetch_all("SELECT call_id FROM message_tool_calls") == []
    assert blob_files(settings) == []


async def test_reading_a_huge_message_runs_no_full_garbage_collection(tmp_path: Path) -> None:
    """A full collection holds the GIL: over the objects of a huge message each one stalled every tenant's event loop
    for 0.1-0.3 s. The collector waits while such a message is decoded off the loop, and is back on after."""
    parts = 60_000
    settings = Settings(data_dir=tmp_path, max_message_parts=parts, max_message_bytes=16 * 1024 * 1024)
    full: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "stop" and info["generation"] == 2:
            full.append(1)

    async with Container.open(settings, background=False) as service:
        session = (await service.sessions.create_session()).id
        message = {"role": "user", "content": [{"type": "text", "text": "a"}] * parts}
        await service.messages.send_message(session, message)
        gc.callbacks.append(count)
        try:
            page = await service.messages.get_messages(session)
        finally:
            gc.callbacks.remove(count)
        assert len(page.items[0]["content"]) == parts
        assert full == []
        assert gc.isenabled()

        gc.disable()  # the collector stays as its owner left it
        try:
            await service.messages.get_messages(session)
            assert not gc.isenabled()
        finally:
            gc.enable()
