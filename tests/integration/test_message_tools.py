"""send_message / get_messages and the session resource through an in-process MCP client."""

from __future__ import annotations

import json

import pytest
from mcp import Client

from tests.support.mcp import call, call_error

pytestmark = pytest.mark.anyio

OPENAI_TURN = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
    {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_w", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Paris"}'}}
        ],
    },
    {"role": "tool", "tool_call_id": "call_w", "content": "18C, cloudy"},
    {"role": "assistant", "content": "18C and cloudy."},
]

ANTHROPIC_TURN = [
    {"role": "user", "content": "Weather in Oslo?"},
    {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "I should call the tool.", "signature": "sig=="},
            {"type": "tool_use", "id": "toolu_1", "name": "weather", "input": {"city": "Oslo"}},
        ],
    },
    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "2C"}]},
    {"role": "assistant", "content": [{"type": "text", "text": "2C."}]},
]


async def new_session(client: Client) -> str:
    return (await call(client, "create_session"))["id"]


@pytest.mark.parametrize(("fmt", "turn"), [("openai", OPENAI_TURN), ("anthropic", ANTHROPIC_TURN)])
async def test_round_trip_in_the_same_format(client: Client, fmt: str, turn: list[dict]) -> None:
    session_id = await new_session(client)
    ids = [(await call(client, "send_message", session_id=session_id, message=m, format=fmt))["id"] for m in turn]
    page = await call(client, "get_messages", session_id=session_id, format=fmt)
    assert page["items"] == turn
    assert page["message_ids"] == ids
    assert page["has_more"] is False


async def test_openai_tool_calls_read_back_as_anthropic(client: Client) -> None:
    session_id = await new_session(client)
    for message in OPENAI_TURN:
        await call(client, "send_message", session_id=session_id, message=message)
    page = await call(client, "get_messages", session_id=session_id, format="anthropic")
    assert page["system"] == "You are terse."
    assert page["items"][1]["content"] == [
        {"type": "tool_use", "id": "call_w", "name": "weather", "input": {"city": "Paris"}}
    ]
    assert page["items"][2] == {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "call_w", "content": "18C, cloudy"}],
    }


async def test_anthropic_tool_use_read_back_as_openai(client: Client) -> None:
    session_id = await new_session(client)
    for message in ANTHROPIC_TURN:
        await call(client, "send_message", session_id=session_id, message=message, format="anthropic")
    items = (await call(client, "get_messages", session_id=session_id, format="openai"))["items"]
    [tool_call] = items[1]["tool_calls"]
    assert tool_call["id"] == "toolu_1"
    assert tool_call["function"]["name"] == "weather"
    assert json.loads(tool_call["function"]["arguments"]) == {"city": "Oslo"}
    assert items[2] == {"role": "tool", "tool_call_id": "toolu_1", "content": "2C"}


@pytest.mark.parametrize(
    ("message", "fmt", "expected"),
    [
        ({"content": "hi"}, "openai", "invalid message at role"),
        ({"role": "user", "content": [{"type": "hologram"}]}, "openai", "invalid message at content.0.type"),
        ({"role": "tool", "tool_call_id": "ghost", "content": "1"}, "openai", "invalid message at tool_call_id"),
        ({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "ghost", "content": "1"}]},
         "anthropic", "invalid message at content.0.tool_use_id"),
    ],
)
async def test_malformed_message_errors_name_the_field_and_write_nothing(
    client: Client, message: dict, fmt: str, expected: str
) -> None:
    session_id = await new_session(client)
    error = await call_error(client, "send_message", session_id=session_id, message=message, format=fmt)
    assert expected in error
    assert (await call(client, "get_session", session_id=session_id))["message_count"] == 0
    # The server keeps serving after the error.
    await call(client, "send_message", session_id=session_id, message={"role": "user", "content": "still here"})


async def test_invalid_format_name(client: Client) -> None:
    session_id = await new_session(client)
    error = await call_error(client, "send_message", session_id=session_id, message={"role": "user", "content": "x"},
                             format="cohere")
    assert "format" in error and "cohere" in error
    error = await call_error(client, "get_messages", session_id=session_id, format="cohere")
    assert "format" in error and "cohere" in error


async def test_oversized_payload_is_refused(client: Client) -> None:
    session_id = await new_session(client)
    error = await call_error(client, "send_message", session_id=session_id,
                             message={"role": "user", "content": "x" * (8 * 1024 * 1024 + 1)})
    assert "over the limit of 8388608 bytes" in error and "ACONTEXT_MAX_MESSAGE_BYTES" in error
    assert (await call(client, "get_session", session_id=session_id))["message_count"] == 0


async def test_paging_through_the_tool(client: Client) -> None:
    session_id = await new_session(client)
    for i in range(5):
        await call(client, "send_message", session_id=session_id, message={"role": "user", "content": str(i)})
    first = await call(client, "get_messages", session_id=session_id, limit=2)
    second = await call(client, "get_messages", session_id=session_id, limit=2, cursor=first["next_cursor"])
    third = await call(client, "get_messages", session_id=session_id, limit=2, cursor=second["next_cursor"])
    assert [m["content"] for page in (first, second, third) for m in page["items"]] == ["0", "1", "2", "3", "4"]
    assert (first["has_more"], second["has_more"], third["has_more"]) == (True, True, False)
    assert "is not a message cursor" in await call_error(client, "get_messages", session_id=session_id, cursor="zz")


