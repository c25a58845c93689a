"""Gemini <-> native: the shapes the Gemini API and google-genai send survive the round trip exactly,
read as the other formats, and malformed ones name their field."""

from __future__ import annotations

from typing import Any

import pytest

from acontext_mcp.errors import InvalidMessage
from acontext_mcp.formats import anthropic, from_native, gemini, openai, to_native
from acontext_mcp.formats.native import AudioPart, ImagePart, ThinkingPart, ToolCallPart, ToolResultPart

PNG = "iVBORw0KGgo="

ROUND_TRIPS: list[dict[str, Any]] = [
    {"role": "user", "parts": [{"text": "hi"}]},
    {"role": "system", "parts": [{"text": "Be terse."}]},
    {"role": "user", "parts": [{"text": "look"}, {"inlineData": {"mimeType": "image/png", "data": PNG}}]},
    {"role": "user", "parts": [{"inline_data": {"mime_type": "audio/wav", "data": PNG}}]},
    {"role": "user", "parts": [{"fileData": {"mimeType": "application/pdf", "fileUri": "gs://b/a.pdf"}}]},
    {"role": "model", "parts": [{"text": "plan", "thought": True, "thoughtSignature": "sig"}, {"text": "Sure."}]},
    {"role": "model", "parts": [{"functionCall": {"id": "c1", "name": "search", "args": {"q": "x", "n": 2}}}]},
    {"role": "model", "parts": [{"function_call": {"id": "c2", "name": "noop"}}]},
    {"role": "user", "parts": [{"functionResponse": {"id": "c1", "name": "search", "response": {"hits": [1]}}}]},
]


@pytest.mark.parametrize("message", ROUND_TRIPS, ids=lambda m: m["role"])
def test_round_trip_is_exact(message: dict[str, Any]) -> None:
    assert gemini.from_native(gemini.to_native(message)) == message


def test_parts_read_as_native() -> None:
    image = gemini.to_native(ROUND_TRIPS[2]).parts[1]
    assert isinstance(image, ImagePart) and (image.media_type, image.data) == ("image/png", PNG)
    audio = gemini.to_native(ROUND_TRIPS[3]).parts[0]
    assert isinstance(audio, AudioPart) and audio.format == "wav"
    thought = gemini.to_native(ROUND_TRIPS[5])
    assert thought.role == "assistant" and isinstance(thought.parts[0], ThinkingPart)
    call = gemini.to_native(ROUND_TRIPS[6]).parts[0]
    assert isinstance(call, ToolCallPart) and (call.id, call.name, call.arguments) == ("c1", "search",
                                                                                      '{"q": "x", "n": 2}')
    result = gemini.to_native(ROUND_TRIPS[8]).parts[0]
    assert isinstance(result, ToolResultPart) and result.tool_call_id == "c1"


def test_openai_tool_turn_reads_as_gemini_with_the_function_name() -> None:
    natives = [
        to_native({"role": "system", "content": "rules"}, "openai"),
        to_native({"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "search", "arguments": '{"q": "x"}'}}]},
            "openai"),
        to_native({"role": "tool", "tool_call_id": "call_1", "content": "3 results"}, "openai"),
    ]
    written = from_native(natives, "gemini")
    assert written.system == [{"text": "rules"}]
    assert written.items == [
        {"role": "model", "parts": [{"functionCall": {"id": "call_1", "name": "search", "args": {"q": "x"}}}]},
        {"role": "user", "parts": [{"functionResponse": {"id": "call_1", "name": "search",
                                                         "response": {"output": "3 results"}}}]},
    ]
    assert written.origins == [1, 2]


def test_gemini_reads_as_openai_and_anthropic() -> None:
    call = gemini.to_native(ROUND_TRIPS[6])
    assert openai.from_native(call)[0]["tool_calls"][0]["function"] == {"name": "search",
                                                                        "arguments": '{"q": "x", "n": 2}'}
    result = gemini.to_native(ROUND_TRIPS[8])
    assert anthropic.from_native(result)["content"][0] == {"type": "tool_result", "tool_use_id": "c1",
                                                           "content": [{"type": "text", "text": '{"hits": [1]}'}]}


@pytest.mark.parametrize(
    ("message", "field", "problem"),
    [
        ({"parts": []}, "role", "is required"),
        ({"role": "assistant", "parts": []}, "role", "unknown role 'assistant'"),
        ({"role": "user"}, "parts", "is required"),
        ({"role": "user", "parts": [{}]}, "parts.0", "exactly one of"),
        ({"role": "user", "parts": [{"text": "a", "inlineData": {}}]}, "parts.0", "exactly one of"),
        ({"role": "user", "parts": [{"inlineData": {"data": PNG}}]}, "parts.0.inlineData.mimeType", "is required"),
        ({"role": "model", "parts": [{"functionCall": {"name": "f"}}]}, "parts.0.functionCall.id", "is required"),
        ({"role": "model", "parts": [{"functionCall": {"id": "c", "name": "f", "args": [1]}}]},
         "parts.0.functionCall.args", "must be an object"),
        ({"role": "user", "parts": [{"functionResponse": {"id": "c", "name": "f", "response": "ok"}}]},
         "parts.0.functionResponse.response", "must be an object"),
        ({"role": "user", "parts": [{"text": "x", "thought": True}]}, "parts.0", "cannot hold a 'thinking' part"),
    ],
)
def test_malformed_messages_name_the_field(message: Any, field: str, problem: str) -> None:
    with pytest.raises(InvalidMessage) as raised:
        gemini.to_native(message)
    assert raised.value.field == field or field in str(raised.value)
    assert problem in str(raised.value)
