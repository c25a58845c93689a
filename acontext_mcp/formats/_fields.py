"""Small readers for provider dicts that fail with `InvalidMessage` naming the field."""

from __future__ import annotations

import re
from typing import Any

from acontext_mcp.errors import InvalidMessage

_DATA_URL = re.compile(r"data:(?P<media_type>[\w.+-]+/[\w.+-]+);base64,(?P<data>.*)", re.DOTALL)


def as_dict(value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidMessage(path, f"expected an object, got {type(value).__name__}")
    return value


def as_list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise InvalidMessage(path, f"expected a list, got {type(value).__name__}")
    return value


def req_str(obj: dict[str, Any], key: str, path: str) -> str:
    if key not in obj:
        raise InvalidMessage(join(path, key), "is required")
    return opt_str(obj, key, path)  # type: ignore[return-value]


def req_role(message: dict[str, Any], roles: list[str]) -> str:
    """The message's `role`, which must be one of `roles`."""
    role = req_str(message, "role", "")
    if role not in roles:
        raise InvalidMessage("role", f"unknown role {role!r}; expected one of {', '.join(roles)}")
    return role


def non_empty(obj: dict[str, Any], key: str, path: str) -> str:
    value = req_str(obj, key, path)
    if not value:
        raise InvalidMessage(join(path, key), "must not be empty")
    return value


def opt_str(obj: dict[str, Any], key: str, path: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise InvalidMessage(join(path, key), f"expected a string, got {type(value).__name__}")
    return value


def req_dict(obj: dict[str, Any], key: str, path: str) -> dict[str, Any]:
    if key not in obj:
        raise InvalidMessage(join(path, key), "is required")
    return as_dict(obj[key], join(path, key))


def extras(obj: dict[str, Any], known: set[str]) -> dict[str, Any]:
    """The keys of `obj` that the converter does not model, kept so the round trip is lossless."""
    return {k: v for k, v in obj.items() if k not in known}


def join(path: str, key: str | int) -> str:
    return f"{path}.{key}" if path else str(key)


def split_data_url(url: str) -> tuple[str, str] | None:
    """`data:<media_type>;base64,<data>` -> (media_type, data); None for any other URL."""
    match = _DATA_URL.fullmatch(url)
    return (match["media_type"], match["data"]) if match else None


def data_url(media_type: str, data: str) -> str:
    return f"data:{media_type};base64,{data}"


def unknown_type(path: str, kind: str, got: Any, accepted: list[str]) -> InvalidMessage:
    return InvalidMessage(join(path, "type"), f"unknown {kind} type {got!r}; expected one of {', '.join(accepted)}")
