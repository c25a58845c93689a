"""Anthropic Messages API messages <-> native messages.

`to_native(message)` reads one message as the `anthropic` SDK sends it (a `role: system`
message is also accepted, for stored system prompts); `from_native(message)` writes one back,
and `system_prompt(messages)` gathers system messages into the `system` argument that
`messages.create` takes beside `messages`.
anthropic -> native -> anthropic gives back the same dict. Native parts Anthropic has no
place for (audio, refusal) are written as text.
"""

from __future__ import annotations

import json
from typing import Any

from acontext_mcp.errors import InvalidMessage
from acontext_mcp.formats._fields import (
    as_dict,
    as_list,
    extras,
    join,
    non_empty,
    opt_str,
    req_dict,
    req_role,
    req_str,
    unknown_type,
)
from acontext_mcp.formats.native import (
    AudioPart,
    FilePart,
    ImagePart,
    Message,
    RedactedThinkingPart,
    RefusalPart,
    ResultContent,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
    message_from,
    meta_section,
    reports_invalid,
)
from acontext_mcp.formats.nesting import loads_shallow
from acontext_mcp.formats.sequence import is_blank

ROLES = ["user", "assistant", "system"]
_BLOCK_TYPES = ["text", "image", "document", "tool_use", "tool_result", "thinking", "redacted_thinking"]
_RESULT_BLOCK_TYPES = ["text", "image", "document"]


# ---- Anthropic -> native -------------------------------------------------------------------


@reports_invalid
def to_native(message: Any) -> Message:
    """Read one Anthropic message; raise `InvalidMessage` naming the bad field."""
    message = as_dict(message, "")
    role = req_role(message, ROLES)
    if "content" not in message:
        raise InvalidMessage("content", "is required")
    content = message["content"]
    meta: dict[str, Any] = {"anthropic": extras(message, {"role", "content"})}
    if isinstance(content, str):
        meta["content_style"] = "string"
        parts: list[Any] = [TextPart(text=content)]
    else:
        parts = [_block(block, join("content", i)) for i, block in enumerate(as_list(content, "content"))]
    return message_from(role, parts, meta)  # type: ignore[arg-type]


def _block(block: Any, path: str, accepted: list[str] = _BLOCK_TYPES) -> Any:
    block = as_dict(block, path)
    kind = block.get("type")
    if kind not in accepted:
        raise unknown_type(path, "content block", kind, accepted)
    if kind == "text":
        return TextPart(text=req_str(block, "text", path), meta=_meta(block, {"type", "text"}))
    if kind in ("image", "document"):
        return _sourced(block, path, ImagePart if kind == "image" else FilePart)
    if kind == "tool_use":
        if not isinstance(block.get("input"), dict):
            raise InvalidMessage(join(path, "input"), "is required and must be an object")
        return ToolCallPart(
            id=non_empty(block, "id", path),
            name=non_empty(block, "name", path),
            arguments=json.dumps(block["input"], ensure_ascii=False),
            meta=_meta(block, {"type", "id", "name", "input"}),
        )
    if kind == "tool_result":
        return _tool_result(block, path)
    if kind == "thinking":
        return ThinkingPart(
            thinking=req_str(block, "thinking", path),
            signature=opt_str(block, "signature", path),
            meta=_meta(block, {"type", "thinking", "signature"}),
        )
    return RedactedThinkingPart(data=req_str(block, "data", path), meta=_meta(block, {"type", "data"}))


def _sourced(block: dict[str, Any], path: str, part: type[ImagePart] | type[FilePart]) -> ImagePart | FilePart:
    source = req_dict(block, "source", path)
    inner = join(path, "source")
    kind = source.get("type")
    meta = _meta(block, {"type", "source"})
    if kind == "base64":
        data, media_type = req_str(source, "data", inner), req_str(source, "media_type", inner)
        return part(data=data, media_type=media_type, meta=meta)
    if kind == "url":
        return part(url=req_str(source, "url", inner), meta=meta)
    if kind == "file":
        return part(file_id=req_str(source, "file_id", inner), meta=meta)
    if kind == "text" and part is FilePart:
        return FilePart(text=req_str(source, "data", inner), media_type=opt_str(source, "media_type", inner), meta=meta)
    accepted = ["base64", "url", "file"] + (["text"] if part is FilePart else [])
    raise unknown_type(inner, "source", kind, accepted)


