"""The observer end to end: MCP tools, the queue, the task agent and the real `openai` client
against a scripted OpenAI-compatible server."""

from __future__ import annotations

import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from typing import Any

import anyio
import pytest
from mcp import Client

from acontext_mcp import Settings
from acontext_mcp.server import build_server
from tests.fakes import seed
from tests.fakes.openai_server import Reply, ScriptedOpenAI, assistant
from tests.support.mcp import call, call_error, eventually
from tests.support.servers import free_port

pytestmark = pytest.mark.anyio


def llm_settings(settings: Settings, base_url: str, **overrides: Any) -> Settings:
    """`settings`' stores with the observer on, no automatic batches (flush or override), fast retries."""
    options: dict[str, Any] = {
        "llm_max_retries": 0, "observer_idle_s": 1000, "observer_batch": 100, "observer_retry_base_s": 0.05,
        "observer_max_attempts": 3, **overrides,
    }
    return Settings(data_dir=settings.data_dir, database_url=settings.database_url, openai_base_url=base_url,
                    **options)


@pytest.fixture
def fake() -> Iterator[ScriptedOpenAI]:
    with ScriptedOpenAI() as server:
        yield server


@pytest.fixture
async def observed(settings: Settings, fake: ScriptedOpenAI) -> AsyncIterator[Client]:
    async with Client(build_server(llm_settings(settings, fake.base_url))) as connected:
        yield connected


async def new_session(client: Client, *texts: str) -> tuple[str, list[str]]:
    session_id = (await call(client, "create_session"))["id"]
    ids = [await send(client, session_id, {"role": "user", "content": text}) for text in texts]
    return session_id, ids


async def send(client: Client, session_id: str, message: dict[str, Any]) -> str:
    return (await call(client, "send_message", session_id=session_id, message=message))["id"]


def user_prompt(request: dict[str, Any]) -> str:
    return next(m["content"] for m in request["messages"] if m["role"] == "user")


def one_task_each(description: Callable[[str], str]) -> Callable[[dict[str, Any]], Reply]:
    """A responder: insert one task named from the prompt, then finish once the tool answer is back."""

    def respond(request: dict[str, Any]) -> Reply:
        if request["messages"][-1]["role"] == "tool":
            return assistant(tool_calls=[("finish", {})])
        return assistant(tool_calls=[("insert_task", {"after_task_order": 0, "task_description": description(
            user_prompt(request))})])

    return respond


def strip_ids(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in item.items() if k not in ("id", "message_ids", "created_at", "updated_at")}
            for item in items]


async def test_scripted_tool_calls_build_the_task_list(observed: Client, fake: ScriptedOpenAI) -> None:
    session_id = (await call(observed, "create_session"))["id"]
    ids = [await send(observed, session_id, message) for message in seed.MESSAGES]
    for turn in seed.script(ids):
        fake.reply(tool_calls=turn)

    flushed = await call(observed, "flush", session_id=session_id)

    assert strip_ids(flushed["items"]) == seed.EXPECTED
    assert flushed["items"][0]["message_ids"] == ids[:7]
    assert flushed["observer"] == {"enabled": True, "status": "idle", "pending_messages": 0, "attempts": 0,
                                   "last_error": None, "note": None}
    assert await call(observed, "get_tasks", session_id=session_id) == flushed
    resource = await observed.read_resource(f"session://{session_id}/tasks")
    assert json.loads(resource.contents[0].text) == flushed  # type: ignore[union-attr]

    first = fake.requests[0]
    assert first["messages"][0]["role"] == "system" and "first person" in first["messages"][0]["content"]
    prompt = user_prompt(first)
    assert len(prompt) < 4000  # 150 KB of messages, compacted
    assert all(f"[m{n}]" in prompt for n in range(1, 9))  # short labels, cheaper than copying ids
    assert not any(message_id in prompt for message_id in ids)
    assert "chars cut" in prompt and "[image image/png, 100 KB]" in prompt and seed.SCREENSHOT[:50] not in prompt
    assert {tool["function"]["name"] for tool in first["tools"]} == {
        "insert_task", "update_task", "append_task_progress", "append_user_preference", "link_messages", "finish"
    }
    status = await call(observed, "get_observer_status")
    assert status["enabled"] and status["queue_depth"] == 0 and status["sessions_failed"] == []
    assert status["tokens"]["calls"] == 3 and status["tokens"]["failed_calls"] == 0
    assert status["tokens"]["prompt_tokens"] == sum(len(json.dumps(r["messages"]) + json.dumps(r["tools"])) // 4
                                                    for r in fake.requests)


