"""The native ("acontext") message: one neutral shape that OpenAI and Anthropic messages convert to.

    {"role": "system" | "user" | "assistant",
     "parts": [Part, ...],
     "meta": {"content_style": "string" | "null" | "absent",   # how `content` was written, when not a list
              "openai": {...}, "anthropic": {...}}}             # provider-only keys, restored verbatim

Part types: `text`, `image`, `audio`, `file`, `tool-call`, `tool-result`, `thinking`,
`redacted-thinking`, `refusal`. A tool result is a part of a user message (as in Anthropic);
an OpenAI `role: tool` message becomes a user message holding one `tool-result` part.
Each part's `meta` holds provider-only keys the same way (`{"openai": {"detail": "high"}}`).
Binary `data` is base64 text.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from acontext_mcp.errors import InvalidMessage

Meta = dict[str, Any]


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)  # built on first use: stdio start does not need it
    meta: Meta = Field(default_factory=dict)


class TextPart(_Part):
    type: Literal["text"] = "text"
    text: str


class RefusalPart(_Part):
    type: Literal["refusal"] = "refusal"
    refusal: str


class _Source(_Part):
    """Where binary content lives: exactly one of inline base64 `data`, a `url`, or a provider `file_id`."""

    data: str | None = None
    url: str | None = None
    file_id: str | None = None
    media_type: str | None = None

    @model_validator(mode="after")
    def _one_source(self) -> _Source:
        given = [name for name in ("data", "url", "file_id", *self._extra_sources()) if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of data, url, file_id{self._extra_names()}; got {given or 'none'}")
        return self

    def _extra_sources(self) -> tuple[str, ...]:
        return ()

    def _extra_names(self) -> str:
        return "".join(f", {name}" for name in self._extra_sources())


class ImagePart(_Source):
    type: Literal["image"] = "image"


class FilePart(_Source):
    type: Literal["file"] = "file"
    text: str | None = None
    filename: str | None = None

    def _extra_sources(self) -> tuple[str, ...]:
        return ("text",)


class AudioPart(_Part):
    type: Literal["audio"] = "audio"
    data: str
    format: str


class ToolCallPart(_Part):
    type: Literal["tool-call"] = "tool-call"
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    arguments: str = Field(description="The call's arguments as JSON text, as the model wrote them")


ResultContent = Annotated[TextPart | ImagePart | FilePart, Field(discriminator="type")]


class ToolResultPart(_Part):
    type: Literal["tool-result"] = "tool-result"
    tool_call_id: str = Field(min_length=1)
    content: list[ResultContent] = Field(default_factory=list)
    is_error: bool = False


class ThinkingPart(_Part):
    type: Literal["thinking"] = "thinking"
    thinking: str
    signature: str | None = None


class RedactedThinkingPart(_Part):
    type: Literal["redacted-thinking"] = "redacted-thinking"
    data: str


Part = Annotated[
    TextPart
    | RefusalPart
    | ImagePart
    | FilePart
    | AudioPart
    | ToolCallPart
    | ToolResultPart
    | ThinkingPart
    | RedactedThinkingPart,
    Field(discriminator="type"),
]

Role = Literal["system", "user", "assistant"]

_ALLOWED_PARTS: dict[str, frozenset[str]] = {
    "system": frozenset({"text"}),
    "user": frozenset({"text", "image", "file", "audio", "tool-result"}),
    "assistant": frozenset({"text", "refusal", "image", "file", "audio", "tool-call", "thinking", "redacted-thinking"}),
}


class Message(BaseModel):
    """A stored message in the native format."""

    model_config = ConfigDict(extra="forbid", defer_build=True)  # built on first use: stdio start does not need it

    role: Role
    parts: list[Part]
    meta: Meta = Field(default_factory=dict)

    @model_validator(mode="after")
    def _parts_fit_role(self) -> Message:
        for index, part in enumerate(self.parts):
            if part.type not in _ALLOWED_PARTS[self.role]:
                allowed = ", ".join(sorted(_ALLOWED_PARTS[self.role]))
                raise ValueError(f"parts.{index}: a {self.role} message cannot hold a {part.type!r} part ({allowed})")
        return self

    def tool_call_ids(self) -> list[str]:
        return [part.id for part in self.parts if isinstance(part, ToolCallPart)]


def _invalid(exc: ValidationError) -> InvalidMessage:
    """The first validation error as an `InvalidMessage` naming its field."""
    error = exc.errors(include_url=False)[0]
    field = ".".join(str(part) for part in error["loc"] if not str(part).startswith(("function-", "tagged-")))
    problem = error["msg"].removeprefix("Value error, ")
    if not field and ": " in problem:  # a model validator names the field itself, as "parts.0: ..."
        field, problem = problem.split(": ", 1)
    return InvalidMessage(field, problem)


F = TypeVar("F", bound=Callable[..., Message])


def reports_invalid(read: F) -> F:
    """Make a message reader raise `InvalidMessage` for pydantic validation errors too."""

    @functools.wraps(read)
    def wrapper(*args: Any, **kwargs: Any) -> Message:
        try:
            return read(*args, **kwargs)
        except ValidationError as exc:
            raise _invalid(exc) from None

    return wrapper  # type: ignore[return-value]


_PARTS = TypeAdapter(list[Part], config=ConfigDict(defer_build=True))  # as the models: built on first use
_STORED_CHUNK = 1000


_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")
_LARGE_TEXT = 1 << 20


def parse_stored_text(text: str, large: int = _LARGE_TEXT) -> dict[str, Any]:
    """A stored body's JSON text as a dict. A body of `large` characters or more has its top-level values and `parts`
    items decoded one at a time, so a message of very many parts never holds the interpreter (and every tenant's
    event loop) in one call."""
    if len(text) < large:
        return json.loads(text)
    body: dict[str, Any] = {}

    def skip(index: int, expected: str = "") -> int:
        index = _SPACE.match(text, index).end()  # type: ignore[union-attr]
        if expected:
            if text[index:index + 1] != expected:
                raise ValueError(f"stored message body: expected {expected!r} at offset {index}")
            index = _SPACE.match(text, index + 1).end()  # type: ignore[union-attr]
        return index

    index = skip(0, "{")
    while text[index:index + 1] != "}":
        key, index = _DECODER.raw_decode(text, index)
        index = skip(index, ":")
        if key == "parts" and text[index:index + 1] == "[":
            items: list[Any] = []
            index = skip(index, "[")
            while text[index:index + 1] != "]":
                item, index = _DECODER.raw_decode(text, index)
                items.append(item)
                index = skip(index)
                if text[index:index + 1] == ",":
                    index = skip(index + 1)
            body[key], index = items, index + 1
        else:
            body[key], index = _DECODER.raw_decode(text, index)
        index = skip(index)
        if text[index:index + 1] == ",":
            index = skip(index + 1)
    return body


def load_stored(body: dict[str, Any]) -> Message:
    """A message stored by this server (validated when it was written), its parts validated a chunk at a time
    so a message of very many parts never holds the interpreter (and every tenant's event loop) in one call."""
    parts = body.get("parts", [])
    if len(parts) <= _STORED_CHUNK:
        return Message.model_validate(body)
    head = Message.model_validate({**body, "parts": parts[:_STORED_CHUNK]})
    rest = [part for start in range(_STORED_CHUNK, len(parts), _STORED_CHUNK)
            for part in _PARTS.validate_python(parts[start:start + _STORED_CHUNK])]
    return Message.model_construct(role=head.role, parts=[*head.parts, *rest], meta=head.meta)


@reports_invalid
def parse_native(message: Any) -> Message:
    """Validate a native message dict; raise `InvalidMessage` naming the first bad field."""
    return Message.model_validate(message)


def message_from(role: Role, parts: list[Any], meta: Meta) -> Message:
    """Build a Message from converter output, dropping empty meta sections."""
    return Message(role=role, parts=parts, meta={k: v for k, v in meta.items() if v not in (None, {})})


def meta_section(meta: Meta, provider: str) -> dict[str, Any]:
    """The provider-only keys recorded under `meta[provider]`."""
    return dict(meta.get(provider) or {})
