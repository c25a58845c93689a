"""Gemini API `Content` messages <-> native messages.

`to_native(message)` reads one `{role: "user" | "model", parts: [...]}` as the REST API writes it
(camelCase: `inlineData`, `functionCall`) or as `google-genai` dumps it (snake_case: `inline_data`,
`function_call`); a `role: system` message is also accepted, for stored system instructions.
`from_native(message, names)` writes one back in the same case; `names` maps tool-call ids to function
names, since a `functionResponse` names its function and a native tool result only points at its call.
gemini -> native -> gemini gives back the same dict. Calls and responses pair by `id`, so both need one.
Native parts Gemini has no place for (redacted thinking) are dropped; a provider `file_id` becomes text.
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
)
from acontext_mcp.formats.native import (
    AudioPart,
    FilePart,
    ImagePart,
    Message,
    RefusalPart,
    TextPart,
    ThinkingPart,
    ToolCallPart,
    ToolResultPart,
    message_from,
    meta_section,
    reports_invalid,
)

ROLES = ["user", "model", "system"]
_PART_KINDS = ["text", "inlineData", "fileData", "functionCall", "functionResponse"]
_SNAKE = {
    "inlineData": "inline_data", "fileData": "file_data", "functionCall": "function_call",
    "functionResponse": "function_response", "mimeType": "mime_type", "fileUri": "file_uri",
    "thoughtSignature": "thought_signature",
}
_CAMEL = {snake: camel for camel, snake in _SNAKE.items()}


# ---- Gemini -> native ----------------------------------------------------------------------


@reports_invalid
def to_native(message: Any) -> Message:
    """Read one Gemini `Content`; raise `InvalidMessage` naming the bad field."""
    message = as_dict(message, "")
    role = req_role(message, ROLES)
    items = as_list(message.get("parts"), "parts") if "parts" in message else None
    if items is None:
        raise InvalidMessage("parts", "is required")
    snake = any(isinstance(item, dict) and _uses_snake(item) for item in items)
    parts = [_part(_camel(item) if isinstance(item, dict) else item, join("parts", i)) for i, item in enumerate(items)]
    meta: dict[str, Any] = {"gemini": extras(message, {"role", "parts"}), "gemini_case": "snake" if snake else None}
    return message_from("assistant" if role == "model" else role, parts, meta)  # type: ignore[arg-type]


def _uses_snake(item: dict[str, Any]) -> bool:
    inner = [value for value in item.values() if isinstance(value, dict)]
    return any(key in _CAMEL for key in item) or any(key in _CAMEL for value in inner for key in value)


def _camel(item: dict[str, Any]) -> dict[str, Any]:
    """A part with snake_case keys (its own and its payload's) in camelCase."""
    out: dict[str, Any] = {}
    for key, value in item.items():
        if isinstance(value, dict) and _CAMEL.get(key, key) in ("inlineData", "fileData"):
            value = {_CAMEL.get(k, k): v for k, v in value.items()}
        out[_CAMEL.get(key, key)] = value
    return out


def _part(item: Any, path: str) -> Any:
    item = as_dict(item, path)
    kinds = [kind for kind in _PART_KINDS if kind in item]
    if len(kinds) != 1:
        raise InvalidMessage(path, f"a part holds exactly one of {', '.join(_PART_KINDS)}; got {kinds or 'none'}")
    kind = kinds[0]
    if kind == "text":
        text = req_str(item, "text", path)
        if item.get("thought") is True:
            return ThinkingPart(thinking=text, signature=opt_str(item, "thoughtSignature", path),
                                meta=_meta(item, {"text", "thought", "thoughtSignature"}))
        return TextPart(text=text, meta=_meta(item, {"text"}))
    if kind == "inlineData":
        return _inline(item, path)
    if kind == "fileData":
        data = req_dict(item, "fileData", path)
        inner = join(path, "fileData")
        url, media_type = req_str(data, "fileUri", inner), opt_str(data, "mimeType", inner)
        meta = _meta(item, {"fileData"}, data, {"fileUri", "mimeType"})
        if media_type is not None and media_type.startswith("image/"):
            return ImagePart(url=url, media_type=media_type, meta=meta)
        return FilePart(url=url, media_type=media_type, meta=meta)
    if kind == "functionCall":
        call = req_dict(item, "functionCall", path)
        inner = join(path, "functionCall")
        args = call.get("args")
        if args is not None and not isinstance(args, dict):
            raise InvalidMessage(join(inner, "args"), "must be an object")
        meta = _meta(item, {"functionCall"}, call, {"id", "name", "args"})
        if args is None:
            meta["args_absent"] = True
        return ToolCallPart(id=_id(call, inner, "functionCall"), name=non_empty(call, "name", inner),
                            arguments=json.dumps(args or {}, ensure_ascii=False), meta=meta)
    response = req_dict(item, "functionResponse", path)
    inner = join(path, "functionResponse")
    if not isinstance(response.get("response"), dict):
        raise InvalidMessage(join(inner, "response"), "is required and must be an object")
    meta = _meta(item, {"functionResponse"}, response, {"id", "name", "response"})
    meta["gemini_name"] = non_empty(response, "name", inner)
    return ToolResultPart(tool_call_id=_id(response, inner, "functionResponse"),
                          content=[TextPart(text=json.dumps(response["response"], ensure_ascii=False))],
                          meta={**meta, "response_json": True})


def _inline(item: dict[str, Any], path: str) -> Any:
    data = req_dict(item, "inlineData", path)
    inner = join(path, "inlineData")
    raw, media_type = req_str(data, "data", inner), req_str(data, "mimeType", inner)
    meta = _meta(item, {"inlineData"}, data, {"data", "mimeType"})
    if media_type.startswith("image/"):
        return ImagePart(data=raw, media_type=media_type, meta=meta)
    if media_type.startswith("audio/") and len(media_type) > len("audio/"):
        return AudioPart(data=raw, format=media_type.removeprefix("audio/"), meta=meta)
    return FilePart(data=raw, media_type=media_type, meta=meta)


def _id(obj: dict[str, Any], path: str, kind: str) -> str:
    if "id" not in obj:
        raise InvalidMessage(join(path, "id"), f"is required: this server pairs each {kind} with its call by id; "
                             "set the same id on the functionCall and its functionResponse")
    return non_empty(obj, "id", path)


def _meta(item: dict[str, Any], known: set[str], inner: dict[str, Any] | None = None,
          inner_known: set[str] | None = None) -> dict[str, Any]:
    """Keys the converter does not model: the part's under `gemini`, its payload's under `gemini_inner`."""
    meta: dict[str, Any] = {}
    if extra := extras(item, known):
        meta["gemini"] = extra
    if inner is not None and (extra := extras(inner, inner_known or set())):
        meta["gemini_inner"] = extra
    return meta


# ---- native -> Gemini ----------------------------------------------------------------------


def call_names(messages: list[Message]) -> dict[str, str]:
    """Tool-call id -> function name, over `messages`: what a `functionResponse` written from them names."""
    return {part.id: part.name for message in messages for part in message.parts if isinstance(part, ToolCallPart)}


def system_instruction(messages: list[Message]) -> list[dict[str, Any]] | None:
    """The parts of `systemInstruction` for these messages: their system messages' text, or None."""
    parts = [_write(part, {}) for message in messages if message.role == "system" for part in message.parts]
    return [part for part in parts if part is not None] or None


def from_native(message: Message, names: dict[str, str] | None = None) -> dict[str, Any]:
    """Write one native message as one Gemini `Content` (a system message keeps `role: system`)."""
    parts = [written for part in message.parts if (written := _write(part, names or {})) is not None]
    if message.meta.get("gemini_case") == "snake":
        parts = [_snake(part) for part in parts]
    role = "model" if message.role == "assistant" else message.role
    return {"role": role, "parts": parts, **meta_section(message.meta, "gemini")}


def _snake(part: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in part.items():
        if isinstance(value, dict) and key in ("inlineData", "fileData"):
            value = {_SNAKE.get(k, k): v for k, v in value.items()}
        out[_SNAKE.get(key, key)] = value
    return out


def _write(part: Any, names: dict[str, str]) -> dict[str, Any] | None:
    extra, inner = meta_section(part.meta, "gemini"), meta_section(part.meta, "gemini_inner")
    if isinstance(part, TextPart):
        return {"text": part.text, **extra}
    if isinstance(part, RefusalPart):
        return {"text": part.refusal, **extra}
    if isinstance(part, ThinkingPart):
        thought: dict[str, Any] = {"text": part.thinking, "thought": True}
        if part.signature is not None:
            thought["thoughtSignature"] = part.signature
        return {**thought, **extra}
    if isinstance(part, AudioPart):
        return {"inlineData": {"mimeType": f"audio/{part.format}", "data": part.data, **inner}, **extra}
    if isinstance(part, ImagePart | FilePart):
        return _write_sourced(part, extra, inner)
    if isinstance(part, ToolCallPart):
        call: dict[str, Any] = {"id": part.id, "name": part.name}
        if not (part.meta.get("args_absent") and part.arguments == "{}"):
            call["args"] = _args(part.arguments)
        return {"functionCall": {**call, **inner}, **extra}
    if isinstance(part, ToolResultPart):
        return _write_result(part, names, extra, inner)
    return None  # redacted thinking has no place in Gemini


def _write_sourced(part: ImagePart | FilePart, extra: dict[str, Any], inner: dict[str, Any]) -> dict[str, Any]:
    if isinstance(part, FilePart) and part.text is not None:
        return {"text": part.text, **extra}
    if part.data is not None:
        return {"inlineData": {"mimeType": part.media_type or "application/octet-stream", "data": part.data,
                               **inner}, **extra}
    if part.url is not None:
        data = {"fileUri": part.url, **({"mimeType": part.media_type} if part.media_type else {})}
        return {"fileData": {**data, **inner}, **extra}
    return {"text": f"[file {part.file_id}]"}


def _args(arguments: str) -> dict[str, Any]:
    """Tool-call arguments as Gemini's `args` object; text that is not a JSON object is wrapped."""
    try:
        value = json.loads(arguments) if arguments.strip() else {}
    except ValueError:
        return {"arguments": arguments}
    return value if isinstance(value, dict) else {"arguments": value}


def _write_result(
    part: ToolResultPart, names: dict[str, str], extra: dict[str, Any], inner: dict[str, Any]
) -> dict[str, Any]:
    texts = [item.text if isinstance(item, TextPart) else "[non-text tool output omitted]" for item in part.content]
    response: Any = None
    if part.meta.get("response_json") and len(texts) == 1:
        try:
            response = json.loads(texts[0])
        except ValueError:
            response = None
    if not isinstance(response, dict):
        response = {"error" if part.is_error else "output": "\n".join(texts)}
    name = part.meta.get("gemini_name") or names.get(part.tool_call_id) or part.tool_call_id
    return {"functionResponse": {"id": part.tool_call_id, "name": name, "response": response, **inner}, **extra}
