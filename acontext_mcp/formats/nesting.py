"""How deeply JSON text nests, measured without parsing it (a parser recurses, and can fail or crash)."""

from __future__ import annotations

import json
import re
from typing import Any

MAX_JSON_DEPTH = 64
"""The deepest nesting of lists and objects stored or converted; JSON-RPC encoders stop at a few hundred."""

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")


def text_depth(text: str) -> int:
    """The deepest bracket nesting of `text` read as JSON (brackets inside strings do not count)."""
    deepest = depth = 0
    for char in _NOT_BRACKETS.sub("", _STRINGS.sub("", text)):
        depth = depth + 1 if char in "[{" else max(depth - 1, 0)
        deepest = max(deepest, depth)
    return deepest


def loads_shallow(text: str) -> Any:
    """`json.loads(text)`, but `ValueError` for text nested deeper than `MAX_JSON_DEPTH` (never RecursionError)."""
    if text_depth(text) > MAX_JSON_DEPTH:
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
    return json.loads(text)
