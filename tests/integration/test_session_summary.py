"""get_session_summary: the observer's tasks as compact text, in place of the full history."""

from __future__ import annotations

import pytest
from mcp import Client

from acontext_mcp import Settings
from acontext_mcp.server import build_server
from tests.fakes import seed
from tests.fakes.openai_server import ScriptedOpenAI
from tests.integration.test_observer import llm_settings, send
from tests.support.mcp import call, call_error

pytestmark = pytest.mark.anyio


async def test_summary_of_the_seed_session(settings: Settings) -> None:
    with ScriptedOpenAI() as fake:
        async with Client(build_server(llm_settings(settings, fake.base_url))) as client:
            session_id = (await call(client, "create_session"))["id"]
            ids = [await send(client, session_id, message) for message in seed.MESSAGES]
            for turn in seed.script(ids):
                fake.reply(tool_calls=turn)
            await call(client, "flush", session_id=session_id)
            summary = await call(client, "get_session_summary", session_id=session_id)

    text = summary["summary"]
    assert text.splitlines()[0] == f"Session {session_id}: 8 messages, 3 tasks (1 success, 2 pending)."
    assert f"Task 1 [success]: {seed.TASKS[0]}" in text
    assert all(f"  - done: {progress}" in text for progress in seed.PROGRESSES)
    assert f"  - user wants: {seed.PREFERENCE}" in text
    assert f"Task 3 [pending]: {seed.TASKS[2]}" in text
    assert summary["task_count"] == 3
    assert 0 < summary["summary_tokens"] < summary["session_tokens"] / 20  # far smaller than the history


async def test_summary_says_what_is_missing(client: Client) -> None:
    """No LLM configured: no tasks, and the summary says why rather than failing."""
    session_id = (await call(client, "create_session"))["id"]
    await call(client, "send_message", session_id=session_id, message={"role": "user", "content": "hello"})
    summary = await call(client, "get_session_summary", session_id=session_id)
    assert summary["task_count"] == 0
    assert "1 newer messages are not summarised yet" in summary["summary"]
    assert "observer disabled" in summary["summary"]
    assert "session 'nope' not found" in await call_error(client, "get_session_summary", session_id="nope")
