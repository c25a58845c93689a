"""Message lists as each API accepts them: what a write must hold, and how a read is arranged.

A write is refused (`check_content`) when a message holds nothing: no parts, or only blank
text (an assistant `content: null` without tool calls, a user `""` or `[]`). Everything else a
converter reads is stored as sent, and `arrange` repairs the order on the way out:

- in each run of messages after an assistant message, tool results come first (in stored
  order), so a user message sent between a tool call and its result reads back after the result;
- a tool result is kept only if it answers a call of the assistant message just before its run
  that no earlier result answered: a second result for an answered call is left out (the first
  answer counts); results before the first assistant message of the list (a page that starts
  mid-turn) stay;
- a tool call its run does not answer is left out when a later assistant message follows (the
  call was abandoned); the newest assistant message keeps every call (its turn is in progress);
- a message left with nothing in it is left out;
- `merge=True` (Anthropic): blank text blocks are left out, system messages are skipped (they go
  to `system`), and each run of same-role messages becomes one message, so roles alternate
  strictly and one user message holds all results of the turn before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from acontext_mcp.errors import InvalidMessage
from acontext_mcp.formats.native import Message, TextPart, ToolCallPart, ToolResultPart


def is_blank(part: Any) -> bool:
    return isinstance(part, TextPart) and not part.text.strip()


def check_content(message: Message, field_name: str = "content") -> None:
    """Refuse a message that holds nothing (`InvalidMessage` naming `field_name`)."""
    if all(is_blank(part) for part in message.parts):
        raise InvalidMessage(
            field_name,
            f"a {message.role} message must not be empty; give text, an image, a file"
            + (", a tool call" if message.role == "assistant" else ", a tool result" if message.role == "user" else ""),
        )


@dataclass
class Arranged:
    """One message to write and the indices of the input messages it came from."""

    message: Message
    sources: list[int] = field(default_factory=list)


def arrange(messages: list[Message], merge: bool = False) -> list[Arranged]:
    """`messages` arranged so the target API accepts them (see the module docstring)."""
    kept = _drop_unanswerable(messages)
    if merge:
        kept = [(i, _without_blank_text(m)) for i, m in kept if m.role != "system"]
    kept = [(i, m) for i, m in kept if not all(is_blank(part) for part in m.parts)]
    out: list[Arranged] = []
    run: list[tuple[int, Message]] = []
    seen_assistant = False
    for index, message in kept:
        if message.role == "assistant":
            out += _results_first(run, merge, reorder=seen_assistant)
            run, seen_assistant = [], True
            if merge and out and out[-1].message.role == "assistant":
                out[-1] = _joined([out[-1], Arranged(message, [index])])
            else:
                out.append(Arranged(message, [index]))
        else:
            run.append((index, message))
    return out + _results_first(run, merge, reorder=seen_assistant)


def _drop_unanswerable(messages: list[Message]) -> list[tuple[int, Message]]:
    """Leave out tool results that answer no open call, and calls abandoned by a later assistant."""
    calls: dict[int, set[str]] = {}  # assistant index -> its calls not answered (yet) in its run
    drop: dict[int, set[int]] = {}  # message index -> indices of result parts left out
    last: int | None = None
    early: set[str] = set()  # results before any assistant message
    for i, message in enumerate(messages):
        if message.role == "assistant":
            last = i
            calls[i] = set(message.tool_call_ids())
            continue
        for j, part in enumerate(message.parts):
            if not isinstance(part, ToolResultPart):
                continue
            call = part.tool_call_id
            if last is None and call not in early:
                early.add(call)
            elif last is not None and call in calls[last]:
                calls[last].discard(call)
            else:
                drop.setdefault(i, set()).add(j)
    out = []
    for i, message in enumerate(messages):
        if i in drop:
            message = message.model_copy(update={"parts": [p for j, p in enumerate(message.parts) if j not in drop[i]]})
        elif calls.get(i) and i != last:
            unanswered = calls[i]
            parts = [p for p in message.parts if not (isinstance(p, ToolCallPart) and p.id in unanswered)]
            message = message.model_copy(update={"parts": parts})
        out.append((i, message))
    return out


def _without_blank_text(message: Message) -> Message:
    parts = []
    changed = False
    for part in message.parts:
        if isinstance(part, ToolResultPart) and any(is_blank(item) for item in part.content):
            part, changed = part.model_copy(update={"content": [i for i in part.content if not is_blank(i)]}), True
        if is_blank(part):
            changed = True
        else:
            parts.append(part)
    return message.model_copy(update={"parts": parts}) if changed else message


def _results_first(run: list[tuple[int, Message]], merge: bool, reorder: bool) -> list[Arranged]:
    """A run of non-assistant messages with every tool result moved ahead of the rest (stable);
    without `reorder` (the run before the first assistant message) the order stays as stored."""
    if not run:
        return []
    if not reorder:
        kept = [Arranged(message, [index]) for index, message in run]
        return [_joined(kept)] if merge and len(kept) > 1 else kept
    results: list[Arranged] = []
    rest: list[Arranged] = []
    for index, message in run:
        found: list[Any] = [part for part in message.parts if isinstance(part, ToolResultPart)]
        others = [part for part in message.parts if not isinstance(part, ToolResultPart)]
        if not found or not others:
            (results if found else rest).append(Arranged(message, [index]))
        elif merge and len(run) == 1 and all(a is b for a, b in zip(message.parts, found, strict=False)):
            results.append(Arranged(message, [index]))  # already in order: keep it whole, meta and all
        else:
            results.append(Arranged(Message.model_construct(role="user", parts=found, meta={}), [index]))
            rest.append(Arranged(message.model_copy(update={"parts": others}), [index]))
    ordered = results + rest
    return [_joined(ordered)] if merge and len(ordered) > 1 else ordered


def _joined(items: list[Arranged]) -> Arranged:
    """Several same-role messages as one (list content; message-level provider keys of the first)."""
    first = items[0].message
    meta = {key: value for key, value in first.meta.items() if key != "content_style"}
    parts = [part for item in items for part in item.message.parts]
    sources = list(dict.fromkeys(index for item in items for index in item.sources))
    return Arranged(Message.model_construct(role=first.role, parts=parts, meta=meta), sources)  # parts are valid
