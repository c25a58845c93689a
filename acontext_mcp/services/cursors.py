"""Opaque page cursors: a kind tag and an integer position, base64url-encoded."""

from __future__ import annotations

import base64
import binascii

from acontext_mcp.errors import InvalidArgument


def encode(kind: str, position: int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{position}".encode()).decode().rstrip("=")


def decode(kind: str, cursor: str) -> int:
    """The position in `cursor`; `InvalidArgument` if this server did not issue it for `kind`."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        tag, position = text.split(":", 1)
        if tag == kind and 0 <= int(position) < 2**63:  # what a SQLite INTEGER holds
            return int(position)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise InvalidArgument(
        f"cursor {cursor!r} is not a {kind} cursor; pass next_cursor from the previous page, or omit it"
    )


def check_limit(limit: int | None, maximum: int) -> None:
    if limit is not None and not 1 <= limit <= maximum:
        raise InvalidArgument(f"limit must be between 1 and {maximum}, got {limit}")
