"""Issue 17's new features through the in-memory MCP client: session events, message meta, session copy,
users, project configs and filter_by_configs."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from mcp import Client

from acontext_mcp.services.models import ProjectConfigs
from acontext_mcp.services.observer.task_agent import SYSTEM_PROMPT, system_prompt
from acontext_mcp.services.sessions import json_contains
from tests.support.mcp import call, call_error

pytestmark = pytest.mark.anyio


async def _session(client: Client, **arguments: Any) -> str:
    return str((await call(client, "create_session", **arguments))["id"])


async def test_events_are_listed_and_merged_into_get_messages(client: Client) -> None:
    session_id = await _session(client)
    await call(client, "send_message", session_id=session_id, message={"role": "user", "content": "plan it"})
    first = await call(client, "add_event", session_id=session_id, type="text_event", data={"text": "switched"})
    await call(client, "send_message", session_id=session_id, message={"role": "assistant", "content": "ok"})
    second = await call(client, "add_event", session_id=session_id, type="disk_event",
                        data={"disk_id": "d1", "path": "/plan.md"})
    assert first["type"] == "text_event" and first["data"] == {"text": "switched"}
    listed = await call(client, "list_events", session_id=session_id)
    assert [e["id"] for e in listed["items"]] == [first["id"], second["id"]] and not listed["has_more"]
    newest = await call(client, "list_events", session_id=session_id, limit=1, time_desc=True)
    assert [e["id"] for e in newest["items"]] == [second["id"]] and newest["has_more"]
    rest = await call(client, "list_events", session_id=session_id, limit=1, time_desc=True,
                      cursor=newest["next_cursor"])
    assert [e["id"] for e in rest["items"]] == [first["id"]]

    plain = await call(client, "get_messages", session_id=session_id)
    assert plain.get("events") is None
    merged = await call(client, "get_messages", session_id=session_id, with_events=True)
    assert [e["id"] for e in merged["events"]] == [first["id"], second["id"]]
    # Paged, every event shows up once across the pages.
    seen: list[str] = []
    cursor = None
    while True:
        page = await call(client, "get_messages", session_id=session_id, limit=1, with_events=True,
                          **({"cursor": cursor} if cursor else {}))
        seen += [e["id"] for e in page["events"]]
        if not page["has_more"]:
            break
        cursor = page["next_cursor"]
    assert sorted(seen) == sorted([first["id"], second["id"]])


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"type": ""}, "type must be a non-empty string"),
        ({"type": "x" * 65}, "type must be a non-empty string"),
        ({"type": "t", "session_id": "nope"}, "session 'nope' not found"),
    ],
)
async def test_bad_events_are_refused(client: Client, arguments: dict[str, Any], expected: str) -> None:
    session_id = await _session(client)
    assert expected in await call_error(client, "add_event", **{"session_id": session_id, **arguments})
    if arguments.get("session_id") is None:
        assert (await call(client, "list_events", session_id=session_id))["items"] == []


async def test_message_meta_is_stored_patched_and_read(client: Client) -> None:
    session_id = await _session(client)
    stored = await call(client, "send_message", session_id=session_id, message={"role": "user", "content": "hi"},
                        meta={"source": "web", "score": 1})
    assert stored["meta"] == {"source": "web", "score": 1}
    await call(client, "send_message", session_id=session_id, message={"role": "assistant", "content": "yo"})
    page = await call(client, "get_messages", session_id=session_id)
    assert page["metas"] == [{"source": "web", "score": 1}, {}]
    patched = await call(client, "patch_message_meta", session_id=session_id, message_id=stored["id"],
                         meta={"score": None, "rating": "good"})
    assert patched == {"id": stored["id"], "meta": {"source": "web", "rating": "good"}}
    page = await call(client, "get_messages", session_id=session_id, format="anthropic")
    assert page["metas"][0] == {"source": "web", "rating": "good"}
    # The message itself is unchanged.
    assert page["items"][0] == {"role": "user", "content": "hi"}


async def test_bad_meta_is_refused_and_nothing_written(client: Client) -> None:
    session_id = await _session(client)
    stored = await call(client, "send_message", session_id=session_id, message={"role": "user", "content": "hi"})
    assert "message 'nope' not found" in await call_error(
        client, "patch_message_meta", session_id=session_id, message_id="nope", meta={"a": 1})
    other = await _session(client)
    assert "not found" in await call_error(
        client, "patch_message_meta", session_id=other, message_id=stored["id"], meta={"a": 1})
    assert "ACONTEXT_MAX_METADATA_BYTES" in await call_error(
        client, "patch_message_meta", session_id=session_id, message_id=stored["id"], meta={"a": "x" * 70_000})
    assert (await call(client, "get_messages", session_id=session_id))["metas"] == [{}]


async def test_copy_session_is_independent(client: Client) -> None:
    data = base64.b64encode(b"\x89PNG" + bytes(range(256)) * 40).decode()  # over the blob threshold
    session_id = await _session(client, metadata={"agent": "bot1"})
    await call(client, "send_message", session_id=session_id, meta={"k": 1}, message={
        "role": "user", "content": [{"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}}]})
    await call(client, "send_message", session_id=session_id, message={
        "role": "assistant", "content": None,
        "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]})
    await call(client, "add_event", session_id=session_id, type="text_event", data={"text": "e"})
    copied = await call(client, "copy_session", session_id=session_id)
    assert (copied["old_session_id"], copied["messages"], copied["events"]) == (session_id, 2, 1)
    new_id = copied["new_session_id"]
    assert (await call(client, "get_session", session_id=new_id))["metadata"] == {"agent": "bot1"}
    original = await call(client, "get_messages", session_id=session_id)
    await call(client, "delete_session", session_id=session_id)
    copy = await call(client, "get_messages", session_id=new_id)
    assert copy["items"] == original["items"] and copy["metas"] == [{"k": 1}, {}]
    assert set(copy["message_ids"]).isdisjoint(original["message_ids"])
    assert len((await call(client, "list_events", session_id=new_id))["items"]) == 1
    # The copy keeps its tool-call index: a result for c1 is accepted there.
    await call(client, "send_message", session_id=new_id,
               message={"role": "tool", "tool_call_id": "c1", "content": "ok"})
    assert "not found" in await call_error(client, "copy_session", session_id=session_id)


async def test_users_own_resources_and_delete_cascades(client: Client) -> None:
    ana_session = await _session(client, user="ana@example.com")
    await _session(client, user="bo")
    await _session(client)
    disk = await call(client, "create_disk", name="files", user="ana@example.com")
    space = await call(client, "create_space", name="skills", user="ana@example.com")
    assert disk["user"] == space["user"] == "ana@example.com"
    assert (await call(client, "get_session", session_id=ana_session))["user"] == "ana@example.com"
    users = await call(client, "list_users")
    assert [u["identifier"] for u in users["items"]] == ["ana@example.com", "bo"]
    assert [s["id"] for s in (await call(client, "list_sessions", user="ana@example.com"))["items"]] == [ana_session]
    assert [d["id"] for d in (await call(client, "list_disks", user="ana@example.com"))["items"]] == [disk["id"]]
    counts = await call(client, "get_user_resources", identifier="ana@example.com")
    assert (counts["sessions_count"], counts["disks_count"], counts["spaces_count"]) == (1, 1, 1)

    deleted = await call(client, "delete_user", identifier="ana@example.com")
    assert (deleted["sessions"], deleted["disks"], deleted["spaces"]) == (1, 1, 1)
    assert "not found" in await call_error(client, "get_session", session_id=ana_session)
    assert [u["identifier"] for u in (await call(client, "list_users"))["items"]] == ["bo"]
    assert len((await call(client, "list_sessions"))["items"]) == 2
    assert "user 'ana@example.com' not found" in await call_error(
        client, "get_user_resources", identifier="ana@example.com")
    assert "user must be a non-empty identifier" in await call_error(client, "create_session", user=" ")
    assert len((await call(client, "list_sessions"))["items"]) == 2


async def test_filter_by_configs_is_json_containment(client: Client) -> None:
    bot1 = await _session(client, metadata={"agent": "bot1", "tags": ["a", "b"], "n": 1})
    await _session(client, metadata={"agent": "bot2"})
    for _ in range(3):
        await _session(client)
    found = await call(client, "list_sessions", filter_by_configs={"agent": "bot1"}, limit=1)
    assert [s["id"] for s in found["items"]] == [bot1] and not found["has_more"]
    tagged = await call(client, "list_sessions", filter_by_configs={"tags": ["b"]})
    assert [s["id"] for s in tagged["items"]] == [bot1]
    assert (await call(client, "list_sessions", filter_by_configs={"n": True}))["items"] == []
    assert (await call(client, "list_sessions", filter_by_configs={"agent": "BOT1"}))["items"] == []


@pytest.mark.parametrize(
    ("value", "pattern", "expected"),
    [
        ({"a": {"b": 1, "c": 2}}, {"a": {"b": 1}}, True),
        ({"a": [1, 2, 3]}, {"a": [3, 1]}, True),
        ({"a": [1, 2]}, {"a": [4]}, False),
        ({"a": 1}, {"a": 1.0}, True),
        ({"a": 1}, {"a": True}, False),
        ({"a": "1"}, {"a": 1}, False),
        ({}, {"a": None}, False),
        ({"a": None}, {"a": None}, True),
    ],
)
def test_json_contains(value: Any, pattern: Any, expected: bool) -> None:
    assert json_contains(value, pattern) is expected


async def test_project_configs_merge_and_reach_the_task_agent_prompt(client: Client) -> None:
    assert await call(client, "get_project_configs") == {"task_success_criteria": None, "task_failure_criteria": None}
    updated = await call(client, "update_project_configs", configs={"task_success_criteria": "tests pass"})
    assert updated["task_success_criteria"] == "tests pass"
    await call(client, "update_project_configs", configs={"task_failure_criteria": "user gives up"})
    both = await call(client, "get_project_configs")
    assert both == {"task_success_criteria": "tests pass", "task_failure_criteria": "user gives up"}
    reset = await call(client, "update_project_configs", configs={"task_success_criteria": None})
    assert reset["task_success_criteria"] is None and reset["task_failure_criteria"] == "user gives up"
    assert "at most 2000 characters" in await call_error(
        client, "update_project_configs", configs={"task_success_criteria": "x" * 2001})
    assert "unknown project config 'colour'" in await call_error(client, "update_project_configs",
                                                                  configs={"colour": "red"})
    assert (await call(client, "get_project_configs"))["task_failure_criteria"] == "user gives up"


def test_criteria_go_into_the_task_agent_prompt() -> None:
    assert system_prompt(None) == SYSTEM_PROMPT == system_prompt(ProjectConfigs())
    prompt = system_prompt(ProjectConfigs(task_success_criteria="tests pass", task_failure_criteria="gave up"))
    assert "success when: tests pass" in prompt and "failed when: gave up" in prompt


async def test_gemini_messages_are_stored_and_read_in_every_format(client: Client) -> None:
    session_id = await _session(client)
    call_message = {"role": "model", "parts": [{"functionCall": {"id": "g1", "name": "search", "args": {"q": "x"}}}]}
    result_message = {"role": "user", "parts": [{"functionResponse": {"id": "g1", "name": "search",
                                                                      "response": {"hits": 2}}}]}
    await call(client, "send_message", session_id=session_id, message={"role": "user", "parts": [{"text": "find"}]},
               format="gemini")
    await call(client, "send_message", session_id=session_id, message=call_message, format="gemini")
    await call(client, "send_message", session_id=session_id, message=result_message, format="gemini")
    page = await call(client, "get_messages", session_id=session_id, format="gemini")
    assert page["items"][1:] == [call_message, result_message]
    openai_items = (await call(client, "get_messages", session_id=session_id))["items"]
    assert openai_items[2] == {"role": "tool", "tool_call_id": "g1",
                               "content": [{"type": "text", "text": '{"hits": 2}'}]}
    error = await call_error(client, "send_message", session_id=session_id, format="gemini", message={
        "role": "user", "parts": [{"functionResponse": {"id": "nope", "name": "f", "response": {}}}]})
    assert "parts.0.functionResponse.id" in error
    assert len((await call(client, "get_messages", session_id=session_id))["items"]) == 3
