"""Claude Code transcripts (`~/.claude/projects/<dir>/<session>.jsonl`) -> Anthropic messages. Pure: no I/O.

A transcript is JSON lines, one per event. Lines with `type` `user` or `assistant` carry an API
message in `message`; Claude Code writes one assistant API message as several lines, one per
content block, all with the same `message.id`, and each tool result as its own `user` line.
Every other line is bookkeeping (attachments, queue operations, cost, request shapes and blobs,
summaries, hook summaries, snapshots), and so are `isMeta` user lines, compaction summaries and
sidechain (subagent) lines: they are counted by kind, never turned into messages.

    parsed = parse_transcript(data, final=False)
    parsed.messages   # [{"role": "user", "content": ...}, {"role": "assistant", "content": [...]}, ...]
    parsed.consumed   # bytes of `data` those messages cover: the next read starts there

`consumed` stops before a last line without its newline (still being written, or cut short) and,
unless `final`, before an assistant message whose tool calls have no results yet or a last one
without its stop reason, so a turn is never stored half. Consecutive messages of one role are
joined, as the API wants them.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from acontext_mcp.errors import InvalidArgument

_BLOCKS = frozenset({"text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking"})
_RESULT_BLOCKS = frozenset({"text", "image", "document"})
_ENDED = frozenset({"end_turn", "stop_sequence", "max_tokens", "refusal", "pause_turn",
                    "model_context_window_exceeded"})


@dataclass
class ParsedTranscript:
    """What one read of a transcript gave: messages, bytes covered, and what was left out, by kind."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    consumed: int = 0
    lines: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    session_id: str | None = None
    cwd: str | None = None
    git_branch: str | None = None
    version: str | None = None


@dataclass
class _Pending:
    message: dict[str, Any]
    start: int  # byte offset of its first line
    api_id: str | None = None
    stop_reason: str | None = None


def parse_transcript(data: bytes, final: bool = False, strict: bool = False) -> ParsedTranscript:
    """Read transcript bytes (from a line start). `strict` raises `InvalidArgument` when the first
    complete line is not a Claude Code transcript entry (for imports of files named by a user);
    otherwise a line that is not JSON is counted as `invalid` and passed over.
    """
    parsed = ParsedTranscript()
    pending: list[_Pending] = []
    position = 0
    while (end := data.find(b"\n", position)) != -1:
        line, start, position = data[position:end], position, end + 1
        if not line.strip():
            continue
        parsed.lines += 1
        entry = _entry(line)
        if strict and parsed.lines == 1 and not _looks_like_entry(entry):
            raise InvalidArgument("not a Claude Code transcript: its first line is not a transcript entry "
                                  "(a JSON object with a `type`)")
        if entry is None:
            parsed.skipped["invalid"] += 1
            continue
        _note_context(parsed, entry)
        kind = _message_kind(entry)
        if kind is None:
            parsed.skipped[_bookkeeping_kind(entry)] += 1
            continue
        _add(pending, entry["message"], kind, start)
    if position < len(data) and data[position:].strip():
        parsed.skipped["incomplete last line"] += 1
    keep = len(pending) if final else _complete_prefix(pending)
    parsed.messages = [item.message for item in pending[:keep]]
    parsed.consumed = pending[keep].start if keep < len(pending) else position
    return parsed


def _entry(line: bytes) -> dict[str, Any] | None:
    try:
        entry = json.loads(line)
    except (ValueError, RecursionError):
        return None
    return entry if isinstance(entry, dict) else None


def _looks_like_entry(entry: dict[str, Any] | None) -> bool:
    return entry is not None and isinstance(entry.get("type"), str) and (
        "sessionId" in entry or "uuid" in entry or "message" in entry or "leafUuid" in entry
    )


def _note_context(parsed: ParsedTranscript, entry: dict[str, Any]) -> None:
    """Keep the session's id, working dir, git branch and CLI version (the latest seen)."""
    for key, attribute in (("sessionId", "session_id"), ("cwd", "cwd"), ("gitBranch", "git_branch"),
                           ("version", "version")):
        value = entry.get(key)
        if isinstance(value, str) and value:
            setattr(parsed, attribute, value)


def _message_kind(entry: dict[str, Any]) -> str | None:
    """`user` or `assistant` for a conversation line, None for bookkeeping."""
    kind = entry.get("type")
    message = entry.get("message")
    if kind not in ("user", "assistant") or not isinstance(message, dict) or message.get("role") != kind:
        return None
    if entry.get("isSidechain") or entry.get("isMeta") or entry.get("isCompactSummary"):
        return None
    if entry.get("isApiErrorMessage") or message.get("model") == "<synthetic>":
        return None
    return str(kind)


