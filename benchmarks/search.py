"""Experience search benchmark: latency at 1k and 10k SOP blocks, and recall@3 on paraphrased requests.

    .venv/bin/python -m benchmarks.search                 # 1k and 10k SOPs
    .venv/bin/python -m benchmarks.search --sizes 1000,10000,100000
    ACONTEXT_EMBEDDING=openai OPENAI_API_KEY=... .venv/bin/python -m benchmarks.search   # recall for hybrid too

Spaces are filled straight into SQLite (as a restore would) and indexed with one rebuild, then
timed through `SearchService.experience_search` (index query plus loading the cited blocks from
SQLite); writes are timed through `SpaceService.create_block` (SQLite plus the index update).
Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import tempfile
import time
from pathlib import Path

import anyio

from acontext_mcp import Container, Settings
from acontext_mcp.store.database import new_id, utc_now
from benchmarks.table import Row, percentile
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


async def recall(settings: Settings) -> tuple[float, float]:
    async with Container.open(settings) as service:
        space = await service.spaces.create_space("recall")
        await seed(service.spaces, space.id)
        top1 = top3 = 0
        for sop in SOPS:
            for query in sop.queries:
                found = await service.search.experience_search(space.id, query, limit=3, types=["sop"])
                got = [block.title for block in found.cited_blocks]
                top1 += got[:1] == [sop.title]
                top3 += sop.title in got
    total = 2 * len(SOPS)
    return top1 / total, top3 / total


def run(quick: bool = False) -> list[Row]:
    """Rows for `python -m benchmarks`: BM25 recall and fast-search latency at 1k, 10k and 100k SOPs."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        r1, r3 = anyio.run(recall, Settings(data_dir=Path(tmp) / "recall"))
        rows += [Row("experience_search fast (BM25)", "recall@1", r1, ""),
                 Row("experience_search fast (BM25)", "recall@3", r3, "")]
        for size in (1000,) if quick else (1000, 10_000, 100_000):
            r = anyio.run(latency, Settings(data_dir=Path(tmp) / f"lat{size}"), size, 1 if quick else 2)
            label = f"experience_search fast, {size:,} SOP blocks"
            rows += [
                Row(label, "p50", r["p50"], "ms"),
                Row(label, "p95", r["p95"], "ms", "< 50 ms at 100k" if size == 100_000 else "",
                    r["p95"] < 50 if size == 100_000 else None),
            ]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated SOP counts")
    parser.add_argument("--rounds", type=int, default=3, help="passes over the 80 queries per size")
    args = parser.parse_args()
    embedding = os.environ.get("ACONTEXT_EMBEDDING")
    modes = [("BM25", None)] + ([(f"hybrid ({embedding})", embedding)] if embedding else [])
    with tempfile.TemporaryDirectory() as tmp:
        print(f"## Recall on {len(SOPS)} SOPs and {2 * len(SOPS)} paraphrased requests\n")
        print("| mode | recall@1 | recall@3 |\n|---|---|---|")
        for name, provider in modes:
            settings = Settings.load(data_dir=Path(tmp) / f"recall-{name[:6]}", embedding=provider)
            r1, r3 = anyio.run(recall, settings)
            print(f"| {name} | {r1:.2f} | {r3:.2f} |")
        print(f"\n## Fast search latency (BM25; {os.cpu_count()} cores)\n")
        print("| SOP blocks | index build (s) | search p50 (ms) | search p95 (ms) | after 100 writes p50/p95 (ms) "
              "| create_block p50/p95 (ms) | searches |")
        print("|---|---|---|---|---|---|---|")
        for size in (int(s) for s in args.sizes.split(",")):
            r = anyio.run(latency, Settings(data_dir=Path(tmp) / f"lat{size}"), size, args.rounds)
            print(f"| {size:,} | {r['build']:.1f} | {r['p50']:.1f} | {r['p95']:.1f} | "
                  f"{r['after50']:.1f} / {r['after95']:.1f} | {r['w50']:.1f} / {r['w95']:.1f} | {r['n']} |")


if __name__ == "__main__":
    main()