async def test_json_schema_tool_mode_builds_the_same_task_list(settings: Settings, fake: ScriptedOpenAI) -> None:
    """ACONTEXT_LLM_TOOL_MODE=json_schema: one constrained JSON call per reply, read from `content`."""
    async with Client(build_server(llm_settings(settings, fake.base_url, llm_tool_mode="json_schema"))) as client:
        session_id = (await call(client, "create_session"))["id"]
        ids = [await send(client, session_id, message) for message in seed.MESSAGES]
        for turn in seed.script(ids):
            for one in turn:  # one call per reply: the seed's 9 calls fit the 12 steps
                fake.reply(tool_calls=[one])
        flushed = await call(client, "flush", session_id=session_id)
    assert strip_ids(flushed["items"]) == seed.EXPECTED
    assert flushed["items"][0]["message_ids"] == ids[:7]
    assert flushed["observer"]["note"] is None  # it called finish
    assert all("tools" not in r and r["response_format"]["type"] == "json_schema" for r in fake.requests)
    assert len(fake.requests) == 9
    last = fake.requests[-1]["messages"]
    assert {m["role"] for m in last} == {"system", "user", "assistant"}
    assert last[-2]["content"].startswith('{"name": "link_messages"') and last[-1]["content"].startswith(
        "Result of link_messages: ok")


async def test_json_schema_tool_mode_takes_several_calls_in_one_reply(settings: Settings, fake: ScriptedOpenAI) -> None:
    """A constrained reply may be an array of calls: the seed's 9 calls take 3 model calls."""
    async with Client(build_server(llm_settings(settings, fake.base_url, llm_tool_mode="json_schema"))) as client:
        session_id = (await call(client, "create_session"))["id"]
        ids = [await send(client, session_id, message) for message in seed.MESSAGES]
        for turn in seed.script(ids):
            fake.reply(tool_calls=turn)
        flushed = await call(client, "flush", session_id=session_id)
        status = await call(client, "get_observer_status")
    assert strip_ids(flushed["items"]) == seed.EXPECTED
    assert len(fake.requests) == 3
    assert fake.requests[1]["messages"][-1]["content"].startswith("Result of insert_task: ok: inserted task 3. "
                                                                  "Tasks now:\n1. [pending] ")  # state shown
    # The engine serves each request's prefix shared with the one before from its cache: counted, not hidden.
    assert 0 < status["tokens"]["cached_prompt_tokens"] < status["tokens"]["prompt_tokens"], status


async def test_a_batch_that_ends_without_finish_is_kept_with_a_note(settings: Settings, fake: ScriptedOpenAI) -> None:
    """A model cycling a task's status never calls finish: the edits are kept, and the batch says so."""
    async with Client(build_server(llm_settings(settings, fake.base_url, observer_max_steps=4))) as client:
        session_id, _ = await new_session(client, "Deploy the site")
        fake.reply(tool_calls=[("insert_task", {"after_task_order": 0, "task_description": "Deploy the site"})])
        for status in ("running", "success", "failed"):
            fake.reply(tool_calls=[("update_task", {"task_order": 1, "status": status})])
        flushed = await call(client, "flush", session_id=session_id)
    assert [(t["status"], t["data"]["task_description"]) for t in flushed["items"]] == [("success", "Deploy the site")]
    assert flushed["observer"]["status"] == "idle"
    assert flushed["observer"]["note"] == (
        "last batch: the model did not call finish within 4 steps; the batch's edits were kept, and the task list "
        "may be incomplete (1 tool errors)")


