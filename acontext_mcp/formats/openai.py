"""OpenAI Chat Completions messages <-> native messages.

`to_native(message)` reads one message as the `openai` SDK sends it; `from_native(message)`
writes one native message as a list of OpenAI messages (a native user message holding
tool results becomes one `role: tool` message per result). openai -> native -> openai
gives back the same dict. Native parts OpenAI has no place for (thinking) are dropped;
audio, documents by URL and text documents are written as text.
"""

from __future__ import annotations

from typing import Any

from acontext_mcp.errors import InvalidMessage
from acontext_mcp.formats._fields import (
    as_dict,
    as_list,
    data_url,
    extras,
    join,
    non_empty,
    opt_str,
    req_dict,
    req_role,
    req_str,
    split_data_url,
    unknown_type,
)
from acontext_mcp.formats.native import (
    AudioPart,
    FilePart,
    ImagePart,
    Message,
    RefusalPart,
    TextPart,
    ToolCallPart,
    ToolResultPart,
    message_from,
    meta_section,
    reports_invalid,
)

ROLES = ["system", "developer", "user", "assistant", "tool"]
_CONTENT_PART_TYPES = ["text", "image_url", "input_audio", "file", "refusal"]


# ---- OpenAI -> native ----------------------------------------------------------------------


@reports_invalid
def to_native(message: Any) -> Message:
    """Read one OpenAI chat message; raise `InvalidMessage` naming the bad field."""
    message = as_dict(message, "")
    role = req_role(message, ROLES)
    if role == "tool":
        return _tool_message(message)
    known = {"role", "content", "tool_calls"} if role == "assistant" else {"role", "content"}
    meta: dict[str, Any] = {"openai": extras(message, known)}
    if role == "developer":
        meta["openai"]["role"] = "developer"
    parts, meta["content_style"] = _content(message, "content", role == "assistant")
    if role == "assistant" and message.get("tool_calls") is not None:
        calls = as_list(message["tool_calls"], "tool_calls")
        parts += [_tool_call(call, join("tool_calls", i)) for i, call in enumerate(calls)]
    native_role = "system" if role in ("system", "developer") else role
    return message_from(native_role, parts, meta)  # type: ignore[arg-type]


def _content(message: dict[str, Any], key: str, nullable: bool) -> tuple[list[Any], str | None]:
    """Content parts and how the content was written: string, list, null or absent."""
    if key not in message:
        if not nullable:
            raise InvalidMessage(key, "is required")
        return [], "absent"
    content = message[key]
    if content is None and nullable:
        return [], "null"
    if isinstance(content, str):
        return [TextPart(text=content)], "string"
    items = as_list(content, key)
    return [_content_part(item, join(key, i)) for i, item in enumerate(items)], "list"


def _content_part(item: Any, path: str) -> Any:
    item = as_dict(item, path)
    kind = item.get("type")
    if kind == "text":
        return TextPart(text=req_str(item, "text", path), meta={"openai": extras(item, {"type", "text"})})
    if kind == "refusal":
        return RefusalPart(refusal=req_str(item, "refusal", path), meta={"openai": extras(item, {"type", "refusal"})})
    if kind == "image_url":
        image = req_dict(item, "image_url", path)
        url = req_str(image, "url", join(path, "image_url"))
        meta = {"openai": extras(image, {"url"})}
        if inline := split_data_url(url):
            return ImagePart(media_type=inline[0], data=inline[1], meta=meta)
        return ImagePart(url=url, meta=meta)
    if kind == "input_audio":
        audio = req_dict(item, "input_audio", path)
        inner = join(path, "input_audio")
        return AudioPart(
            data=req_str(audio, "data", inner),
            format=req_str(audio, "format", inner),
            meta={"openai": extras(audio, {"data", "format"})},
        )
    if kind == "file":
        file = req_dict(item, "file", path)
        inner = join(path, "file")
        file_data, file_id = opt_str(file, "file_data", inner), opt_str(file, "file_id", inner)
        filename = opt_str(file, "filename", inner)
        meta = {"openai": extras(file, {"file_data", "file_id", "filename"})}
        if file_data is not None:
            media_type, data = split_data_url(file_data) or (None, file_data)
            return FilePart(data=data, media_type=media_type, filename=filename, meta=meta)
        if file_id is None:
            raise InvalidMessage(inner, "give file_data or file_id")
        return FilePart(file_id=file_id, filename=filename, meta=meta)
    raise unknown_type(path, "content part", kind, _CONTENT_PART_TYPES)


