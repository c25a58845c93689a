"""Property tests: any message the SDKs can send round-trips through the native format exactly."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given

from acontext_mcp.formats import anthropic, gemini, openai
from acontext_mcp.formats.native import Message, parse_native
from tests.unit.formats.strategies import anthropic_messages, gemini_messages, openai_messages


@given(openai_messages)
def test_openai_native_openai_is_lossless(message: dict[str, Any]) -> None:
    assert openai.from_native(openai.to_native(message)) == [message]


@given(anthropic_messages)
def test_anthropic_native_anthropic_is_lossless(message: dict[str, Any]) -> None:
    assert anthropic.from_native(anthropic.to_native(message)) == message


@given(openai_messages)
def test_native_json_round_trip(message: dict[str, Any]) -> None:
    native = openai.to_native(message)
    stored = json.loads(json.dumps(native.model_dump(mode="json", exclude_none=True)))
    assert parse_native(stored) == native


@given(anthropic_messages)
def test_anthropic_reads_as_valid_openai(message: dict[str, Any]) -> None:
    """Every Anthropic message converts to OpenAI messages that OpenAI itself reads back."""
    for written in openai.from_native(anthropic.to_native(message)):
        assert isinstance(openai.to_native(written), Message)


@given(openai_messages)
def test_openai_reads_as_valid_anthropic(message: dict[str, Any]) -> None:
    native = openai.to_native(message)
    assert isinstance(anthropic.to_native(anthropic.from_native(native)), Message)


@given(gemini_messages)
def test_gemini_native_gemini_is_lossless(message: dict[str, Any]) -> None:
    assert gemini.from_native(gemini.to_native(message)) == message


@given(gemini_messages)
def test_gemini_native_json_round_trip(message: dict[str, Any]) -> None:
    native = gemini.to_native(message)
    stored = json.loads(json.dumps(native.model_dump(mode="json", exclude_none=True)))
    assert parse_native(stored) == native


@given(gemini_messages)
def test_gemini_reads_as_valid_openai_and_anthropic(message: dict[str, Any]) -> None:
    native = gemini.to_native(message)
    for written in openai.from_native(native):
        assert isinstance(openai.to_native(written), Message)
    assert isinstance(anthropic.to_native(anthropic.from_native(native)), Message)


@given(openai_messages)
def test_openai_reads_as_valid_gemini(message: dict[str, Any]) -> None:
    assert isinstance(gemini.to_native(gemini.from_native(openai.to_native(message))), Message)


@given(anthropic_messages)
def test_anthropic_reads_as_valid_gemini(message: dict[str, Any]) -> None:
    assert isinstance(gemini.to_native(gemini.from_native(anthropic.to_native(message))), Message)
