"""Reads in `openai` and `anthropic` format pass each API's own rules (tests/support/rules.py):
over random and messy sessions, plain and after every chain of edit strategies."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acontext_mcp.errors import InvalidArgument, InvalidMessage
from acontext_mcp.formats import from_native, to_native
from acontext_mcp.formats.editing import Entry, apply_strategies, total_tokens
from acontext_mcp.formats.native import Message
from acontext_mcp.formats.sequence import check_content
from acontext_mcp.tokens import EstimateCounter, message_tokens
from tests.support.rules import anthropic_problems, openai_problems
from tests.support.sessions import messy_sessions, native_sessions
from tests.unit.formats.test_editing import STRATEGIES

COUNTER = EstimateCounter()
KINDS = ["remove_tool_result", "remove_tool_call_params", "token_limit", "middle_out"]
CHAINS = [chain for n in range(1, 3) for chain in itertools.product(KINDS, repeat=n)]


def in_progress(messages: list[Message]) -> bool:
    """True when the newest assistant message has calls no later message answers."""
    last = max((i for i, m in enumerate(messages) if m.role == "assistant"), default=None)
    if last is None:
        return False
    answered = {p.tool_call_id for m in messages[last + 1 :] for p in m.parts if p.type == "tool-result"}  # type: ignore[union-attr]
    return bool(set(messages[last].tool_call_ids()) - answered)


def assert_valid_reads(messages: list[Message]) -> None:
    complete = not in_progress(messages)
    openai = from_native(messages, "openai")
    assert openai_problems(openai.items, complete=complete) == [], openai.items
    if any(m.role != "system" for m in messages):
        anthropic = from_native(messages, "anthropic")
        assert anthropic_problems(anthropic.items, anthropic.system, complete=complete) == [], anthropic.items


def openai_session(*messages: dict[str, Any]) -> list[Message]:
    return [to_native(message, "openai") for message in messages]


PARALLEL = openai_session(
    {"role": "user", "content": "weather in Paris and Rome?"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "a", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Paris"}'}},
        {"id": "b", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Rome"}'}},
    ]},
    {"role": "tool", "tool_call_id": "a", "content": "sunny"},
    {"role": "tool", "tool_call_id": "b", "content": "rain"},
    {"role": "assistant", "content": "Paris sunny, Rome rain."},
)


def test_parallel_tool_results_read_as_one_anthropic_user_message() -> None:
    written = from_native(PARALLEL, "anthropic")
    assert [m["role"] for m in written.items] == ["user", "assistant", "user", "assistant"]
    assert [b["tool_use_id"] for b in written.items[2]["content"]] == ["a", "b"]
    assert written.sources[2] == [2, 3] and written.origins[2] == 2
    assert anthropic_problems(written.items) == []
    assert from_native(PARALLEL, "openai").items[2:4] == [
        {"role": "tool", "tool_call_id": "a", "content": "sunny"},
        {"role": "tool", "tool_call_id": "b", "content": "rain"},
    ]


def test_a_user_message_between_a_call_and_its_result_reads_after_the_result() -> None:
    session = [*PARALLEL[:3], to_native({"role": "user", "content": "hurry"}, "openai"), *PARALLEL[3:]]
    openai = from_native(session, "openai").items
    assert [m["role"] for m in openai] == ["user", "assistant", "tool", "tool", "user", "assistant"]
    anthropic = from_native(session, "anthropic").items
    assert [b["type"] for b in anthropic[2]["content"]] == ["tool_result", "tool_result", "text"]
    assert_valid_reads(session)


def test_a_second_result_for_an_answered_call_is_left_out() -> None:
    again = to_native({"role": "tool", "tool_call_id": "a", "content": "cloudy"}, "openai")
    session = [*PARALLEL[:4], again, *PARALLEL[4:]]
    written = from_native(session, "openai")
    assert [m.get("content") for m in written.items if m["role"] == "tool"] == ["sunny", "rain"]
    assert_valid_reads(session)


def test_an_abandoned_call_is_left_out_and_a_call_in_progress_stays() -> None:
    session = [*PARALLEL[:3], to_native({"role": "assistant", "content": "b failed"}, "openai")]
    anthropic = from_native(session, "anthropic").items
    assert [b["id"] for b in anthropic[1]["content"]] == ["a"]
    assert_valid_reads(session)
    assert [c["id"] for c in from_native(PARALLEL[:3], "openai").items[1]["tool_calls"]] == ["a", "b"]


@pytest.mark.parametrize(
    ("message", "fmt"),
    [
        ({"role": "assistant", "content": None}, "openai"),
        ({"role": "assistant"}, "openai"),
        ({"role": "user", "content": ""}, "openai"),
        ({"role": "user", "content": []}, "openai"),
        ({"role": "user", "content": " \n"}, "openai"),
        ({"role": "user", "content": []}, "anthropic"),
        ({"role": "assistant", "content": [{"type": "text", "text": ""}]}, "anthropic"),
        ({"role": "user", "parts": []}, "acontext"),
    ],
)
def test_empty_messages_are_refused(message: dict[str, Any], fmt: str) -> None:
    with pytest.raises(InvalidMessage, match="must not be empty"):
        check_content(to_native(message, fmt))  # type: ignore[arg-type]


def test_blank_text_blocks_are_left_out_of_anthropic_reads() -> None:
    session = openai_session(
        {"role": "user", "content": [{"type": "text", "text": ""}, {"type": "text", "text": "hi"}]},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "a", "content": ""},
    )
    items = from_native(session, "anthropic").items
    assert items[0]["content"] == [{"type": "text", "text": "hi"}]
    assert [b["type"] for b in items[1]["content"]] == ["tool_use"]
    assert_valid_reads(session)


@given(native_sessions())
def test_random_sessions_read_valid_for_both(messages: list[Message]) -> None:
    assert_valid_reads(messages)


@given(messy_sessions())
@settings(max_examples=200)
def test_messy_sessions_read_valid_for_both(messages: list[Message]) -> None:
    assert_valid_reads(messages)


@pytest.mark.parametrize("chain", CHAINS, ids="+".join)
@given(messages=st.one_of(native_sessions(), messy_sessions()), data=st.data())
@settings(max_examples=15, deadline=None)
def test_every_strategy_chain_reads_valid_for_both(
    chain: tuple[str, ...], messages: list[Message], data: st.DataObject
) -> None:
    entries = [Entry(m, message_tokens(m, COUNTER), i) for i, m in enumerate(messages)]
    total = total_tokens(entries)
    raw = []
    for kind in chain:
        if kind in ("token_limit", "middle_out"):
            raw.append({"type": kind, "limit_tokens": max(1, int(data.draw(st.floats(0.2, 1.1)) * total))})
        else:
            raw.append({"type": kind, "keep_recent_n": data.draw(st.integers(0, 3))})
    try:
        out = apply_strategies(entries, STRATEGIES.validate_python(raw), COUNTER)
    except InvalidArgument:
        return
    assert_valid_reads([entry.message for entry in out])