def _bookkeeping_kind(entry: dict[str, Any]) -> str:
    kind = str(entry.get("type") or "unknown")
    if kind == "attachment" and isinstance(entry.get("attachment"), dict):
        return f"attachment:{entry['attachment'].get('type', 'unknown')}"
    if kind in ("user", "assistant"):
        for flag in ("isSidechain", "isMeta", "isCompactSummary", "isApiErrorMessage"):
            if entry.get(flag):
                return f"{kind}:{flag}"
    if kind == "system" and entry.get("subtype"):
        return f"system:{entry['subtype']}"
    return kind


def _add(pending: list[_Pending], message: dict[str, Any], role: str, start: int) -> None:
    """Append one line's message: blocks of an API message already begun join it, and so do
    consecutive lines of one role."""
    content = _content(message.get("content"))
    if not content:
        return
    api_id = message.get("id") if role == "assistant" else None
    stop_reason = message.get("stop_reason") if role == "assistant" else None
    if api_id is not None:
        for item in reversed(pending):
            if item.api_id == api_id:
                item.message["content"].extend(content)
                item.stop_reason = stop_reason
                return
            if not _only_results(item.message):
                break
    last = pending[-1] if pending else None
    if last is not None and last.message["role"] == role and (role == "user" or last.api_id == api_id):
        last.message["content"].extend(content)
        return
    pending.append(_Pending({"role": role, "content": content}, start, api_id, stop_reason))


def _content(content: Any) -> list[dict[str, Any]]:
    """Content as a list of blocks the Messages API accepts; other blocks become short text."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    if not isinstance(content, list):
        return []
    blocks = []
    for block in content:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "tool_result":
            blocks.append(_tool_result(block))
        elif block.get("type") in _BLOCKS:
            if block.get("type") == "text" and not block.get("text"):
                continue
            blocks.append(block)
        else:
            blocks.append({"type": "text", "text": f"[{block.get('type', 'block')}]"})
    return blocks


def _tool_result(block: dict[str, Any]) -> dict[str, Any]:
    content = block.get("content")
    if isinstance(content, list):
        content = [
            item if isinstance(item, dict) and item.get("type") in _RESULT_BLOCKS
            else {"type": "text", "text": f"[{item.get('type', 'block') if isinstance(item, dict) else 'item'}]"}
            for item in content
        ]
    elif content is not None and not isinstance(content, str):
        content = json.dumps(content, ensure_ascii=False)
    result = {"type": "tool_result", "tool_use_id": block.get("tool_use_id")}
    if content is not None:
        result["content"] = content
    if block.get("is_error"):
        result["is_error"] = True
    return result


def _only_results(message: dict[str, Any]) -> bool:
    return message["role"] == "user" and all(block["type"] == "tool_result" for block in message["content"])


def _complete_prefix(pending: list[_Pending]) -> int:
    """How many leading messages form complete turns: up to the first assistant message with a
    tool call that no later message answers, or a last one that has not ended (more of its
    blocks may follow)."""
    answered = {block.get("tool_use_id") for item in pending for block in item.message["content"]
                if block["type"] == "tool_result"}
    for index, item in enumerate(pending):
        if item.message["role"] == "assistant" and any(
            block["type"] == "tool_use" and block.get("id") not in answered for block in item.message["content"]
        ):
            return index
    if pending and pending[-1].message["role"] == "assistant" and pending[-1].stop_reason not in _ENDED:
        return len(pending) - 1
    return len(pending)


def drop_unanswerable_results(messages: list[dict[str, Any]], known_calls: set[str]) -> list[dict[str, Any]]:
    """Messages without tool results whose call is neither in `known_calls` nor made earlier in
    `messages` (a transcript resumed after compaction can start with such results); a message left
    empty goes too. A result must answer a stored call for the session to stay valid for both APIs.
    """
    made = set(known_calls)
    kept = []
    for message in messages:
        content = []
        for block in message["content"]:
            if block["type"] == "tool_use":
                made.add(block.get("id"))
            if block["type"] != "tool_result" or block.get("tool_use_id") in made:
                content.append(block)
        if content:
            kept.append({**message, "content": content})
    return kept


def result_call_ids(messages: list[dict[str, Any]]) -> set[str]:
    """The call ids tool results in `messages` answer."""
    return {str(block.get("tool_use_id")) for message in messages for block in message["content"]
            if block["type"] == "tool_result"}