async def test_invalid_tool_calls_are_answered_to_the_model(observed: Client, fake: ScriptedOpenAI) -> None:
    session_id, ids = await new_session(observed, "Please refactor the parser")
    fake.reply(tool_calls=[
        ("delete_everything", {}),
        ("insert_task", '{"after_task_order": 0, "task_description": '),
        ("update_task", {"task_order": 7, "status": "success"}),
        ("insert_task", {"after_task_order": 0, "task_description": "Refactor the parser"}),
    ])
    fake.reply(tool_calls=[("link_messages", {"task_order": 1, "message_ids": ["made-up", ids[0]]})])
    fake.reply(tool_calls=[("link_messages", {"task_order": 1, "message_ids": ids})])
    # The fourth turn: no tool call at all, which also ends the run.

    tasks = await call(observed, "flush", session_id=session_id)

    assert [(t["order"], t["data"]["task_description"], t["message_ids"]) for t in tasks["items"]] == [
        (1, "Refactor the parser", ids)
    ]
    answers = [m for m in fake.requests[1]["messages"] if m["role"] == "tool"]
    calls = fake.requests[1]["messages"][-5]["tool_calls"]
    assert [a["tool_call_id"] for a in answers] == [c["id"] for c in calls]
    assert "error: unknown tool 'delete_everything'" in answers[0]["content"]
    assert "not valid JSON" in answers[1]["content"]
    assert "task_order 7 does not exist" in answers[2]["content"]
    assert answers[3]["content"] == "ok: inserted task 1. Tasks now:\n1. [pending] Refactor the parser"
    assert "unknown message ids ['made-up']" in fake.requests[2]["messages"][-1]["content"]
    assert len(fake.requests) == 4


async def test_update_task_status(observed: Client, fake: ScriptedOpenAI) -> None:
    session_id, _ = await new_session(observed, "Write the report and email it")
    fake.reply(tool_calls=[("insert_task", {"after_task_order": 0, "task_description": "Write the report"}),
                           ("insert_task", {"after_task_order": 1, "task_description": "Email it"})])
    await call(observed, "flush", session_id=session_id)

    updated = await call(observed, "update_task_status", session_id=session_id, task_order=2, status="success")
    assert (updated["order"], updated["status"], updated["data"]["task_description"]) == (2, "success", "Email it")
    before = await call(observed, "get_tasks", session_id=session_id)
    assert [t["status"] for t in before["items"]] == ["pending", "success"]

    assert "task '3' not found" in await call_error(
        observed, "update_task_status", session_id=session_id, task_order=3, status="failed")
    assert "status" in await call_error(
        observed, "update_task_status", session_id=session_id, task_order=1, status="done")
    assert "session 'nope' not found" in await call_error(
        observed, "update_task_status", session_id="nope", task_order=1, status="failed")
    assert await call(observed, "get_tasks", session_id=session_id) == before


async def test_deleting_a_session_drops_its_tasks_and_queue(observed: Client, fake: ScriptedOpenAI) -> None:
    session_id, _ = await new_session(observed, "first")
    fake.reply(tool_calls=[("insert_task", {"after_task_order": 0, "task_description": "Do the first thing"})])
    await call(observed, "flush", session_id=session_id)
    await send(observed, session_id, {"role": "user", "content": "second"})
    assert (await call(observed, "get_observer_status"))["queue_depth"] == 1

    await call(observed, "delete_session", session_id=session_id)

    assert "not found" in await call_error(observed, "get_tasks", session_id=session_id)
    assert "not found" in await call_error(observed, "flush", session_id=session_id)
    assert (await call(observed, "get_observer_status"))["queue_depth"] == 0


