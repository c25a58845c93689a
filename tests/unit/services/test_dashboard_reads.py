"""The read-only service methods the dashboard uses: session search, stored pages, attachments, daily counts."""

from __future__ import annotations

import base64
from datetime import date, timedelta

import pytest

from acontext_mcp import Container, Settings
from acontext_mcp.errors import InvalidArgument, NotFound

pytestmark = pytest.mark.anyio


async def test_search_by_id_prefix_or_metadata_text_pages_with_the_cursor(service: Container) -> None:
    made = [(await service.sessions.create_session(metadata={"user": f"ada_{n}", "n": n})).id for n in range(5)]
    other = await service.sessions.create_session(metadata={"user": "grace", "note": "100% done"})
    first = await service.sessions.list_sessions(limit=3, query="ADA")
    assert [s.id for s in first.items] == made[::-1][:3] and first.has_more
    second = await service.sessions.list_sessions(limit=3, cursor=first.next_cursor, query="ADA")
    assert [s.id for s in second.items] == made[::-1][3:] and not second.has_more
    assert [s.id for s in (await service.sessions.list_sessions(query=other.id[:6])).items] == [other.id]
    assert [s.id for s in (await service.sessions.list_sessions(query="100%")).items] == [other.id]
    # LIKE wildcards are literals: "_" and "%" match only themselves.
    assert [s.id for s in (await service.sessions.list_sessions(query="a_a")).items] == []
    assert len((await service.sessions.list_sessions(query="_")).items) == 5
    assert (await service.sessions.list_sessions(query=other.id[1:7])).items == []  # a prefix, not a substring


async def test_list_native_keeps_blob_references_and_pages_by_seq(service: Container, settings: Settings) -> None:
    session = await service.sessions.create_session()
    raw = b"\x01" * (settings.blob_threshold_bytes + 1)
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                         "data": base64.b64encode(raw).decode()}}
    await service.messages.send_message(session.id, {"role": "user", "content": [image]}, format="anthropic")
    for n in range(3):
        await service.messages.send_message(session.id, {"role": "user", "content": f"m{n}"})
    page = await service.messages.list_native(session.id, limit=2)
    assert [m.seq for m in page.items] == [1, 2] and page.has_more
    assert page.items[0].source_format == "anthropic" and page.items[1].source_format == "openai"
    counted = await service.messages.get_token_counts(session.id)
    assert [m.tokens for m in page.items] == [item.tokens for item in counted.items[:2]]
    assert page.items[0].parts[0]["blob"]["size"] == len(raw) and "data" not in page.items[0].parts[0]
    rest = await service.messages.list_native(session.id, after_seq=2, limit=2)
    assert [m.parts[0]["text"] for m in rest.items] == ["m1", "m2"] and not rest.has_more
    attachment = await service.messages.get_attachment(session.id, page.items[0].id, 0)
    assert (attachment.data, attachment.media_type) == (raw, "image/png")
    with pytest.raises(NotFound):
        await service.messages.list_native("nope")
    with pytest.raises(InvalidArgument):
        await service.messages.list_native(session.id, limit=0)


async def test_get_attachment_reads_inline_bytes_inside_tool_results(service: Container) -> None:
    session = await service.sessions.create_session()
    call = {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "shot", "input": {}}]}
    result = {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t1", "content": [
        {"type": "text", "text": "here"},
        {"type": "image", "source": {"type": "base64", "media_type": "image/gif", "data": "R0lGODlh"}},
    ]}]}
    await service.messages.send_message(session.id, call, format="anthropic")
    stored = await service.messages.send_message(session.id, result, format="anthropic")
    attachment = await service.messages.get_attachment(session.id, stored.id, 0, 1)
    assert (attachment.data, attachment.media_type) == (b"GIF89a", "image/gif")
    for part, item in ((0, 0), (0, 2), (0, None), (1, None), (-1, None), (0, -1)):
        with pytest.raises(NotFound):
            await service.messages.get_attachment(session.id, stored.id, part, item)
    other = await service.sessions.create_session()
    with pytest.raises(NotFound, match="not a message of session"):
        await service.messages.get_attachment(other.id, stored.id, 0, 1)


async def test_daily_activity_counts_each_utc_day_with_zeros_for_quiet_days(service: Container) -> None:
    session = await service.sessions.create_session()
    await service.messages.send_message(session.id, {"role": "user", "content": "a"})
    await service.messages.send_message(session.id, {"role": "user", "content": "b"})
    today = date.fromisoformat(session.created_at[:10])
    days = (await service.metrics.daily_activity(days=3, today=today)).days
    assert [(d.day, d.sessions, d.messages) for d in days] == [
        ((today - timedelta(days=2)).isoformat(), 0, 0), ((today - timedelta(days=1)).isoformat(), 0, 0),
        (today.isoformat(), 1, 2),
    ]
    earlier = (await service.metrics.daily_activity(days=1, today=today - timedelta(days=1))).days
    assert [(d.sessions, d.messages) for d in earlier] == [(0, 0)]  # later days are not counted
    for bad in (0, 367):
        with pytest.raises(InvalidArgument, match="days must be between 1 and 366"):
            await service.metrics.daily_activity(days=bad)


async def test_task_outcomes_count_finished_tasks_by_the_day_they_were_last_updated(service: Container) -> None:
    from datetime import UTC, datetime

    from acontext_mcp.demo import HISTORY, load_demo

    at = datetime(2026, 3, 10, 12, tzinfo=UTC)
    demo = await load_demo(service, today=at)
    learner = await service.learner.status()  # the demo's SOP counts as learned from task 1: nothing queued
    assert (learner.queue_depth, learner.learned) == (0, 1)
    [item] = (await service.learner.list_items(demo.space_id, None)).items
    assert item.block_id == demo.sop_block_id
    days = await service.metrics.task_outcomes(days=7, today=at.date())
    expected = [(s.count("success"), s.count("failed")) for _, s in HISTORY] + [(1, 0)]  # today: the demo's task 1
    assert [(d.success, d.failed) for d in days] == expected
    assert days[-1].day == "2026-03-10" and days[0].success_rate == 0.5
    assert (await service.metrics.task_outcomes(days=1, today=at.date() - timedelta(days=7)))[0].success_rate is None
    tokens = await service.metrics.llm_tokens(days=2)
    assert [(d.calls, d.prompt_tokens, d.completion_tokens) for d in tokens] == [(0, 0, 0), (0, 0, 0)]
    for method in (service.metrics.task_outcomes, service.metrics.llm_tokens):
        with pytest.raises(InvalidArgument, match="days must be between 1 and 366"):
            await method(days=0)
