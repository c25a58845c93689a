"""Reading a message back in the other provider's format."""

from __future__ import annotations

from acontext_mcp.formats import (
    FORMATS,
    Written,
    anthropic,
    from_native,
    openai,
    to_native,
)


def test_anthropic_tool_use_reads_as_openai_tool_calls() -> None:
    native = anthropic.to_native({
        "role": "assistant",
        "content": [
            {"type": "text", "text": "Searching."},
            {"type": "tool_use", "id": "toolu_1", "name": "search", "input": {"q": "x"}},
        ],
    })
    assert openai.from_native(native) == [{
        "role": "assistant",
        "content": [{"type": "text", "text": "Searching."}],
        "tool_calls": [
            {"id": "toolu_1", "type": "function", "function": {"name": "search", "arguments": '{"q": "x"}'}},
        ],
    }]


def test_openai_tool_calls_read_as_anthropic_tool_use() -> None:
    native = openai.to_native({
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "search", "arguments": '{"q": "x"}'}}],
    })
    assert anthropic.from_native(native) == {
        "role": "assistant",
        "content": [{"type": "tool_use", "id": "call_1", "name": "search", "input": {"q": "x"}}],
    }


def test_openai_tool_message_reads_as_anthropic_tool_result() -> None:
    native = openai.to_native({"role": "tool", "tool_call_id": "call_1", "content": "done"})
    assert anthropic.from_native(native) == {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "call_1", "content": "done"}],
    }


def test_anthropic_tool_results_split_into_openai_tool_messages() -> None:
    native = anthropic.to_native({
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "a", "content": "1"},
            {"type": "tool_result", "tool_use_id": "b", "content": [{"type": "text", "text": "2"}]},
            {"type": "text", "text": "thanks"},
        ],
    })
    assert openai.from_native(native) == [
        {"role": "tool", "tool_call_id": "a", "content": "1"},
        {"role": "tool", "tool_call_id": "b", "content": [{"type": "text", "text": "2"}]},
        {"role": "user", "content": [{"type": "text", "text": "thanks"}]},
    ]


def test_invalid_json_arguments_are_kept_for_anthropic() -> None:
    native = openai.to_native({
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{oops"}}],
    })
    assert anthropic.from_native(native)["content"][0]["input"] == {"arguments": "{oops"}


def test_images_convert_both_ways() -> None:
    data = "aGVsbG8="
    native = anthropic.to_native({"role": "user", "content": [
        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}},
    ]})
    [message] = openai.from_native(native)
    assert message["content"] == [{"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}}]
    back = anthropic.from_native(openai.to_native(message))
    assert back["content"] == [{"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}}]


def test_from_native_tracks_origins_and_system() -> None:
    natives = [
        to_native({"role": "system", "content": "rules"}, "openai"),
        to_native({"role": "user", "content": [{"type": "tool_result", "tool_use_id": "a"},
                                               {"type": "text", "text": "x"}]}, "anthropic"),
    ]
    assert from_native(natives, "openai").origins == [0, 1, 1]
    written = from_native(natives, "anthropic")
    assert (written.system, written.origins) == ("rules", [1])
    assert isinstance(from_native(natives, "acontext"), Written)
    assert FORMATS == ("openai", "anthropic", "acontext", "gemini")
