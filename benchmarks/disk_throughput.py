"""Time DiskService upserts and reads by artifact size, on the local filesystem and on memory://.

    .venv/bin/python benchmarks/disk_throughput.py
"""

from __future__ import annotations

import base64
import os
import statistics
import tempfile
import time
from pathlib import Path
from uuid import uuid4

import anyio

from acontext_mcp import AcontextService, Settings

SIZES = [1_000, 100_000, 1_000_000, 10_000_000]
ROUNDS = 10


async def measure(settings: Settings, size: int) -> tuple[float, float]:
    """Median milliseconds for one upsert (base64 content) and one get_artifact of `size` bytes."""
    content = base64.b64encode(os.urandom(size)).decode()
    async with AcontextService.open(settings) as acx:
        disk = await acx.disks.create_disk()
        writes, reads = [], []
        for _ in range(ROUNDS):
            start = time.perf_counter()
            await acx.disks.upsert_artifact(disk.id, "/bench/", "f.bin", content, "base64")
            writes.append(time.perf_counter() - start)
            start = time.perf_counter()
            await acx.disks.get_artifact(disk.id, "/bench/", "f.bin")
            reads.append(time.perf_counter() - start)
    return statistics.median(writes) * 1000, statistics.median(reads) * 1000


async def main() -> None:
    print(f"| backend | size | upsert ms (median of {ROUNDS}) | get ms |")
    print("|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for backend in ["local", "memory"]:
            for size in SIZES:
                url = f"memory://bench-{uuid4().hex}" if backend == "memory" else None
                settings = Settings(data_dir=Path(tmp) / uuid4().hex, artifact_url=url)
                write, read = await measure(settings, size)
                print(f"| {backend} | {size:,} B | {write:.1f} | {read:.1f} |")


if __name__ == "__main__":
    anyio.run(main)
