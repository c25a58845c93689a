"""The LanceDB search index over space blocks: BM25 full-text always, vectors when an embedder is set.

One row per searchable block: `block_id`, `space_id`, `type`, `text` and, with an embedding
provider, `vector`. LanceDB is imported on first use (it takes about a second) and its calls
are synchronous, so every call runs in a worker thread. The database stays the source of truth:
callers rebuild this index from it whenever it is missing, stale or built for another embedder.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any, TypeVar

import anyio

from acontext_mcp.errors import InvalidArgument

log = logging.getLogger(__name__)

TABLE = "blocks"
SCHEMA_VERSION = 1
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
    text: str


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


def quote(value: str) -> str:
    """A SQL string literal for a LanceDB filter."""
    return "'" + value.replace("'", "''") + "'"


class BlockIndex:
    """The index at `uri` (a directory or an object store URI).

    `embedding` names a LanceDB embedding registry provider (`openai`, `ollama`,
    `sentence-transformers`, ...) and `embedding_model` its model; without one, search is BM25 only.
    `embedding_options` go to the provider as well (e.g. `base_url` and `api_key` for `openai`).
    """

    def __init__(
        self,
        uri: str,
        embedding: str | None = None,
        embedding_model: str | None = None,
        embedding_options: Mapping[str, str] | None = None,
    ) -> None:
        self.uri = uri
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
        if self._table is not None:
            return True
        try:
            table = self._connect().open_table(TABLE)
        except ValueError:  # no such table (or one LanceDB cannot read): rebuild it
            return False
        metadata = table.schema.metadata or {}
        if json.loads(metadata.get(_SIGNATURE_KEY, b"null")) != self._signature():
            return False
        self._table = table
        return True

    def _reset(self, rows: Sequence[IndexedBlock]) -> None:
        import pyarrow as pa
        from lancedb.index import FTS, Bitmap, BTree

        fields = [pa.field(name, pa.string()) for name in ("block_id", "space_id", "type", "text")]
        if self.hybrid:
            fields.append(pa.field("vector", pa.list_(pa.float32(), self._embed_function().ndims())))
        schema = pa.schema(fields, metadata={_SIGNATURE_KEY: json.dumps(self._signature()).encode()})
        self._table = None
        records: list[dict[str, Any]] = []
        for start in range(0, len(rows), _EMBED_BATCH):  # embedders take batches
            records += self._records(rows[start : start + _EMBED_BATCH])
        db = self._connect()
        log.info("building the search index (%d blocks)", len(rows))
        table = db.create_table(TABLE, schema=schema, mode="overwrite")
        try:
            if records:
                table.add(records)  # one add, one fragment
            table.create_index("text", config=FTS(), replace=True)
            # Scalar indexes make per-block deletes and the per-space filter cheap in large indexes.
            table.create_index("block_id", config=BTree(), replace=True)
            table.create_index("space_id", config=Bitmap(), replace=True)
        except BaseException:
            db.drop_table(TABLE)  # never leave a half-built table that looks current
            raise
        self._table = table

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
            table.optimize()

    def _search(self, query: str, where: str, limit: int) -> list[Hit]:
        table = self._require_table()
        if self.hybrid:
            from lancedb.rerankers import RRFReranker

            vector = self._embed_function().compute_query_embeddings(query)[0]
            builder = (
                table.search(query_type="hybrid").vector(vector).text(query).rerank(RRFReranker())
            )
            score = "_relevance_score"
        else:
            builder = table.search(query, query_type="fts")
            score = "_score"
        results = builder.where(where, prefilter=True).limit(limit).to_list()
        return [Hit(row["block_id"], float(row[score])) for row in results]

    def _require_table(self) -> Any:
        if self._table is None:
            raise RuntimeError("the search index is not open; rebuild it from the database first")
        return self._table

    def _records(self, rows: Sequence[IndexedBlock]) -> list[dict[str, Any]]:
        records = [
            {"block_id": r.block_id, "space_id": r.space_id, "type": r.type, "text": r.text} for r in rows
        ]
        if self.hybrid and rows:
            vectors = self._embed_function().compute_source_embeddings([r.text for r in rows])
            for record, vector in zip(records, vectors, strict=True):
                record["vector"] = vector
        return records

    def _embed_function(self) -> Any:
        if self._embedder is None:
            assert self.embedding is not None, "only a hybrid index embeds"
            from lancedb.embeddings import get_registry

            registry = get_registry()
            try:
                provider = registry.get(self.embedding)
            except KeyError:
                raise InvalidArgument(
                    f"ACONTEXT_EMBEDDING={self.embedding!r} is not a LanceDB embedding provider; "
                    "use openai, ollama or sentence-transformers, or unset it for full-text search only"
                ) from None
            options = {"name": self.embedding_model} if self.embedding_model else {}
            for key, value in self.embedding_options.items():
                if key in provider.sensitive_keys():  # LanceDB takes secrets only as registry variables
                    registry.set_var(f"acontext_{key}", value)
                    value = f"$var:acontext_{key}"
                options[key] = value
            self._embedder = provider.create(**options)
        return self._embedder