def _tool_result(block: dict[str, Any], path: str) -> ToolResultPart:
    meta = _meta(block, {"type", "tool_use_id", "content", "is_error"})
    content = block.get("content")
    parts: list[ResultContent]
    if "content" not in block:
        meta["content_style"], parts = "absent", []
    elif isinstance(content, str):
        meta["content_style"], parts = "string", [TextPart(text=content)]
    else:
        items = as_list(content, join(path, "content"))
        parts = [_block(item, join(join(path, "content"), i), _RESULT_BLOCK_TYPES) for i, item in enumerate(items)]
    is_error = block.get("is_error")
    if is_error is not None and not isinstance(is_error, bool):
        raise InvalidMessage(join(path, "is_error"), "expected true or false")
    if is_error is not None:
        meta["is_error_given"] = True
    return ToolResultPart(
        tool_call_id=non_empty(block, "tool_use_id", path), content=parts, is_error=bool(is_error), meta=meta
    )


def _meta(block: dict[str, Any], known: set[str]) -> dict[str, Any]:
    extra = extras(block, known)
    return {"anthropic": extra} if extra else {}


# ---- native -> Anthropic -------------------------------------------------------------------


def system_prompt(messages: list[Message]) -> str | list[dict[str, Any]] | None:
    """The `system` argument for these messages: their system messages' text, or None."""
    system = [message for message in messages if message.role == "system"]
    blocks = [_write(part) for message in system for part in message.parts if not is_blank(part)]
    if not blocks:
        return None
    if all(message.meta.get("content_style") == "string" for message in system):
        return "\n\n".join(block["text"] for block in blocks)
    return blocks


def from_native(message: Message) -> dict[str, Any]:
    """Write one native message as one Anthropic message (a system message keeps `role: system`)."""
    blocks = [_write(part) for part in message.parts]
    content: Any = blocks
    if message.meta.get("content_style") == "string" and len(blocks) == 1 and blocks[0]["type"] == "text":
        content = blocks[0]["text"]
    return {"role": message.role, "content": content, **meta_section(message.meta, "anthropic")}


def _write(part: Any) -> dict[str, Any]:
    extra = meta_section(part.meta, "anthropic")
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text, **extra}
    if isinstance(part, RefusalPart):
        return {"type": "text", "text": part.refusal, **extra}
    if isinstance(part, AudioPart):
        return {"type": "text", "text": f"[{part.format} audio omitted]"}
    if isinstance(part, ImagePart | FilePart):
        return _write_sourced(part, extra)
    if isinstance(part, ToolCallPart):
        return {"type": "tool_use", "id": part.id, "name": part.name, "input": _input(part.arguments), **extra}
    if isinstance(part, ToolResultPart):
        return _write_tool_result(part, extra)
    if isinstance(part, ThinkingPart):
        block = {"type": "thinking", "thinking": part.thinking, **extra}
        return block if part.signature is None else {**block, "signature": part.signature}
    return {"type": "redacted_thinking", "data": part.data, **extra}


def _write_sourced(part: ImagePart | FilePart, extra: dict[str, Any]) -> dict[str, Any]:
    kind = "image" if isinstance(part, ImagePart) else "document"
    source: dict[str, Any]
    if isinstance(part, FilePart) and part.text is not None:
        source = {"type": "text", "data": part.text}
        if part.media_type is not None:
            source["media_type"] = part.media_type
    elif part.data is not None:
        source = {"type": "base64", "media_type": part.media_type or "application/octet-stream", "data": part.data}
    elif part.url is not None:
        source = {"type": "url", "url": part.url}
    else:
        source = {"type": "file", "file_id": part.file_id}
    block = {"type": kind, "source": source, **extra}
    if isinstance(part, FilePart) and part.filename and "title" not in block:
        block["title"] = part.filename
    return block


def _input(arguments: str) -> Any:
    """Tool-call arguments as Anthropic's `input` object; text that is not a JSON object is wrapped."""
    try:
        value = loads_shallow(arguments) if arguments.strip() else {}
    except ValueError:  # not JSON, or nested too deep to write back out: kept as text
        return {"arguments": arguments}
    return value if isinstance(value, dict) else {"arguments": value}


def _write_tool_result(part: ToolResultPart, extra: dict[str, Any]) -> dict[str, Any]:
    block: dict[str, Any] = {"type": "tool_result", "tool_use_id": part.tool_call_id}
    style = part.meta.get("content_style")
    written = [_write(item) for item in part.content]
    if style == "string" and len(written) == 1 and written[0]["type"] == "text":
        block["content"] = written[0]["text"]
    elif style != "absent" or written:
        block["content"] = written
    if part.is_error or part.meta.get("is_error_given"):
        block["is_error"] = part.is_error
    return {**block, **extra}
