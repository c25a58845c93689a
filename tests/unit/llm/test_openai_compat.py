"""The OpenAI-compatible provider with the real `openai` client against a scripted server."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest

from acontext_mcp.container import provider_from_settings
from acontext_mcp.errors import LLMError
from acontext_mcp.llm import ChatReply, OpenAICompatible
from acontext_mcp.settings import Settings
from tests.fakes.openai_server import ScriptedOpenAI
from tests.support.servers import free_port

pytestmark = pytest.mark.anyio

TOOLS = [{"type": "function", "function": {"name": "finish", "parameters": {"type": "object", "properties": {}}}}]
HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture
def fake() -> Iterator[ScriptedOpenAI]:
    with ScriptedOpenAI() as server:
        yield server


@asynccontextmanager
async def provider(base_url: str, **options: object) -> AsyncIterator[OpenAICompatible]:
    opened = OpenAICompatible(model="test-model", base_url=base_url, retry_base_s=0.01, **options)  # type: ignore[arg-type]
    try:
        yield opened
    finally:
        await opened.aclose()


async def chat(base_url: str, **options: object) -> ChatReply:
    async with provider(base_url, **options) as opened:
        return await opened.chat(HELLO, TOOLS)


async def test_reply_with_tool_calls_and_usage(fake: ScriptedOpenAI) -> None:
    fake.reply("thinking", tool_calls=[("finish", {}), ("insert_task", '{"bad json')])
    reply = await chat(fake.base_url)
    assert reply.content == "thinking"
    assert [(c.name, c.arguments) for c in reply.tool_calls] == [("finish", "{}"), ("insert_task", '{"bad json')]
    assert reply.prompt_tokens > 0 and reply.completion_tokens == 5
    assert reply.as_message()["tool_calls"][1]["function"]["arguments"] == '{"bad json'
    [request] = fake.requests
    assert request["model"] == "test-model"
    assert request["messages"] == HELLO
    assert request["tools"] == TOOLS


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_transient_errors_are_retried(fake: ScriptedOpenAI, status: int) -> None:
    fake.fail(status)
    fake.fail(status)
    fake.reply("recovered")
    reply = await chat(fake.base_url, max_retries=2)
    assert reply.content == "recovered"
    assert len(fake.requests) == 3


async def test_gives_up_after_max_retries(fake: ScriptedOpenAI) -> None:
    for _ in range(3):
        fake.fail(500)
    with pytest.raises(LLMError, match=r"HTTP 500.*after 2 attempts"):
        await chat(fake.base_url, max_retries=1)
    assert len(fake.requests) == 2


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ({"status": 400, "body": {"error": {"message": "bad model"}}}, "HTTP 400"),
        ({"status": 401, "body": {"error": {"message": "bad key"}}}, "HTTP 401"),
        ({"raw": "junk"}, "not JSON"),
        ({"raw": "{}"}, "no choices"),
    ],
)
async def test_unusable_answers_fail_at_once(fake: ScriptedOpenAI, reply: dict, expected: str) -> None:
    fake.push(reply)
    with pytest.raises(LLMError, match=expected):
        await chat(fake.base_url, max_retries=3)
    assert len(fake.requests) == 1


async def test_connection_refused_is_retried_then_reported() -> None:
    down = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(LLMError, match=r"APIConnectionError.*after 3 attempts") as raised:
        await chat(down, max_retries=2)
    assert down.removeprefix("http://") in str(raised.value)


async def test_settings_choose_the_provider(fake: ScriptedOpenAI) -> None:
    assert provider_from_settings(Settings()) is None
    local = provider_from_settings(Settings(openai_base_url=fake.base_url, llm_model="llama3"))
    assert local is not None and local.model == "llama3"
    fake.reply("hi")
    try:
        assert (await local.chat(HELLO, TOOLS)).content == "hi"  # no key: a placeholder is sent
    finally:
        await local.aclose()
    assert provider_from_settings(Settings(openai_api_key="sk-test")) is not None
    assert "sk-test" not in repr(Settings(openai_api_key="sk-test"))
    loaded = Settings.load(env={"OPENAI_BASE_URL": fake.base_url, "ACONTEXT_LLM_MODEL": "m", "OPENAI_API_KEY": "",
                                "ACONTEXT_OBSERVER_BATCH": "3", "ACONTEXT_OBSERVER_IDLE_S": "0.5"})
    assert (loaded.llm_enabled, loaded.openai_api_key, loaded.llm_model) == (True, None, "m")
    assert (loaded.observer_batch, loaded.observer_idle_s) == (3, 0.5)
    assert not Settings.load(env={}).llm_enabled


TASK_TOOLS = [
    {"type": "function", "function": {
        "name": "insert_task", "description": "Add a task.",
        "parameters": {"type": "object", "properties": {"description": {"type": "string"},
                                                        "status": {"$ref": "#/$defs/Status"}},
                       "required": ["description"], "$defs": {"Status": {"enum": ["pending", "success"]}}}}},
    *TOOLS,
]


async def test_json_schema_mode_constrains_the_reply_and_reads_the_call_from_content(fake: ScriptedOpenAI) -> None:
    fake.reply(tool_calls=[("insert_task", {"description": "ship it", "status": "pending"})])
    conversation = [
        {"role": "system", "content": "You track tasks."},
        *HELLO,
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "finish", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "error: not yet"},
    ]
    async with provider(fake.base_url, tool_mode="json_schema") as opened:
        reply = await opened.chat(conversation, TASK_TOOLS)
    assert reply.content is None
    [call] = reply.tool_calls
    assert (call.name, call.arguments) == ("insert_task", '{"description": "ship it", "status": "pending"}')
    [request] = fake.requests
    assert "tools" not in request
    schema = request["response_format"]["json_schema"]["schema"]
    assert request["response_format"]["type"] == "json_schema"
    *one, several = schema["anyOf"]
    assert [c["properties"]["name"]["const"] for c in one] == ["insert_task", "finish"]
    assert several == {"type": "array", "items": {"anyOf": one}, "minItems": 1, "maxItems": 8}  # calls in order
    assert schema["$defs"] == {"Status": {"enum": ["pending", "success"]}}  # hoisted to where $ref points
    assert "$defs" not in schema["anyOf"][0]["properties"]["arguments"]
    # Every argument is required, as in strict structured outputs, so a small model writes each one.
    assert schema["anyOf"][0]["properties"]["arguments"]["required"] == ["description", "status"]
    assert TASK_TOOLS[0]["function"]["parameters"]["required"] == ["description"]  # the caller's schema is untouched
    sent = request["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[0]["content"].startswith("You track tasks.") and "- insert_task: Add a task." in sent[0]["content"]
    assert sent[2]["content"] == '{"name": "finish", "arguments": {}}'
    assert sent[3]["content"] == "Result of finish: error: not yet"


@pytest.mark.parametrize(
    "content",
    [
        '{"name": "insert_task", "arguments": {"description": "x"}}',
        '```json\n{"name": "insert_task", "arguments": {"description": "x"}}\n```',
        '<tool_call>\n{"name": "insert_task", "parameters": {"description": "x"}}\n</tool_call>',
        '[{"name": "insert_task", "arguments": {"description": "x"}}]',
        '{{"name": "insert_task", "arguments": {"description": "x"}}}',  # Qwen2.5-Coder-1.5B via llama.cpp
    ],
)
async def test_auto_mode_reads_a_call_written_as_text(fake: ScriptedOpenAI, content: str) -> None:
    fake.reply(content)
    async with provider(fake.base_url) as opened:
        reply = await opened.chat(HELLO, TASK_TOOLS)
    assert [(c.name, c.arguments) for c in reply.tool_calls] == [("insert_task", '{"description": "x"}')]
    assert reply.content is None
    assert "response_format" not in fake.requests[0] and fake.requests[0]["tools"] == TASK_TOOLS


@pytest.mark.parametrize(
    ("content", "mode"),
    [
        ('{"name": "insert_task", "arguments": {}}', "native"),
        ('{"name": "drop_tables", "arguments": {}}', "auto"),
        ("I added the task {as asked}.", "auto"),
        ('{"answer": 42}', "auto"),
    ],
)
async def test_text_that_is_not_an_offered_call_stays_text(fake: ScriptedOpenAI, content: str, mode: str) -> None:
    fake.reply(content)
    async with provider(fake.base_url, tool_mode=mode) as opened:
        reply = await opened.chat(HELLO, TASK_TOOLS)
    assert (reply.content, reply.tool_calls) == (content, [])


async def test_tool_mode_setting(fake: ScriptedOpenAI) -> None:
    settings = Settings.load(env={"OPENAI_BASE_URL": fake.base_url, "ACONTEXT_LLM_TOOL_MODE": "json_schema"})
    local = provider_from_settings(settings)
    assert local is not None
    fake.reply(tool_calls=[("finish", {})])
    try:
        assert [c.name for c in (await local.chat(HELLO, TOOLS)).tool_calls] == ["finish"]
    finally:
        await local.aclose()
    assert "response_format" in fake.requests[0]
    assert fake.requests[0]["max_tokens"] == 1536  # a small model looping inside its reply stops there
    with pytest.raises(ValueError, match="llm_tool_mode"):
        Settings.load(env={"ACONTEXT_LLM_TOOL_MODE": "grammar"})


async def test_json_schema_mode_reads_several_calls_from_one_reply(fake: ScriptedOpenAI) -> None:
    fake.reply(tool_calls=[("insert_task", {"description": "ship it"}), ("finish", {})])
    async with provider(fake.base_url, tool_mode="json_schema") as opened:
        reply = await opened.chat([{"role": "system", "content": "You track tasks."}, *HELLO], TASK_TOOLS)
    assert [(c.name, json.loads(c.arguments)) for c in reply.tool_calls] == [
        ("insert_task", {"description": "ship it"}), ("finish", {})]
    assert "a JSON array of such objects" in fake.requests[0]["messages"][0]["content"]


async def test_cached_prompt_tokens_are_read_from_the_usage(fake: ScriptedOpenAI) -> None:
    fake.reply("one")
    fake.reply("two")
    async with provider(fake.base_url) as opened:
        first = await opened.chat([*HELLO], [])
        second = await opened.chat([*HELLO, {"role": "assistant", "content": "one"}], [])
    assert first.cached_tokens == 0
    assert 0 < second.cached_tokens < second.prompt_tokens  # the shared prefix came from the server's cache


async def test_a_reply_token_limit_is_sent_when_set(fake: ScriptedOpenAI) -> None:
    fake.reply(tool_calls=[("finish", {})])
    fake.reply(tool_calls=[("finish", {})])
    async with provider(fake.base_url) as native:
        await native.chat(HELLO, TOOLS)
    async with provider(fake.base_url, max_tokens=300) as limited:
        await limited.chat(HELLO, TOOLS)
    assert "max_tokens" not in fake.requests[0] and "max_completion_tokens" not in fake.requests[0]
    assert fake.requests[1]["max_tokens"] == 300
    assert Settings.load(env={"ACONTEXT_LLM_MAX_TOKENS": "300"}).llm_max_tokens == 300
    with pytest.raises(ValueError, match="llm_max_tokens"):
        Settings.load(env={"ACONTEXT_LLM_MAX_TOKENS": "-1"})
