"""Shape limits shared by every service that stores user JSON: nesting depth and encoded size.

Deeply nested JSON is refused on the way in, because what is stored must also be serialisable
on the way out (JSON-RPC encoders stop at a few hundred levels).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from acontext_mcp.errors import DiskFull, InvalidArgument, PayloadTooLarge
from acontext_mcp.formats.nesting import MAX_JSON_DEPTH, text_depth

MAX_INDEX = 2**31 - 1
"""The largest order, position or index an argument may name (databases store 32-bit integers)."""
MAX_PAGE = 200
"""The most sessions, events or users one page lists."""
MAX_MESSAGES_PAGE = 1000
"""The most messages one page of a session's messages holds."""

__all__ = ["MAX_INDEX", "MAX_JSON_DEPTH", "MAX_MESSAGES_PAGE", "MAX_PAGE", "check_depth", "check_text_depth",
           "encode_json_object", "freeing", "json_shape"]
T = TypeVar("T")


def json_shape(value: Any) -> tuple[int, int]:
    """How deeply lists and objects nest in `value` (a scalar is 0), and the characters of its strings.

    Iterative, and it stops counting once the depth is over `MAX_JSON_DEPTH`.
    """
    deepest, chars, stack = 0, 0, [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            chars += sum(len(key) for key in item if isinstance(key, str))
            stack += [(child, depth + 1) for child in item.values()]
        elif isinstance(item, list):
            stack += [(child, depth + 1) for child in item]
        else:
            chars += len(item) if isinstance(item, str) else 0
            deepest = max(deepest, depth)
            continue
        deepest = max(deepest, depth + 1)
        if deepest > MAX_JSON_DEPTH:
            break
    return deepest, chars


def check_depth(value: Any, field: str) -> int:
    """Raise `InvalidArgument` when `value` nests deeper than `MAX_JSON_DEPTH`; else return its string characters."""
    depth, chars = json_shape(value)
    if depth > MAX_JSON_DEPTH:
        raise InvalidArgument(f"{field}: objects or lists nested deeper than {MAX_JSON_DEPTH} levels; flatten it")
    return chars


def check_text_depth(text: str, field: str) -> None:
    """Raise `InvalidArgument` when JSON text (tool-call arguments) nests deeper than `MAX_JSON_DEPTH`."""
    if text_depth(text) > MAX_JSON_DEPTH:
        raise InvalidArgument(f"{field}: objects or lists nested deeper than {MAX_JSON_DEPTH} levels; flatten it")


def encode_json_object(value: dict[str, Any] | None, field: str, limit: int) -> str:
    """A user JSON object (metadata, meta) encoded for storage; `InvalidArgument` or `PayloadTooLarge` if unfit."""
    if value is not None and not isinstance(value, dict):
        raise InvalidArgument(f"{field} must be a JSON object")
    check_depth(value, field)
    try:
        encoded = json.dumps(value or {}, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"{field} must be JSON-serialisable: {exc}") from None
    if (size := len(encoded.encode())) > limit:
        raise PayloadTooLarge(field, size, limit, "ACONTEXT_MAX_METADATA_BYTES")
    return encoded


async def freeing(delete: Callable[[], Awaitable[T]]) -> T:
    """Run a delete; on a full disk run it once more, after the database gave up its reserve to make room."""
    try:
        return await delete()
    except DiskFull:
        return await delete()
