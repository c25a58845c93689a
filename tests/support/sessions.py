"""Whole sessions with tool calls, valid for both OpenAI and Anthropic: random (hypothesis) and fixed.

`native_sessions()` draws native message lists for property tests; `tool_session(n)` builds a
deterministic session of exactly `n` OpenAI messages for integration tests and benchmarks.
"""

from __future__ import annotations

import json
import random
from typing import Any

from hypothesis import strategies as st

from acontext_mcp.formats.native import (
    ImagePart,
    Message,
    TextPart,
    ToolCallPart,
    ToolResultPart,
)
from tests.support.token_corpus import LOGS, PROSE

# never blank: every message has something in it
words = st.text(alphabet="abcdefghij klmnop,.{}\"'0123456789\n", max_size=120).map(lambda text: "w" + text)


@st.composite
def native_sessions(draw: st.DrawFn) -> list[Message]:
    """System prompt (maybe), then turns: a user message, tool rounds, maybe an assistant answer.

    Results come as one user message per result (how OpenAI sends them) or all in one (Anthropic).
    """
    messages: list[Message] = []
    if draw(st.booleans()):
        messages.append(Message(role="system", parts=[TextPart(text=draw(words))]))
    calls = 0
    for _ in range(draw(st.integers(1, 6))):
        user_parts: list[Any] = [TextPart(text=draw(words))]
        if draw(st.integers(0, 5)) == 0:
            user_parts.append(ImagePart(url="https://example.com/a.png"))
        messages.append(Message(role="user", parts=user_parts))
        for _ in range(draw(st.integers(0, 3))):
            ids = [f"call_{calls + i}" for i in range(draw(st.integers(1, 3)))]
            calls += len(ids)
            preface = [TextPart(text=draw(words))] if draw(st.booleans()) else []
            arguments = [json.dumps({"q": draw(words)}) if draw(st.booleans()) else "" for _ in ids]
            tool_calls = [ToolCallPart(id=i, name="lookup", arguments=a) for i, a in zip(ids, arguments, strict=True)]
            messages.append(Message(role="assistant", parts=[*preface, *tool_calls]))
            results = [ToolResultPart(tool_call_id=i, content=[TextPart(text=draw(words))]) for i in ids]
            if draw(st.booleans()):
                messages += [Message(role="user", parts=[result]) for result in results]
            else:
                messages.append(Message(role="user", parts=results))
        if draw(st.booleans()):
            messages.append(Message(role="assistant", parts=[TextPart(text=draw(words))]))
    return messages


def tool_session(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """`n` OpenAI messages: a system prompt, then turns of question, tool calls, results, answer."""
    rng = random.Random(seed)
    messages: list[dict[str, Any]] = [{"role": "system", "content": "You are a careful coding agent. " + PROSE[0]}]
    calls = 0
    while True:
        turn: list[dict[str, Any]] = [{"role": "user", "content": rng.choice(PROSE[:2])[: rng.randint(40, 300)]}]
        for _ in range(rng.randint(0, 2)):
            ids = [f"call_{calls + i}" for i in range(rng.randint(1, 2))]
            calls += len(ids)
            turn.append({
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": i, "type": "function", "function": {"name": "read_file", "arguments": json.dumps(
                        {"path": f"src/module_{rng.randint(1, 99)}.py", "start_line": rng.randint(1, 400),
                         "context": rng.randint(5, 80)}
                    )}}
                    for i in ids
                ],
            })
            turn += [{"role": "tool", "tool_call_id": i, "content": "\n".join(rng.choices(LOGS, k=rng.randint(1, 4)))}
                     for i in ids]
        turn.append({"role": "assistant", "content": rng.choice(PROSE[:2])[: rng.randint(20, 400)]})
        if len(messages) + len(turn) > n:
            chat = [{"role": "user", "content": "Thanks, next?"}, {"role": "assistant", "content": "Go ahead."}]
            return messages + (chat * n)[: n - len(messages)]
        messages += turn


@st.composite
def messy_sessions(draw: st.DrawFn) -> list[Message]:
    """`native_sessions()` with what clients send and the server stores but an API may refuse as is:
    a user message between a tool call and its result, a second result for an answered call,
    results after text in a message, blank text blocks, abandoned calls, same-role neighbours."""
    messages = list(draw(native_sessions()))
    for _ in range(draw(st.integers(0, 4))):
        calls = [i for i, m in enumerate(messages) if m.tool_call_ids()]
        kind = draw(st.sampled_from(["interrupt", "duplicate", "text_first", "blank", "abandon", "neighbour"]))
        if kind == "interrupt" and calls:
            at = draw(st.sampled_from(calls)) + 1
            messages.insert(at, Message(role="user", parts=[TextPart(text="wait, " + draw(words))]))
        elif kind == "duplicate" and calls:
            at = draw(st.sampled_from(calls))
            call_id = draw(st.sampled_from(messages[at].tool_call_ids()))
            where = draw(st.integers(at + 1, len(messages)))
            again = ToolResultPart(tool_call_id=call_id, content=[TextPart(text="again " + draw(words))])
            messages.insert(where, Message(role="user", parts=[again]))
        elif kind == "text_first":
            holders = [i for i, m in enumerate(messages) if any(p.type == "tool-result" for p in m.parts)]
            if holders:
                at = draw(st.sampled_from(holders))
                parts = [TextPart(text="note " + draw(words)), *messages[at].parts]
                messages[at] = messages[at].model_copy(update={"parts": parts})
        elif kind == "blank":
            at = draw(st.integers(0, len(messages) - 1))
            if messages[at].role != "system":
                parts = [TextPart(text=draw(st.sampled_from(["", " ", "\n"]))), *messages[at].parts]
                messages[at] = messages[at].model_copy(update={"parts": parts})
        elif kind == "abandon" and calls:
            at = draw(st.sampled_from(calls))
            dropped = set(messages[at].tool_call_ids()[: draw(st.integers(1, 3))])
            messages = [
                m.model_copy(update={"parts": [p for p in m.parts if getattr(p, "tool_call_id", None) not in dropped]})
                for m in messages
            ]
            messages = [m for m in messages if m.parts]
        elif kind == "neighbour":
            first_user = next(i for i, m in enumerate(messages) if m.role == "user")
            at = draw(st.integers(first_user + 1, len(messages)))
            role = draw(st.sampled_from(["user", "assistant"]))
            messages.insert(at, Message(role=role, parts=[TextPart(text="and " + draw(words))]))
    return messages
