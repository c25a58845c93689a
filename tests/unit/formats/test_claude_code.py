"""Claude Code transcripts -> Anthropic messages, on a transcript the real CLI (2.1.328) wrote.

The fixture was captured from a run against the scripted Anthropic server (tests/fakes/anthropic_server.py):
a prompt answered with thinking, text and two parallel Bash calls (one failing), then a resumed second turn.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from acontext_mcp.errors import InvalidArgument
from acontext_mcp.formats import anthropic
from acontext_mcp.formats.claude_code import drop_unanswerable_results, parse_transcript

DATA = (Path(__file__).parent / "data" / "claude_code_2.1.328.jsonl").read_bytes()
LINES = DATA.splitlines(keepends=True)


def roles_and_types(messages: list[dict]) -> list[tuple[str, list[str]]]:
    return [(m["role"], [b["type"] for b in m["content"]]) for m in messages]


def test_every_turn_in_order_with_split_lines_joined() -> None:
    parsed = parse_transcript(DATA)
    assert roles_and_types(parsed.messages) == [
        ("user", ["text"]),
        ("assistant", ["thinking", "text", "tool_use", "tool_use"]),  # four lines of one API message
        ("user", ["tool_result", "tool_result"]),  # two lines, one user turn
        ("assistant", ["text"]),
        ("user", ["text"]),
        ("assistant", ["text"]),
    ]
    first, call, results = parsed.messages[:3]
    assert first["content"][0]["text"] == "Check two things with bash"
    assert [b["id"] for b in call["content"][2:]] == [b["tool_use_id"] for b in results["content"]]
    assert results["content"][0]["content"] == "alpha" and "is_error" not in results["content"][0]
    assert results["content"][1]["is_error"] is True
    assert call["content"][0]["thinking"] == "The user wants two files checked."
    assert parsed.consumed == len(DATA)
    assert (parsed.cwd or "").endswith("/proj") and parsed.git_branch == "feature-x" and parsed.version == "2.1.328"


def test_bookkeeping_is_counted_never_a_message() -> None:
    parsed = parse_transcript(DATA)
    assert parsed.lines == len(LINES)
    assert sum(parsed.skipped.values()) == len(LINES) - 10  # 10 lines carry conversation
    for kind in ("queue-operation", "api-request", "api-request-blob", "cost-state", "last-prompt",
                 "attachment:environment", "attachment:prompt_snapshot"):
        assert parsed.skipped[kind] >= 1, kind
    text = json.dumps(parsed.messages)
    assert "system-reminder" not in text and "totalCostUSD" not in text


def test_messages_are_valid_anthropic_and_round_trip() -> None:
    for message in parse_transcript(DATA).messages:
        assert anthropic.from_native(anthropic.to_native(message)) == message


@pytest.mark.parametrize("cut", range(1, len(LINES)))
def test_reading_in_two_goes_gives_the_same_messages(cut: int) -> None:
    """Whatever line the first read ends at (a hook firing mid-write), the two reads store each message once."""
    head = b"".join(LINES[:cut])
    first = parse_transcript(head)
    second = parse_transcript(DATA[first.consumed:])
    assert first.messages + second.messages == parse_transcript(DATA).messages


def test_an_unanswered_tool_call_waits_unless_final() -> None:
    upto_calls = b"".join(LINES[:24])  # the assistant's two tool calls, no results yet
    waiting = parse_transcript(upto_calls)
    assert roles_and_types(waiting.messages) == [("user", ["text"])]
    assert waiting.consumed == len(b"".join(LINES[:20]))  # the next read starts at the assistant's first line
    final = parse_transcript(upto_calls, final=True)
    assert roles_and_types(final.messages)[-1] == ("assistant", ["thinking", "text", "tool_use", "tool_use"])


def test_a_truncated_last_line_is_left_for_later() -> None:
    cut = DATA[: len(DATA) - 40]
    parsed = parse_transcript(cut)
    assert parsed.skipped["incomplete last line"] == 1
    assert parsed.consumed == len(b"".join(LINES[:-1]))
    assert parsed.messages == parse_transcript(DATA).messages


def test_not_a_transcript_is_refused_when_strict() -> None:
    with pytest.raises(InvalidArgument, match="not a Claude Code transcript"):
        parse_transcript(b'{"role": "user", "content": "hi"}\n', strict=True)
    with pytest.raises(InvalidArgument):
        parse_transcript(b"hello world\n", strict=True)
    assert parse_transcript(b"garbage\n" + DATA).skipped["invalid"] == 1


def test_sidechain_meta_and_synthetic_lines_are_skipped() -> None:
    lines = [
        {"type": "user", "isSidechain": True, "message": {"role": "user", "content": "subagent prompt"}},
        {"type": "user", "isMeta": True, "message": {"role": "user", "content": "<local-command-caveat>"}},
        {"type": "assistant", "message": {"id": "m1", "role": "assistant", "model": "<synthetic>",
                                          "content": [{"type": "text", "text": "No response requested."}]}},
        {"type": "summary", "summary": "A summary", "leafUuid": "x"},
        {"type": "user", "message": {"role": "user", "content": [{"type": "text", "text": "real"},
                                                               {"type": "server_tool_use", "id": "s"}]}},
    ]
    parsed = parse_transcript("".join(json.dumps(line) + "\n" for line in lines).encode())
    assert parsed.messages == [{"role": "user", "content": [{"type": "text", "text": "real"},
                                                           {"type": "text", "text": "[server_tool_use]"}]}]
    assert parsed.skipped["user:isSidechain"] == 1 and parsed.skipped["summary"] == 1


def test_results_of_calls_never_made_are_dropped() -> None:
    messages = [
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "gone", "content": "x"}]},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "a", "name": "Bash", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "a", "content": "ok"},
                                     {"type": "tool_result", "tool_use_id": "old", "content": "ok"}]},
    ]
    kept = drop_unanswerable_results(messages, known_calls={"old"})
    assert roles_and_types(kept) == [("assistant", ["tool_use"]), ("user", ["tool_result", "tool_result"])]
