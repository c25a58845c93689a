"""Stored message bodies: a large body is decoded a part at a time, to the same dict as json.loads."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acontext_mcp.formats.native import parse_stored_text

LEAVES = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=12))
JSON: st.SearchStrategy[Any] = st.recursive(
    LEAVES,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)),
    max_leaves=12,
)
BODIES = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant", "system"]), "parts": st.lists(JSON, max_size=8)},
    optional={"meta": st.dictionaries(st.text(max_size=6), JSON, max_size=3), "id": JSON},
)
LAYOUTS = [{}, {"indent": 2}, {"separators": (",", ":")}, {"ensure_ascii": False}, {"indent": "\t", "sort_keys": True}]


@pytest.mark.parametrize("layout", LAYOUTS, ids=str)
@given(body=BODIES)
def test_decoded_a_part_at_a_time_equals_json_loads(layout: dict[str, Any], body: dict[str, Any]) -> None:
    text = json.dumps(body, **layout)
    assert parse_stored_text(text, large=0) == json.loads(text)


def test_parts_that_are_not_a_list_are_decoded_whole() -> None:
    text = json.dumps({"role": "user", "parts": "a"})
    assert parse_stored_text(text, large=0) == {"role": "user", "parts": "a"}


@pytest.mark.parametrize("text", ['{"role": "user", "parts": [1, 2', '["role"]', '{"role" "user"}'])
def test_broken_text_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_stored_text(text, large=0)
