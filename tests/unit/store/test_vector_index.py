"""The approximate vector index of a large search table, and small spaces in it still searched exactly."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import pytest
from lancedb.embeddings import TextEmbeddingFunction, register

from acontext_mcp.store.vectors import BlockIndex, IndexedBlock, fuse

pytestmark = pytest.mark.anyio

_DIMS = 32


@register("test-hashed-words")
class HashedWords(TextEmbeddingFunction):
    """A stand-in for an embedding model: each word hashed to a dimension, the sum normalised. Texts with no
    word in common are orthogonal, so the vectors say exactly which rows are near a query."""

    def ndims(self) -> int:
        return _DIMS

    def generate_embeddings(self, texts: Any, *args: Any, **kwargs: Any) -> list[list[float]]:
        out = []
        for text in texts:
            vector = [0.0] * _DIMS
            for word in re.findall(r"\w+", str(text).lower()):
                vector[hashlib.sha256(word.encode()).digest()[0] % _DIMS] += 1.0
            norm = sum(v * v for v in vector) ** 0.5 or 1.0
            out.append([v / norm for v in vector])
        return out


def _row(block_id: str, space_id: str, text: str) -> IndexedBlock:
    return IndexedBlock(block_id=block_id, space_id=space_id, type="sop", text=text, head=text)


_WORDS = ["alpha", "beta", "gamma", "delta", "omega", "sigma", "kappa", "lambda"]


def _pair(i: int) -> tuple[str, str]:
    """The two words of row `i` of `_big`, one of the 64 pairs of `_WORDS`."""
    return _WORDS[i % 8], _WORDS[(i // 8) % 8]


def _big(count: int) -> list[IndexedBlock]:
    """`count` rows of the space "big", each two words of `_WORDS` and its number."""
    return [_row(f"big{i}", "big", " ".join([*_pair(i), str(i)])) for i in range(count)]


async def _indexed(tmp_path: Path, rows: list[IndexedBlock]) -> BlockIndex:
    """An index of `rows` large enough for its approximate vector index (2,000 rows); spaces under 100 rows are
    still searched exactly."""
    index = BlockIndex(str(tmp_path / "index"), embedding="test-hashed-words", ann_min_rows=2_000, flat_below=100)
    await index.reset(rows)
    assert await index.vector_indexed()
    return index


async def test_a_small_space_in_a_large_indexed_table_is_still_found(tmp_path: Path) -> None:
    small = [_row(f"small{i}", "small", f"zeta{i} eta{i}") for i in range(5)]
    index = await _indexed(tmp_path, _big(2_400) + small)

    # No word of the query is in the small space, so only the vectors can rank its rows; every one is returned.
    found = await index.search("small", "alpha beta", limit=5)
    assert sorted(hit.block_id for hit in found) == [f"small{i}" for i in range(5)]
    found = await index.search("small", "zeta3", limit=1)
    assert [hit.block_id for hit in found] == ["small3"]
    # The large space goes through the approximate index and still finds its nearest rows.
    found = await index.search("big", "alpha beta", limit=3)
    assert found and all(hit.block_id.startswith("big") for hit in found)


async def test_a_space_holding_most_of_the_table_still_gets_its_own_rows_when_others_are_nearer(
    tmp_path: Path,
) -> None:
    """A space of half the table or more is filtered after the approximate search; when the rows nearest the query
    are another space's, that leaves too few, and the space is searched with its filter first instead."""
    near = [_row(f"near{i}", "near", f"zeta eta theta {i}") for i in range(1_100)]
    index = await _indexed(tmp_path, _big(1_300) + near)

    found = await index.search("big", "zeta eta theta", limit=5)
    assert len(found) == 5 and all(hit.block_id.startswith("big") for hit in found)
    found = await index.search("big", "kappa omega", limit=5)
    assert len(found) == 5 and all(hit.block_id.startswith("big") for hit in found)
    assert found[0].block_id in {f"big{i}" for i in range(1_300) if set(_pair(i)) == {"kappa", "omega"}}


async def test_the_vector_index_is_built_once_the_table_is_big_enough(tmp_path: Path) -> None:
    index = BlockIndex(str(tmp_path / "index"), embedding="test-hashed-words", ann_min_rows=300, flat_below=100)
    await index.reset([_row(f"a{i}", "a", f"row {i}") for i in range(200)])
    assert not await index.vector_indexed()
    await index.replace([], [_row(f"b{i}", "a", f"more {i}") for i in range(200)])
    await index.compact()  # as the search worker does after a rebuild and every 64 writes
    assert await index.vector_indexed()
    assert [hit.block_id for hit in await index.search("a", "more 7", limit=1)] == ["b7"]


def test_fusion_trusts_the_vectors_and_rewards_agreement() -> None:
    found = fuse(["a", "b", "c", "d", "e"], ["e", "f"])
    # The vectors' first stays first; "e", last by meaning but first by words, rises to second; "f" (words only)
    # comes after everything the vectors found.
    assert [hit.block_id for hit in found] == ["a", "e", "b", "c", "d", "f"]
    assert all(earlier.score > later.score for earlier, later in zip(found, found[1:], strict=False))
    assert [hit.block_id for hit in fuse([], ["x", "y"])] == ["x", "y"]
