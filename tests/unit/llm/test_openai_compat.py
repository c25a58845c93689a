"""The OpenAI-compatible provider with the real `openai` client against a scripted server."""

from __future__ import annotations

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
