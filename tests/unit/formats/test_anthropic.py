"""Anthropic <-> native: every message shape the anthropic SDK sends survives the round trip exactly."""

from __future__ import annotations

from typing import Any

import pytest

from acontext_mcp.errors import InvalidMessage
from acontext_mcp.formats import anthropic
from acontext_mcp.formats.native import ThinkingPart, ToolCallPart

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

ROUND_TRIPS: list[dict[str, Any]] = [
    {"role": "user", "content": "hello"},
    {"role": "user", "content": [{"type": "text", "text": "hi", "cache_control": {"type": "ephemeral"}}]},
    {"role": "user", "content": [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
    ]},
    {"role": "user", "content": [{"type": "image", "source": {"type": "url", "url": "https://x/y.png"}}]},
    {"role": "user", "content": [{"type": "image", "source": {"type": "file", "file_id": "file_1"}}]},
    {"role": "user", "content": [
        {"type": "document", "source": {"type": "base64", "media_type": "application/pdf", "data": PNG},
         "title": "spec"},
    ]},
    {"role": "user", "content": [
        {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "plain"},
         "citations": {"enabled": True}},
    ]},
    {"role": "user", "content": [{"type": "document", "source": {"type": "url", "url": "https://x/a.pdf"}}]},
    {"role": "assistant", "content": [
        {"type": "thinking", "thinking": "The user wants news.", "signature": "sig=="},
        {"type": "redacted_thinking", "data": "opaque"},
        {"type": "text", "text": "Searching."},
        {"type": "tool_use", "id": "toolu_1", "name": "search", "input": {"q": "iPhone", "n": [1, 2.5, None]}},
    ]},
    {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "3 results"},
        {"type": "tool_result", "tool_use_id": "toolu_2", "content": [
            {"type": "text", "text": "a"},
            {"type": "image", "source": {"type": "url", "url": "https://x/s.png"}},
        ], "is_error": True},
        {"type": "tool_result", "tool_use_id": "toolu_3"},
        {"type": "tool_result", "tool_use_id": "toolu_4", "content": [], "is_error": False},
        {"type": "text", "text": "and also this"},
    ]},
    {"role": "system", "content": "You are terse."},
]


@pytest.mark.parametrize("message", ROUND_TRIPS, ids=lambda m: m["role"])
def test_round_trip_is_exact(message: dict[str, Any]) -> None:
    assert anthropic.from_native(anthropic.to_native(message)) == message


def test_thinking_and_tool_use_become_native_parts() -> None:
    native = anthropic.to_native(ROUND_TRIPS[8])
    thinking, _, _, call = native.parts
    assert isinstance(thinking, ThinkingPart) and thinking.signature == "sig=="
    assert isinstance(call, ToolCallPart)
    assert (call.id, call.name) == ("toolu_1", "search")


def test_system_prompt_gathers_system_messages() -> None:
    natives = [anthropic.to_native({"role": "system", "content": "A"}),
               anthropic.to_native({"role": "system", "content": "B"})]
    assert anthropic.system_prompt(natives) == "A\n\nB"
    listed = anthropic.to_native(
        {"role": "system", "content": [{"type": "text", "text": "C", "cache_control": {"type": "ephemeral"}}]}
    )
    assert anthropic.system_prompt([listed]) == [{"type": "text", "text": "C", "cache_control": {"type": "ephemeral"}}]
    assert anthropic.system_prompt([anthropic.to_native({"role": "user", "content": "x"})]) is None


@pytest.mark.parametrize(
    ("message", "field", "problem"),
    [
        ({"content": "x"}, "role", "is required"),
        ({"role": "tool", "content": "x"}, "role", "unknown role 'tool'"),
        ({"role": "user"}, "content", "is required"),
        ({"role": "user", "content": [{"type": "server_tool_use"}]},
         "content.0.type", "unknown content block type 'server_tool_use'"),
        ({"role": "user", "content": [{"type": "image", "source": {"type": "base64", "data": "x"}}]},
         "content.0.source.media_type", "is required"),
        ({"role": "user", "content": [{"type": "image", "source": {"type": "text", "data": "x"}}]},
         "content.0.source.type", "unknown source type 'text'"),
        ({"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f"}]},
         "content.0.input", "must be an object"),
        ({"role": "user", "content": [{"type": "tool_result", "content": "x"}]},
         "content.0.tool_use_id", "is required"),
        ({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "is_error": "yes"}]},
         "content.0.is_error", "expected true or false"),
        ({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "content": [{"type": "tool_use"}]}]},
         "content.0.content.0.type", "unknown content block type 'tool_use'"),
        ({"role": "user", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": {}}]},
         "parts.0", "cannot hold a 'tool-call' part"),
        ({"role": "assistant", "content": [{"type": "tool_result", "tool_use_id": "t"}]},
         "parts.0", "cannot hold a 'tool-result' part"),
    ],
)
def test_malformed_messages_name_the_field(message: Any, field: str, problem: str) -> None:
    with pytest.raises(InvalidMessage) as raised:
        anthropic.to_native(message)
    assert field in str(raised.value)
    assert problem in str(raised.value)
