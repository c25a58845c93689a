"""The message-order rules the OpenAI and Anthropic APIs enforce, as checkers returning problems.

OpenAI Chat Completions: an assistant message with `tool_calls` must be followed by one `tool`
message per call id before any other message; a `tool` message must answer such a call.
Anthropic Messages: after merging consecutive same-role messages (as the API does), the first
message is a user message, roles alternate, every `tool_use` is answered by a `tool_result` in
the next (user) message, tool results come first in it, and every `tool_result` answers a
`tool_use` of the message just before.
"""

from __future__ import annotations

from typing import Any


def openai_problems(messages: list[dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    pending: set[str] = set()
    for index, message in enumerate(messages):
        if message["role"] == "tool":
            if message["tool_call_id"] not in pending:
                problems.append(f"{index}: tool message for {message['tool_call_id']!r} answers no pending call")
            pending.discard(message["tool_call_id"])
            continue
        if pending:
            problems.append(f"{index}: calls {sorted(pending)} not answered before a {message['role']} message")
        pending = {call["id"] for call in message.get("tool_calls") or []}
    if pending:
        problems.append(f"end: calls {sorted(pending)} not answered")
    return problems


def anthropic_problems(messages: list[dict[str, Any]]) -> list[str]:
    if not messages:
        return ["no messages"]
    turns: list[tuple[str, list[dict[str, Any]]]] = []
    for message in messages:
        if message["role"] not in ("user", "assistant"):
            return [f"role {message['role']!r} in messages"]
        content = message["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else list(content)
        if turns and turns[-1][0] == message["role"]:
            turns[-1][1].extend(blocks)
        else:
            turns.append((message["role"], blocks))
    problems = [] if turns[0][0] == "user" else ["first message is not from the user"]
    asked: set[str] = set()
    for index, (role, blocks) in enumerate(turns):
        results = [block["tool_use_id"] for block in blocks if block["type"] == "tool_result"]
        if role == "user":
            if set(results) != asked:
                problems.append(f"turn {index}: results {sorted(results)} do not answer tool_use {sorted(asked)}")
            if results and any(block["type"] != "tool_result" for block in blocks[: len(results)]):
                problems.append(f"turn {index}: tool results do not come first")
            asked = set()
        else:
            asked = {block["id"] for block in blocks if block["type"] == "tool_use"}
    if asked:
        problems.append(f"end: tool_use {sorted(asked)} without results")
    return problems
