"""Fuzzing the message converters with arbitrary JSON: every input is either read or refused
with InvalidMessage naming a field; nothing else escapes, and what is read converts to every format."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acontext_mcp.errors import InvalidMessage
from acontext_mcp.formats import FORMATS, from_native, to_native

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))
KEYS = st.sampled_from(["role", "content", "type", "text", "tool_calls", "tool_call_id", "id", "function", "name",
                        "arguments", "input", "tool_use_id", "source", "image_url", "url", "data", "media_type",
                        "thinking", "signature", "file", "parts", "is_error"])
VALUES = st.sampled_from(["user", "assistant", "system", "tool", "developer", "text", "image", "image_url",
                          "tool_use", "tool_result", "thinking", "function", "base64", "url", "tool-call", "{}"])
JSON: st.SearchStrategy[Any] = st.recursive(
    st.one_of(SCALARS, VALUES),
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=6)),
    max_leaves=25,
)
# Mostly message-shaped: a role and content of any shape, plus stray keys.
MESSAGES = st.one_of(
    JSON,
    st.builds(lambda role, content, extra: {**extra, "role": role, "content": content},
              st.sampled_from(["user", "assistant", "system", "tool", "developer"]), JSON,
              st.dictionaries(KEYS, JSON, max_size=3)),
)


@pytest.mark.parametrize("fmt", FORMATS)
@given(message=MESSAGES)
def test_any_json_is_read_or_refused_clearly(fmt: str, message: Any) -> None:
    try:
        native = to_native(message, fmt)  # type: ignore[arg-type]
    except InvalidMessage as error:
        assert str(error).startswith("invalid message")
        return
    for target in FORMATS:
        from_native([native], target)  # type: ignore[arg-type]