async def test_without_an_llm_the_observer_is_off_and_says_so(client: Client) -> None:
    session_id, _ = await new_session(client, "hello", "build me a page")
    tasks = await call(client, "get_tasks", session_id=session_id)
    assert tasks["items"] == []
    assert tasks["observer"]["status"] == "disabled"
    assert tasks["observer"]["note"] == "observer disabled: set OPENAI_API_KEY or OPENAI_BASE_URL"
    assert tasks["observer"]["pending_messages"] == 2
    assert "observer disabled: set OPENAI_API_KEY or OPENAI_BASE_URL" in await call_error(
        client, "flush", session_id=session_id)
    status = await call(client, "get_observer_status")
    assert (status["enabled"], status["note"], status["queue_depth"]) == (False, tasks["observer"]["note"], 2)
    assert status["tokens"]["calls"] == 0
    assert "session 'nope' not found" in await call_error(client, "get_tasks", session_id="nope")
    assert (await call(client, "get_session", session_id=session_id))["message_count"] == 2


async def test_llm_down_then_back_loses_no_message(settings: Settings) -> None:
    port = free_port()
    settings = llm_settings(settings, f"http://127.0.0.1:{port}/v1", observer_max_attempts=1000, observer_idle_s=0)
    async with Client(build_server(settings)) as client:
        session_id, ids = await new_session(client, "Deploy the site", "Use the staging bucket")

        async def retrying() -> bool:
            state = (await call(client, "get_tasks", session_id=session_id))["observer"]
            return state["status"] == "retrying" and state["attempts"] >= 2

        await eventually(retrying, 10, "the observer to retry against a refused connection")
        state = (await call(client, "get_tasks", session_id=session_id))["observer"]
        assert "APIConnectionError" in state["last_error"] and state["pending_messages"] == 2
        [retrying] = (await call(client, "get_observer_status"))["sessions_retrying"]
        assert retrying["session_id"] == session_id
        backoff = datetime.fromisoformat(retrying["next_attempt_at"]) - datetime.fromisoformat(retrying["updated_at"])
        assert backoff.total_seconds() == pytest.approx(0.05 * 2 ** (retrying["attempts"] - 1), abs=0.01)

        with ScriptedOpenAI(port=port) as fake:
            fake.reply(tool_calls=[("insert_task", {"after_task_order": 0, "task_description": "Deploy the site"}),
                                   ("append_user_preference", {"task_order": 1, "preference": "staging bucket"}),
                                   ("link_messages", {"task_order": 1, "message_ids": ids})])
            fake.reply(tool_calls=[("finish", {})])
            tasks = await call(client, "flush", session_id=session_id)

        assert [(t["data"]["task_description"], t["data"]["user_preferences"], t["message_ids"])
                for t in tasks["items"]] == [("Deploy the site", ["staging bucket"], ids)]
        assert all(f"[m{n}]" in user_prompt(fake.requests[0]) for n in range(1, len(ids) + 1))
        assert tasks["observer"]["status"] == "idle"
        status = await call(client, "get_observer_status")
        assert status["sessions_retrying"] == [] and status["tokens"]["failed_calls"] >= 2


async def test_failing_session_is_marked_failed_while_others_flow(settings: Settings) -> None:
    def respond(request: dict[str, Any]) -> Reply:
        if "POISON" in user_prompt(request):
            return {"raw": "junk"}
        return one_task_each(lambda prompt: "Healthy task")(request)

    with ScriptedOpenAI(respond) as fake:
        settings = llm_settings(settings, fake.base_url, observer_idle_s=0, observer_max_attempts=2)
        async with Client(build_server(settings)) as client:
            bad, _ = await new_session(client, "POISON pill")
            good, _ = await new_session(client, "a healthy request")

            async def bad_failed() -> bool:
                return bool((await call(client, "get_observer_status"))["sessions_failed"])

            await eventually(bad_failed, 10, "the poisoned session to be marked failed")
            status = await call(client, "get_observer_status")
            [failed] = status["sessions_failed"]
            assert (failed["session_id"], failed["attempts"], failed["failed"]) == (bad, 2, True)
            assert failed["next_attempt_at"] is None
            assert "not JSON" in failed["last_error"] and "not JSON" in status["last_error"]

            healthy = await call(client, "flush", session_id=good)
            assert [t["data"]["task_description"] for t in healthy["items"]] == ["Healthy task"]

            state = (await call(client, "get_tasks", session_id=bad))["observer"]
            assert (state["status"], state["pending_messages"]) == ("failed", 1)
            assert "flush" in state["note"]
            error = await call_error(client, "flush", session_id=bad)  # retries from scratch, fails again
            assert "gave up" in error and "after 2 attempts" in error and "not JSON" in error
            junk_requests = [r for r in fake.requests if "POISON" in user_prompt(r)]
            assert len(junk_requests) == 4


