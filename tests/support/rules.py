"""The rules the OpenAI and Anthropic APIs enforce on a message list, as checkers returning problems.

OpenAI Chat Completions: known keys per role and content part; an assistant message has content
or tool calls; no empty content; an assistant message with `tool_calls` is followed by one `tool`
message per call id before any other message; a `tool` message answers such a call, once.
Anthropic Messages (strict: the API no longer merges for us): roles are user/assistant and
alternate, starting with the user; no empty content and no blank text block; known keys per
block type; every `tool_use` of an assistant message is answered by a `tool_result` in the next
message, which is a user message whose tool results come first and answer exactly those calls.
`complete=False` allows the newest assistant message's calls to be still unanswered, by the end
or by the messages after it (a turn in progress, as a stored session may end).
Both take the list as the API gets it; `anthropic_problems` also takes the `system` argument.
"""

from __future__ import annotations

from typing import Any

_OA_MESSAGE_KEYS = {
    "system": {"role", "content", "name"},
    "developer": {"role", "content", "name"},
    "user": {"role", "content", "name"},
    "assistant": {"role", "content", "name", "tool_calls", "refusal", "audio", "function_call"},
    "tool": {"role", "content", "tool_call_id"},
}
_OA_PART_KEYS = {
    "text": {"type", "text"},
    "refusal": {"type", "refusal"},
    "image_url": {"type", "image_url"},
    "input_audio": {"type", "input_audio"},
    "file": {"type", "file"},
}
_OA_PARTS_BY_ROLE = {
    "system": {"text"},
    "developer": {"text"},
    "user": {"text", "image_url", "input_audio", "file"},
    "assistant": {"text", "refusal"},
    "tool": {"text"},
}
_AN_BLOCK_KEYS = {
    "text": {"type", "text", "cache_control", "citations"},
    "image": {"type", "source", "cache_control"},
    "document": {"type", "source", "title", "context", "citations", "cache_control"},
    "tool_use": {"type", "id", "name", "input", "cache_control"},
    "tool_result": {"type", "tool_use_id", "content", "is_error", "cache_control"},
    "thinking": {"type", "thinking", "signature"},
    "redacted_thinking": {"type", "data"},
}
_AN_BLOCKS_BY_ROLE = {
    "user": {"text", "image", "document", "tool_result"},
    "assistant": {"text", "tool_use", "thinking", "redacted_thinking"},
}
_AN_SOURCE_KEYS = {
    "base64": {"type", "media_type", "data"},
    "url": {"type", "url"},
    "file": {"type", "file_id"},
    "text": {"type", "media_type", "data"},
}