def _tool_call(call: Any, path: str) -> ToolCallPart:
    call = as_dict(call, path)
    kind = call.get("type", "function")
    if kind != "function":
        raise unknown_type(path, "tool call", kind, ["function"])
    function = req_dict(call, "function", path)
    inner = join(path, "function")
    return ToolCallPart(
        id=non_empty(call, "id", path),
        name=non_empty(function, "name", inner),
        arguments=req_str(function, "arguments", inner),
        meta={"openai": extras(call, {"id", "function"})},
    )


def _tool_message(message: dict[str, Any]) -> Message:
    parts, style = _content(message, "content", nullable=False)
    for index, part in enumerate(parts):
        if not isinstance(part, TextPart):
            raise InvalidMessage(f"content.{index}.type", "a tool message's content holds text parts only")
    result = ToolResultPart(
        tool_call_id=non_empty(message, "tool_call_id", ""),
        content=parts,
        meta={"content_style": style} if style else {},
    )
    return message_from("user", [result], {"openai": extras(message, {"role", "content", "tool_call_id"})})


# ---- native -> OpenAI ----------------------------------------------------------------------


def from_native(message: Message) -> list[dict[str, Any]]:
    """Write one native message as OpenAI messages (tool results first, as `role: tool`)."""
    results = [part for part in message.parts if isinstance(part, ToolResultPart)]
    rest = [part for part in message.parts if not isinstance(part, ToolResultPart)]
    out = [_tool_result_message(part, message.meta if len(results) == 1 and not rest else {}) for part in results]
    if rest or not results:
        out.append(_message(message, rest))
    return out


def _message(message: Message, parts: list[Any]) -> dict[str, Any]:
    calls = [part for part in parts if isinstance(part, ToolCallPart)]
    content_parts = [block for part in parts if (block := _content_block(part)) is not None]
    out: dict[str, Any] = {"role": message.role}
    style = message.meta.get("content_style")
    if style == "string" and len(content_parts) == 1 and content_parts[0]["type"] == "text":
        out["content"] = content_parts[0]["text"]
    elif content_parts or style == "list":
        out["content"] = content_parts
    elif style != "absent":
        out["content"] = None if message.role == "assistant" else []  # only assistants may have null
    if calls:
        out["tool_calls"] = [_tool_call_block(call) for call in calls]
    out.update(meta_section(message.meta, "openai"))
    return out


def _content_block(part: Any) -> dict[str, Any] | None:
    extra = meta_section(part.meta, "openai")
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text, **extra}
    if isinstance(part, RefusalPart):
        return {"type": "refusal", "refusal": part.refusal, **extra}
    if isinstance(part, ImagePart):
        if part.file_id is not None:
            return _text(f"[image file {part.file_id}]")
        url = part.url if part.data is None else data_url(part.media_type or "application/octet-stream", part.data)
        return {"type": "image_url", "image_url": {"url": url, **extra}}
    if isinstance(part, AudioPart):
        return {"type": "input_audio", "input_audio": {"data": part.data, "format": part.format, **extra}}
    if isinstance(part, FilePart):
        return _file_block(part, extra)
    return None  # thinking and tool calls have no content block in OpenAI


def _file_block(part: FilePart, extra: dict[str, Any]) -> dict[str, Any]:
    if part.text is not None:
        return _text(part.text)
    if part.url is not None:
        return _text(f"[file {part.filename or part.url}: {part.url}]")
    file: dict[str, Any] = {}
    if part.data is not None:
        file["file_data"] = data_url(part.media_type, part.data) if part.media_type else part.data
    else:
        file["file_id"] = part.file_id
    if part.filename is not None:
        file["filename"] = part.filename
    return {"type": "file", "file": {**file, **extra}}


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def _tool_call_block(call: ToolCallPart) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments},
        **meta_section(call.meta, "openai"),
    }


def _tool_result_message(result: ToolResultPart, message_meta: dict[str, Any]) -> dict[str, Any]:
    written = [_content_block(part) for part in result.content]
    omitted = _text("[non-text tool output omitted]")
    blocks = [block if block and block["type"] == "text" else omitted for block in written]
    style = result.meta.get("content_style")
    if style == "string" and len(blocks) == 1:
        content: Any = blocks[0]["text"]
    elif style in ("string", "absent") and not blocks:
        content = ""
    elif style == "string" or style == "absent":
        content = "\n".join(block["text"] for block in blocks)
    else:
        content = blocks
    out: dict[str, Any] = {"role": "tool", "tool_call_id": result.tool_call_id, "content": content}
    out.update(meta_section(message_meta, "openai"))
    return out
