"""Edit strategies: pure functions that shrink a list of native messages to fit a context window.

`apply_strategies(entries, strategies, counter)` applies each strategy in order and returns
new entries; the input (and so what is stored) is never changed. Every strategy keeps the
list as valid for the OpenAI and Anthropic APIs as it was:

- a tool result is never separated from its call (a call and its result stay or go together);
- dropping starts at a *turn*: a user message that answers no earlier tool call, so after the
  leading system messages the list still begins with a user message;
- replacing content (a tool result's output, a tool call's arguments) keeps the part, its id
  and its shape, and happens only in messages it makes cheaper, so no strategy adds tokens.

Strategies:

- `remove_tool_result`: every tool result but the newest `keep_recent_n` gets `placeholder` as its output.
- `remove_tool_call_params`: every tool call but the newest `keep_recent_n` gets `{}` as arguments.
- `token_limit`: drop the oldest turns until the list fits `limit_tokens`; the leading system
  messages always stay.
- `middle_out`: like `token_limit`, but also keep the first turn (usually the task as first
  stated) and drop the turns after it instead; if the first turn and the newest turn together
  do not fit, it behaves as `token_limit`.

A limit below the leading system messages' tokens, or below the newest turn's, raises
`InvalidArgument` (the newest turn cannot be cut without splitting a tool call from its result).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import accumulate
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from acontext_mcp.errors import InvalidArgument
from acontext_mcp.formats.native import Message, TextPart, ToolCallPart, ToolResultPart
from acontext_mcp.tokens import TokenCounter, message_tokens

P = TypeVar("P", ToolCallPart, ToolResultPart)

DEFAULT_PLACEHOLDER = "[tool result removed to save context]"


class _Strategy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # built on first use


class RemoveToolResult(_Strategy):
    type: Literal["remove_tool_result"]
    keep_recent_n: int = Field(default=3, ge=0, description="How many of the newest tool results to keep whole")
    placeholder: str = Field(
        default=DEFAULT_PLACEHOLDER, min_length=1, description="Text that replaces an older tool result (not empty)"
    )


class RemoveToolCallParams(_Strategy):
    type: Literal["remove_tool_call_params"]
    keep_recent_n: int = Field(default=3, ge=0, description="How many of the newest tool calls keep their arguments")


class TokenLimit(_Strategy):
    type: Literal["token_limit"]
    limit_tokens: int = Field(ge=1, description="Drop the oldest turns until the messages fit this many tokens")


class MiddleOut(_Strategy):
    type: Literal["middle_out"]
    limit_tokens: int = Field(ge=1, description="Keep the first turn and the newest turns that fit, drop the middle")


EditStrategy = Annotated[
    RemoveToolResult | RemoveToolCallParams | TokenLimit | MiddleOut, Field(discriminator="type")
]


@dataclass(frozen=True)
class Entry:
    """A message with its token count and its index in the unedited list."""

    message: Message
    tokens: int
    origin: int


def apply_strategies(entries: list[Entry], strategies: Sequence[EditStrategy], counter: TokenCounter) -> list[Entry]:
    """Apply `strategies` in order; raises `InvalidArgument` for a limit that cannot be met."""
    for strategy in strategies:
        if isinstance(strategy, RemoveToolResult):
            entries = _replace_parts(
                entries, ToolResultPart, strategy.keep_recent_n, counter, _placeholder(strategy.placeholder)
            )
        elif isinstance(strategy, RemoveToolCallParams):
            entries = _replace_parts(entries, ToolCallPart, strategy.keep_recent_n, counter, _no_arguments)
        elif isinstance(strategy, TokenLimit):
            entries = _token_limit(entries, strategy.limit_tokens, keep_first_turn=False)
        else:
            entries = _token_limit(entries, strategy.limit_tokens, keep_first_turn=True)
    return entries


def total_tokens(entries: list[Entry]) -> int:
    return sum(entry.tokens for entry in entries)


# ---- replacing content ---------------------------------------------------------------------


def _placeholder(text: str) -> Callable[[ToolResultPart], ToolResultPart]:
    return lambda part: part.model_copy(update={"content": [TextPart(text=text)]})


def _no_arguments(part: ToolCallPart) -> ToolCallPart:
    return part.model_copy(update={"arguments": "{}"})


def _replace_parts(
    entries: list[Entry], kind: type[P], keep_recent_n: int, counter: TokenCounter, edit: Callable[[P], P]
) -> list[Entry]:
    """Edit every part of `kind` except the newest `keep_recent_n`, in messages the edit makes cheaper."""
    positions = [
        (i, j)
        for i, entry in enumerate(entries)
        for j, part in enumerate(entry.message.parts)
        if isinstance(part, kind)
    ]
    older: dict[int, list[int]] = {}
    for i, j in positions[: max(0, len(positions) - keep_recent_n)]:
        older.setdefault(i, []).append(j)
    edited = list(entries)
    for i, indices in older.items():
        parts = list(edited[i].message.parts)
        for j in indices:
            parts[j] = edit(parts[j])  # type: ignore[arg-type]
        if parts == edited[i].message.parts:
            continue
        message = edited[i].message.model_copy(update={"parts": parts})
        tokens = message_tokens(message, counter)
        if tokens < edited[i].tokens:
            edited[i] = replace(edited[i], message=message, tokens=tokens)
    return edited


# ---- dropping turns ------------------------------------------------------------------------


def _token_limit(entries: list[Entry], limit: int, keep_first_turn: bool) -> list[Entry]:
    head = _leading_system(entries)
    system = total_tokens(entries[:head])
    if system > limit:
        raise InvalidArgument(
            f"limit_tokens {limit} is smaller than the system message ({system} tokens); "
            f"use a limit of at least {system} plus room for the conversation"
        )
    if total_tokens(entries) <= limit:
        return entries
    # suffix[k]: tokens of entries[k:]
    suffix = list(accumulate((entry.tokens for entry in reversed(entries)), initial=0))[::-1]
    cuts = [k for k in _turn_starts(entries) if k > head]
    if keep_first_turn and cuts:
        first_end = cuts[0]
        kept = system + total_tokens(entries[head:first_end])
        for start in cuts[1:]:
            if kept + suffix[start] <= limit:
                return entries[:first_end] + entries[start:]
    for start in cuts:
        if system + suffix[start] <= limit:
            return entries[:head] + entries[start:]
    newest = suffix[cuts[-1]] if cuts else suffix[head]
    raise InvalidArgument(
        f"limit_tokens {limit} is too small: the system message ({system} tokens) and the newest turn "
        f"({newest} tokens) need {system + newest}, and a turn is not split from its tool results; raise the "
        "limit, or put remove_tool_result before the limit strategy"
    )


def _leading_system(entries: list[Entry]) -> int:
    head = 0
    while head < len(entries) and entries[head].message.role == "system":
        head += 1
    return head


def _turn_starts(entries: list[Entry]) -> list[int]:
    """Indices where the list may start after a cut: user messages that no call/result pair spans."""
    calls: dict[str, int] = {}
    spanned_to = [0] * (len(entries) + 1)  # spanned_to[k] > 0: some pair (i, j) has i < k <= j
    for j, entry in enumerate(entries):
        for part in entry.message.parts:
            if isinstance(part, ToolResultPart) and (i := calls.get(part.tool_call_id)) is not None and i < j:
                spanned_to[i + 1] += 1
                spanned_to[j + 1] -= 1
        for call_id in entry.message.tool_call_ids():
            calls[call_id] = j
    open_pairs = list(accumulate(spanned_to))
    return [k for k, entry in enumerate(entries) if entry.message.role == "user" and open_pairs[k] == 0]