def openai_problems(messages: list[dict[str, Any]], complete: bool = True) -> list[str]:
    problems: list[str] = []
    pending: set[str] = set()
    last = max((i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=-1)
    for index, message in enumerate(messages):
        problems += [f"{index}: {p}" for p in _openai_message_problems(message)]
        if not complete and index > last:
            pending = set() if message.get("role") != "tool" else pending
        if message.get("role") == "tool":
            if message.get("tool_call_id") not in pending:
                problems.append(f"{index}: tool message for {message.get('tool_call_id')!r} answers no pending call")
            pending.discard(message.get("tool_call_id"))  # type: ignore[arg-type]
            continue
        if pending:
            problems.append(f"{index}: calls {sorted(pending)} not answered before a {message.get('role')} message")
        pending = {call.get("id") for call in message.get("tool_calls") or []}
    if pending and complete:
        problems.append(f"end: calls {sorted(pending)} not answered")
    return problems


def _openai_message_problems(message: dict[str, Any]) -> list[str]:
    role = message.get("role")
    if role not in _OA_MESSAGE_KEYS:
        return [f"unknown role {role!r}"]
    problems = [f"unknown key {key!r} in a {role} message" for key in message.keys() - _OA_MESSAGE_KEYS[role]]
    content = message.get("content")
    if role == "assistant" and not message.get("tool_calls") and not content:
        problems.append("an assistant message without tool_calls needs content")
    if role == "tool" and "content" not in message:
        problems.append("a tool message needs content")
    if role != "assistant" and role != "tool" and (content is None or content == "" or content == []):
        problems.append(f"empty content in a {role} message")
    for part in content if isinstance(content, list) else []:
        kind = part.get("type")
        if kind not in _OA_PARTS_BY_ROLE[role]:
            problems.append(f"a {kind!r} part in a {role} message")
        elif part.keys() - _OA_PART_KEYS[kind]:
            problems.append(f"unknown keys {sorted(part.keys() - _OA_PART_KEYS[kind])} in a {kind} part")
    for call in message.get("tool_calls") or []:
        if set(call) - {"id", "type", "function"} or not call.get("id") or call.get("type") != "function":
            problems.append(f"malformed tool call {call!r}")
        elif set(call["function"]) != {"name", "arguments"} or not isinstance(call["function"]["arguments"], str):
            problems.append(f"malformed tool call function {call['function']!r}")
    return problems


def anthropic_problems(
    messages: list[dict[str, Any]], system: Any = None, complete: bool = True
) -> list[str]:
    if not messages:
        return ["no messages"]
    problems = _system_problems(system)
    asked: set[str] = set()
    last = max((i for i, m in enumerate(messages) if m.get("role") == "assistant"), default=-1)
    for index, message in enumerate(messages):
        role = message.get("role")
        if role not in _AN_BLOCKS_BY_ROLE:
            problems.append(f"{index}: role {role!r} in messages")
            continue
        if set(message) != {"role", "content"}:
            problems.append(f"{index}: keys {sorted(message)} (only role and content)")
        expected = "user" if index % 2 == 0 else "assistant"
        if role != expected:
            problems.append(f"{index}: a {role} message where a {expected} message must come (strict alternation)")
        content = message.get("content")
        if isinstance(content, str):
            blocks = [{"type": "text", "text": content}]
        elif isinstance(content, list):
            blocks = content
        else:
            problems.append(f"{index}: content is {type(content).__name__}")
            continue
        if not blocks:
            problems.append(f"{index}: empty content")
        problems += [f"{index}.{i}: {p}" for i, block in enumerate(blocks) for p in _block_problems(block, role)]
        results = [block.get("tool_use_id") for block in blocks if block.get("type") == "tool_result"]
        if role == "user":
            in_progress = not complete and index > last and set(results) <= asked
            if (set(results) != asked and not in_progress) or len(results) != len(set(results)):
                problems.append(f"{index}: results {sorted(results)} do not answer exactly tool_use {sorted(asked)}")
            if any(block.get("type") != "tool_result" for block in blocks[: len(results)]):
                problems.append(f"{index}: tool results do not come first")
            asked = set()
        else:
            if asked:
                problems.append(f"{index}: tool_use {sorted(asked)} not answered by the next message")
            asked = {block.get("id") for block in blocks if block.get("type") == "tool_use"}
    if asked and complete:
        problems.append(f"end: tool_use {sorted(asked)} without results")
    return problems


def _system_problems(system: Any) -> list[str]:
    if system is None or (isinstance(system, str) and system.strip()):
        return []
    if isinstance(system, str):
        return ["blank system prompt"]
    return [f"system.{i}: {p}" for i, block in enumerate(system) for p in _block_problems(block, "system")]


def _block_problems(block: dict[str, Any], role: str) -> list[str]:
    kind = block.get("type")
    allowed = {"text"} if role == "system" else _AN_BLOCKS_BY_ROLE[role]
    if kind not in allowed:
        return [f"a {kind!r} block in a {role} message"]
    unknown = sorted(block.keys() - _AN_BLOCK_KEYS[kind])
    problems = [f"unknown keys {unknown} in a {kind} block"] if unknown else []
    if kind == "text" and not str(block.get("text", "")).strip():
        problems.append("blank text block")
    if kind in ("image", "document"):
        source = block.get("source", {})
        keys = _AN_SOURCE_KEYS.get(source.get("type"))
        required = (keys or set()) - ({"media_type"} if source.get("type") == "text" else set())
        if keys is None or not required <= set(source) <= keys:
            problems.append(f"malformed source {source!r}")
    if kind == "tool_use" and (not isinstance(block.get("input"), dict) or not block.get("id")):
        problems.append("tool_use without id or object input")
    if kind == "tool_result":
        content = block.get("content", "")
        for item in content if isinstance(content, list) else []:
            if item.get("type") not in ("text", "image", "document"):
                problems.append(f"a {item.get('type')!r} block inside a tool_result")
            else:
                problems += _block_problems(item, "user")
    return problems
