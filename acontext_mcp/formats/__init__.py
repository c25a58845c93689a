"""Pure converters between provider message shapes and the native format; no I/O here."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from acontext_mcp.errors import InvalidArgument
from acontext_mcp.formats import anthropic, gemini, openai
from acontext_mcp.formats.native import Message, parse_native
from acontext_mcp.formats.sequence import Arranged, arrange

Format = Literal["openai", "anthropic", "acontext", "gemini"]
FORMATS: tuple[str, ...] = get_args(Format)


def check_format(name: str) -> Format:
    if name not in FORMATS:
        raise InvalidArgument(f"unknown format {name!r}; use one of {', '.join(FORMATS)}")
    return name  # type: ignore[return-value]


def to_native(message: Any, format: Format) -> Message:
    """Read one message written in `format`; raise `InvalidMessage` naming the bad field."""
    if format == "openai":
        return openai.to_native(message)
    if format == "anthropic":
        return anthropic.to_native(message)
    if format == "gemini":
        return gemini.to_native(message)
    return parse_native(message)


@dataclass
class Written:
    """Native messages written in a format: `items[i]` came from input messages `sources[i]`,
    the first of them `origins[i]` (several when a read merged them)."""

    items: list[dict[str, Any]] = field(default_factory=list)
    origins: list[int] = field(default_factory=list)
    sources: list[list[int]] = field(default_factory=list)
    system: str | list[dict[str, Any]] | None = None


def from_native(messages: list[Message], format: Format) -> Written:
    """Write native messages in `format` (Anthropic and Gemini: system messages go to `system`).

    OpenAI and Anthropic reads are arranged so that API accepts them (formats/sequence.py)."""
    written = Written()
    names = gemini.call_names(messages) if format == "gemini" else {}
    if format in ("openai", "anthropic"):
        arranged = arrange(messages, merge=format == "anthropic")
    else:
        arranged = [Arranged(message, [index]) for index, message in enumerate(messages)]
    for entry in arranged:
        message = entry.message
        if format == "openai":
            items = openai.from_native(message)
        elif format == "gemini" and message.role == "system":
            items = []
        elif format == "anthropic":
            items = [anthropic.from_native(message)]
        elif format == "gemini":
            items = [gemini.from_native(message, names)]
        else:
            items = [message.model_dump(mode="json", exclude_none=True)]
        written.items += items
        written.origins += [entry.sources[0]] * len(items)
        written.sources += [entry.sources] * len(items)
    if format == "anthropic":
        written.system = anthropic.system_prompt(messages)
    if format == "gemini":
        written.system = gemini.system_instruction(messages)
    return written