async def test_session_messages_resource(client: Client) -> None:
    session_id = await new_session(client)
    for message in ANTHROPIC_TURN[:2]:
        await call(client, "send_message", session_id=session_id, message=message, format="anthropic")
    templates = await client.list_resource_templates()
    assert "session://{session_id}/messages" in [t.uri_template for t in templates.resource_templates]
    result = await client.read_resource(f"session://{session_id}/messages")
    document = json.loads(result.contents[0].text)  # type: ignore[union-attr]
    assert document["session_id"] == session_id
    assert [m["role"] for m in document["messages"]] == ["user", "assistant"]
    assert [p["type"] for p in document["messages"][1]["parts"]] == ["thinking", "tool-call"]
    assert all(m["id"] and m["created_at"].endswith("+00:00") for m in document["messages"])


async def test_unknown_session_resource_is_a_clear_error(client: Client) -> None:
    with pytest.raises(Exception, match="session 'missing' not found"):
        await client.read_resource("session://missing/messages")


async def test_every_tool_has_a_description_and_output_schema(client: Client) -> None:
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert {"create_session", "list_sessions", "get_session", "delete_session", "send_message",
            "get_messages"} <= set(tools)
    for tool in tools.values():
        assert tool.description and len(tool.description) > 40, tool.name
        assert tool.output_schema is not None, tool.name
    formats = tools["send_message"].input_schema["properties"]["format"]["enum"]
    assert formats == ["openai", "anthropic", "acontext", "gemini"]


def nested(depth: int) -> dict:
    value: dict = {"leaf": 1}
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    ("message", "fmt", "expected"),
    [
        ({"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": nested(100)}]},
         "anthropic", "message: objects or lists nested deeper than 64 levels"),
        ({"role": "assistant", "content": None, "tool_calls": [
            {"id": "c", "type": "function", "function": {"name": "f", "arguments": json.dumps(nested(100))}}]},
         "openai", "the arguments of tool call 'c': objects or lists nested deeper than 64 levels"),
    ],
    ids=["anthropic-input", "openai-arguments"],
)
async def test_deeply_nested_messages_are_refused(client: Client, message: dict, fmt: str, expected: str) -> None:
    """Stored messages must read back in every format; JSON-RPC encoders stop at a few hundred levels."""
    session_id = await new_session(client)
    assert expected in await call_error(client, "send_message", session_id=session_id, message=message, format=fmt)
    assert (await call(client, "get_session", session_id=session_id))["message_count"] == 0
    ok = {"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": nested(40)}]}
    await call(client, "send_message", session_id=session_id, message=ok, format="anthropic")
    assert len((await call(client, "get_messages", session_id=session_id, format="openai"))["items"]) == 1


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [(nested(100), "metadata: objects or lists nested deeper than 64 levels"),
     ({"blob": "x" * 70_000}, "over the limit of 65536 bytes (raise ACONTEXT_MAX_METADATA_BYTES")],
    ids=["deep", "large"],
)
async def test_unfit_metadata_creates_no_session(client: Client, metadata: dict, expected: str) -> None:
    assert expected in await call_error(client, "create_session", metadata=metadata)
    assert (await call(client, "list_sessions"))["items"] == []


def call_message(*ids: str) -> dict:
    return {"role": "assistant", "content": None, "tool_calls": [
        {"id": i, "type": "function", "function": {"name": "f", "arguments": "{}"}} for i in ids]}


async def test_tool_call_ids_are_unique_in_a_session(client: Client) -> None:
    session_id = await new_session(client)
    error = await call_error(client, "send_message", session_id=session_id, message=call_message("a", "a"))
    assert "invalid message at tool_calls.1.id: tool call id 'a' is already used in this session" in error
    await call(client, "send_message", session_id=session_id, message=call_message("a"))
    error = await call_error(client, "send_message", session_id=session_id, message=call_message("b", "a"))
    assert "invalid message at tool_calls.1.id" in error
    assert (await call(client, "get_session", session_id=session_id))["message_count"] == 1


@pytest.mark.parametrize(
    ("message", "fmt"),
    [({"role": "user", "content": [{"type": "image_url",
                                    "image_url": {"url": "data:image/png;base64,!!!!"}}]}, "openai"),
     ({"role": "user", "content": [{"type": "image", "source": {"type": "base64", "media_type": "image/png",
                                                                "data": "%%%"}}]}, "anthropic")],
    ids=["openai-data-url", "anthropic-source"],
)
async def test_binary_data_must_be_base64(client: Client, message: dict, fmt: str) -> None:
    session_id = await new_session(client)
    error = await call_error(client, "send_message", session_id=session_id, message=message, format=fmt)
    assert "invalid message at image data: is not valid base64" in error
    assert (await call(client, "get_session", session_id=session_id))["message_count"] == 0