async def test_batch_threshold_keeps_order_and_idle_messages_wait(settings: Settings, fake: ScriptedOpenAI) -> None:
    async with Client(build_server(llm_settings(settings, fake.base_url, observer_batch=3))) as client:
        session_id, ids = await new_session(client, *[f"message {i}" for i in range(5)])

        async def first_batch_done() -> bool:
            return (await call(client, "get_observer_status"))["queue_depth"] == 2

        await eventually(first_batch_done, 10, "the first batch of 3")
        [first] = fake.requests
        assert [t for t in (f"message {i}" for i in range(5)) if t in user_prompt(first)] == [
            "message 0", "message 1", "message 2"]
        assert (await call(client, "get_tasks", session_id=session_id))["observer"]["status"] == "queued"

        await call(client, "flush", session_id=session_id)
        assert [t for t in (f"message {i}" for i in range(5)) if t in user_prompt(fake.requests[1])] == [
            "message 3", "message 4"]
        assert (await call(client, "get_observer_status"))["queue_depth"] == 0


async def test_idle_session_is_processed_without_flush(settings: Settings, fake: ScriptedOpenAI) -> None:
    fake.responder = one_task_each(lambda prompt: "Answer the question")
    settings = llm_settings(settings, fake.base_url, observer_idle_s=0.2)
    async with Client(build_server(settings)) as client:
        session_id, _ = await new_session(client, "one lonely question")

        async def processed() -> bool:
            return bool((await call(client, "get_tasks", session_id=session_id))["items"])

        await eventually(processed, 10, "the idle session to be processed")
        assert len(fake.requests) == 3  # insert, finish (asked to check the open task once), finish


async def test_two_sessions_run_concurrently(settings: Settings) -> None:
    both_in_flight = threading.Barrier(2, timeout=10)

    def respond(request: dict[str, Any]) -> Reply:
        if request["messages"][-1]["role"] != "tool":
            both_in_flight.wait()  # raises (and fails the test) unless the other session's call is in flight too
        return one_task_each(lambda prompt: "Task for " + prompt.split("topic ")[1].split()[0])(request)

    with ScriptedOpenAI(respond) as fake:
        async with Client(build_server(llm_settings(settings, fake.base_url, observer_concurrency=2))) as client:
            first, _ = await new_session(client, "topic alpha please")
            second, _ = await new_session(client, "topic beta please")
            results: dict[str, dict[str, Any]] = {}

            async def flush(session_id: str) -> None:
                results[session_id] = await call(client, "flush", session_id=session_id, timeout_s=20)

            async with anyio.create_task_group() as tg:
                tg.start_soon(flush, first)
                tg.start_soon(flush, second)

    assert [t["data"]["task_description"] for t in results[first]["items"]] == ["Task for alpha"]
    assert [t["data"]["task_description"] for t in results[second]["items"]] == ["Task for beta"]
    assert len(fake.requests) == 6  # each: insert, finish (asked to check the open task once), finish


async def test_flush_times_out_with_a_clear_error(settings: Settings) -> None:
    release = threading.Event()

    def respond(request: dict[str, Any]) -> Reply:
        release.wait(10)
        return assistant("done")

    with ScriptedOpenAI(respond) as fake:
        async with Client(build_server(llm_settings(settings, fake.base_url))) as client:
            session_id, _ = await new_session(client, "a slow one")
            error = await call_error(client, "flush", session_id=session_id, timeout_s=0.3)
            release.set()
            assert f"flush timed out after 0.3s with 1 messages of session '{session_id}' still queued" in error
            assert "observer running" in error
            assert (await call(client, "flush", session_id=session_id))["observer"]["pending_messages"] == 0
