"""Edit strategies on native messages: each strategy's behaviour, its errors, and properties over random sessions."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from acontext_mcp.errors import InvalidArgument
from acontext_mcp.formats import from_native
from acontext_mcp.formats.editing import (
    DEFAULT_PLACEHOLDER,
    EditStrategy,
    Entry,
    MiddleOut,
    RemoveToolCallParams,
    RemoveToolResult,
    TokenLimit,
    apply_strategies,
    total_tokens,
)
from acontext_mcp.formats.native import Message, TextPart, ToolCallPart, ToolResultPart
from acontext_mcp.tokens import EstimateCounter, message_tokens
from tests.support.rules import anthropic_problems, openai_problems
from tests.support.sessions import native_sessions

COUNTER = EstimateCounter()
STRATEGIES = TypeAdapter(list[EditStrategy])


def entries_of(messages: list[Message]) -> list[Entry]:
    return [Entry(message, message_tokens(message, COUNTER), index) for index, message in enumerate(messages)]


def text(role: str, words: int) -> Message:
    return Message(role=role, parts=[TextPart(text=" ".join(["word"] * words))])  # type: ignore[arg-type]


def call(call_id: str, arguments: str = '{"path": "a/long/path/to/some/file.py", "line": 12}') -> Message:
    return Message(role="assistant", parts=[ToolCallPart(id=call_id, name="read", arguments=arguments)])


def result(call_id: str, words: int = 50) -> Message:
    content = [TextPart(text=" ".join(["line"] * words))]
    return Message(role="user", parts=[ToolResultPart(tool_call_id=call_id, content=content)])


def conversation() -> list[Message]:
    """system, then three turns: question, call, result, answer."""
    messages = [text("system", 20)]
    for turn in range(3):
        messages += [text("user", 10), call(f"c{turn}"), result(f"c{turn}"), text("assistant", 10)]
    return messages


def origins(entries: list[Entry]) -> list[int]:
    return [entry.origin for entry in entries]


def assert_valid_for_both(entries: list[Entry]) -> None:
    natives = [entry.message for entry in entries]
    assert openai_problems(from_native(natives, "openai").items) == []
    anthropic = from_native(natives, "anthropic")
    assert anthropic_problems(anthropic.items, anthropic.system) == []


def test_remove_tool_result_keeps_the_newest_and_the_shape() -> None:
    entries = entries_of(conversation())
    out = apply_strategies(
        entries, [RemoveToolResult(type="remove_tool_result", keep_recent_n=1, placeholder="gone")], COUNTER
    )
    results = [part for entry in out for part in entry.message.parts if isinstance(part, ToolResultPart)]
    assert [r.content[0].text for r in results[:2]] == ["gone", "gone"]  # type: ignore[union-attr]
    assert results[2].content[0].text == "line " * 49 + "line"  # type: ignore[union-attr]
    assert [r.tool_call_id for r in results] == ["c0", "c1", "c2"]
    assert total_tokens(out) < total_tokens(entries)
    assert all(entry.tokens == message_tokens(entry.message, COUNTER) for entry in out)
    assert entries == entries_of(conversation())  # the input is untouched


def test_remove_tool_result_never_makes_a_result_longer() -> None:
    messages = [text("user", 1), call("c0"), result("c0", words=1)]
    out = apply_strategies(
        entries_of(messages), [RemoveToolResult(type="remove_tool_result", keep_recent_n=0)], COUNTER
    )
    assert out[2].message == messages[2]  # "line" is cheaper than the default placeholder
    assert DEFAULT_PLACEHOLDER not in str(out)


def test_remove_tool_call_params() -> None:
    out = apply_strategies(
        entries_of(conversation()), [RemoveToolCallParams(type="remove_tool_call_params", keep_recent_n=2)], COUNTER
    )
    calls = [part for entry in out for part in entry.message.parts if isinstance(part, ToolCallPart)]
    assert [c.arguments for c in calls] == ["{}", calls[1].arguments, calls[2].arguments]
    assert calls[1].arguments != "{}" and [c.id for c in calls] == ["c0", "c1", "c2"]


def test_token_limit_drops_oldest_turns_and_keeps_the_system_message() -> None:
    entries = entries_of(conversation())
    turn = total_tokens(entries[1:5])
    two_turns = entries[0].tokens + 2 * turn
    out = apply_strategies(entries, [TokenLimit(type="token_limit", limit_tokens=two_turns)], COUNTER)
    assert origins(out) == [0, 5, 6, 7, 8, 9, 10, 11, 12]
    out = apply_strategies(entries, [TokenLimit(type="token_limit", limit_tokens=two_turns - 1)], COUNTER)
    assert origins(out) == [0, 9, 10, 11, 12]


def test_token_limit_leaves_a_session_that_fits_alone() -> None:
    entries = entries_of(conversation())
    roomy = [TokenLimit(type="token_limit", limit_tokens=total_tokens(entries))]
    assert apply_strategies(entries, roomy, COUNTER) == entries


def test_token_limit_never_splits_a_call_from_its_result() -> None:
    """A result stored after an unrelated user message still ties the messages between to its call."""
    messages = [text("user", 5), call("c0"), text("user", 5), result("c0"), text("assistant", 5), text("user", 5)]
    entries = entries_of(messages)
    out = apply_strategies(entries, [TokenLimit(type="token_limit", limit_tokens=total_tokens(entries) - 1)], COUNTER)
    assert origins(out) == [5]


def test_middle_out_keeps_the_first_and_newest_turns() -> None:
    entries = entries_of(conversation())
    turn = total_tokens(entries[1:5])
    out = apply_strategies(entries, [MiddleOut(type="middle_out", limit_tokens=entries[0].tokens + 2 * turn)], COUNTER)
    assert origins(out) == [0, 1, 2, 3, 4, 9, 10, 11, 12]
    assert_valid_for_both(out)


def test_middle_out_falls_back_to_the_newest_turn() -> None:
    entries = entries_of(conversation())
    turn = total_tokens(entries[9:])
    out = apply_strategies(entries, [MiddleOut(type="middle_out", limit_tokens=entries[0].tokens + turn)], COUNTER)
    assert origins(out) == [0, 9, 10, 11, 12]


@pytest.mark.parametrize("kind", ["token_limit", "middle_out"])
def test_limit_below_the_system_message_is_refused(kind: str) -> None:
    entries = entries_of(conversation())
    with pytest.raises(
        InvalidArgument, match=rf"limit_tokens 5 is smaller than the system message \({entries[0].tokens} tokens\)"
    ):
        apply_strategies(entries, STRATEGIES.validate_python([{"type": kind, "limit_tokens": 5}]), COUNTER)


def test_limit_below_the_newest_turn_is_refused() -> None:
    entries = entries_of(conversation())
    newest = total_tokens(entries[9:])
    limit = entries[0].tokens + newest - 1
    with pytest.raises(InvalidArgument, match=rf"the newest turn \({newest} tokens\).*remove_tool_result"):
        apply_strategies(entries, [TokenLimit(type="token_limit", limit_tokens=limit)], COUNTER)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"type": "summarise"}, "does not match any of the expected tags: "
                                "'remove_tool_result', 'remove_tool_call_params', 'token_limit', 'middle_out'"),
        ({"type": "remove_tool_result", "keep_recent_n": -1}, "greater than or equal to 0"),
        ({"type": "token_limit", "limit_tokens": -5}, "greater than or equal to 1"),
        ({"type": "remove_tool_result", "placeholder": ""}, "at least 1 character"),
        ({"type": "token_limit"}, "limit_tokens\n  Field required"),
        ({"type": "middle_out", "limit_tokens": 10, "keep": 1}, "Extra inputs are not permitted"),
        ({"keep_recent_n": 1}, "Unable to extract tag using discriminator 'type'"),
    ],
)
def test_bad_strategies_are_refused_at_the_edge(raw: dict[str, Any], expected: str) -> None:
    with pytest.raises(ValidationError) as info:
        STRATEGIES.validate_python([raw])
    assert expected in str(info.value)


strategy_shapes = st.lists(
    st.one_of(
        st.builds(RemoveToolResult, type=st.just("remove_tool_result"), keep_recent_n=st.integers(0, 4),
                  placeholder=st.sampled_from(["x", DEFAULT_PLACEHOLDER])),
        st.builds(RemoveToolCallParams, type=st.just("remove_tool_call_params"), keep_recent_n=st.integers(0, 4)),
        st.tuples(st.sampled_from(["token_limit", "middle_out"]), st.floats(0.0, 1.2)),
    ),
    max_size=4,
)


@given(native_sessions(), strategy_shapes)
def test_any_strategy_sequence_stays_valid_and_within_budget(messages: list[Message], shapes: list[Any]) -> None:
    entries = entries_of(messages)
    total = total_tokens(entries)
    strategies = [
        STRATEGIES.validate_python([{"type": s[0], "limit_tokens": max(1, int(s[1] * total))}])[0]
        if isinstance(s, tuple) else s
        for s in shapes
    ]
    try:
        out = apply_strategies(entries, strategies, COUNTER)
    except InvalidArgument as exc:
        assert any(isinstance(s, TokenLimit | MiddleOut) for s in strategies)
        assert str(exc).startswith("limit_tokens")
        return
    assert all(total_tokens(out) <= s.limit_tokens for s in strategies if isinstance(s, TokenLimit | MiddleOut))
    assert all(entry.tokens == message_tokens(entry.message, COUNTER) for entry in out)
    assert origins(out) == sorted(set(origins(out)))
    system = [entry for entry in entries if entry.message.role == "system"]
    assert out[: len(system)] == system
    assert_valid_for_both(out)


@given(native_sessions())
def test_generated_sessions_are_valid_and_a_roomy_limit_changes_nothing(messages: list[Message]) -> None:
    entries = entries_of(messages)
    assert_valid_for_both(entries)
    strategies = [TokenLimit(type="token_limit", limit_tokens=total_tokens(entries)),
                  MiddleOut(type="middle_out", limit_tokens=total_tokens(entries))]
    assert apply_strategies(entries, strategies, COUNTER) == entries
