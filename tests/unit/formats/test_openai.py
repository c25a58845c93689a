"""OpenAI <-> native: every message shape the openai SDK sends survives the round trip exactly."""

from __future__ import annotations

from typing import Any

import pytest

from acontext_mcp.errors import InvalidMessage
from acontext_mcp.formats import openai
from acontext_mcp.formats.native import ImagePart, ToolCallPart, ToolResultPart

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

ROUND_TRIPS: list[dict[str, Any]] = [
    {"role": "system", "content": "You are terse."},
    {"role": "developer", "content": [{"type": "text", "text": "Prefer tools."}]},
    {"role": "user", "content": "hi", "name": "ana"},
    {"role": "user", "content": [
        {"type": "text", "text": "look"},
        {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "high"}},
    ]},
    {"role": "user", "content": [{"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}]},
    {"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}}]},
    {"role": "user", "content": [
        {"type": "file", "file": {"file_data": f"data:application/pdf;base64,{PNG}", "filename": "a.pdf"}},
    ]},
    {"role": "user", "content": [{"type": "file", "file": {"file_id": "file-abc"}}]},
    {"role": "assistant", "content": "Sure."},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function", "function": {"name": "search", "arguments": "{\"q\": \"iPhone\"}"}},
        {"id": "call_2", "type": "function", "function": {"name": "noop", "arguments": ""}},
    ]},
    {"role": "assistant", "content": "Let me look.", "tool_calls": [
        {"id": "call_3", "type": "function", "function": {"name": "f", "arguments": "{not json"}}]},
    {"role": "assistant", "tool_calls": [
        {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
    {"role": "assistant", "content": [{"type": "refusal", "refusal": "I can't."}], "refusal": "I can't."},
    {"role": "assistant", "content": "", "audio": {"id": "audio_1"}},
    {"role": "tool", "tool_call_id": "call_1", "content": "3 results"},
    {"role": "tool", "tool_call_id": "call_1", "content": [
        {"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
]


@pytest.mark.parametrize("message", ROUND_TRIPS, ids=lambda m: f"{m['role']}")
def test_round_trip_is_exact(message: dict[str, Any]) -> None:
    assert openai.from_native(openai.to_native(message)) == [message]


def test_tool_message_becomes_a_user_tool_result() -> None:
    native = openai.to_native({"role": "tool", "tool_call_id": "call_1", "content": "ok"})
    assert native.role == "user"
    [part] = native.parts
    assert isinstance(part, ToolResultPart)
    assert (part.tool_call_id, part.content[0].text) == ("call_1", "ok")  # type: ignore[union-attr]


def test_data_url_image_is_stored_as_base64() -> None:
    native = openai.to_native(
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}]}
    )
    [part] = native.parts
    assert isinstance(part, ImagePart)
    assert (part.media_type, part.data, part.url) == ("image/png", PNG, None)


def test_tool_calls_keep_raw_arguments() -> None:
    native = openai.to_native(ROUND_TRIPS[10])
    call = native.parts[-1]
    assert isinstance(call, ToolCallPart)
    assert (call.id, call.name, call.arguments) == ("call_3", "f", "{not json")


@pytest.mark.parametrize(
    ("message", "field", "problem"),
    [
        ({"content": "x"}, "role", "is required"),
        ({"role": "robot", "content": "x"}, "role", "unknown role 'robot'"),
        ({"role": "user"}, "content", "is required"),
        ({"role": "user", "content": 5}, "content", "expected a list"),
        ({"role": "user", "content": [{"type": "video", "video": {}}]},
         "content.0.type", "unknown content part type 'video'"),
        ({"role": "user", "content": [{"type": "text"}]}, "content.0.text", "is required"),
        ({"role": "user", "content": [{"type": "image_url", "image_url": {}}]},
         "content.0.image_url.url", "is required"),
        ({"role": "user", "content": [{"type": "file", "file": {}}]}, "content.0.file", "give file_data or file_id"),
        ({"role": "assistant", "content": None,
          "tool_calls": [{"id": "", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
         "tool_calls.0.id", "must not be empty"),
        ({"role": "assistant", "content": None,
          "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f"}}]},
         "tool_calls.0.function.arguments", "is required"),
        ({"role": "assistant", "content": None, "tool_calls": [{"id": "c", "type": "custom", "custom": {}}]},
         "tool_calls.0.type", "unknown tool call type 'custom'"),
        ({"role": "tool", "content": "x"}, "tool_call_id", "is required"),
        ({"role": "tool", "tool_call_id": "c", "content": [{"type": "image_url", "image_url": {"url": "u"}}]},
         "content.0.type", "text parts only"),
        ({"role": "system", "content": [{"type": "image_url", "image_url": {"url": "u"}}]},
         "parts.0", "cannot hold a 'image' part"),
        ("just text", "", "expected an object"),
    ],
)
def test_malformed_messages_name_the_field(message: Any, field: str, problem: str) -> None:
    with pytest.raises(InvalidMessage) as raised:
        openai.to_native(message)
    assert raised.value.field == field or field in str(raised.value)
    assert problem in str(raised.value)
