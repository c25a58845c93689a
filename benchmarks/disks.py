"""Artifact upsert and get_artifact throughput and latency by size, through the in-process service,
on local disk and memory://.

Run with `python -m benchmarks --only disks`.
"""

from __future__ import annotations

import base64
import os
import tempfile
from pathlib import Path
from uuid import uuid4

import anyio

from acontext_mcp import Container, Settings
from benchmarks.table import Row, latency_rows, timed

SIZES = {"4 KiB": 4 * 1024, "4 MiB": 4 * 1024 * 1024}


async def measure(settings: Settings, size: int, rounds: int) -> tuple[list[float], list[float]]:
    """Seconds per upsert (base64 content, replacing the same path) and per get_artifact with content."""
    content = base64.b64encode(os.urandom(size)).decode()
    writes: list[float] = []
    reads: list[float] = []
    async with Container.open(settings) as acx:
        disk = await acx.disks.create_disk()
        for _ in range(rounds):
            writes.append(await timed(lambda: acx.disks.upsert_artifact(disk.id, "/b/", "f.bin", content, "base64")))
            reads.append(await timed(lambda: acx.disks.get_artifact(disk.id, "/b/", "f.bin")))
    return writes, reads


def run(quick: bool = False) -> list[Row]:
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp:
        for backend in ("local", "memory"):
            for label, size in SIZES.items():
                url = f"memory://bench-{uuid4().hex}" if backend == "memory" else None
                settings = Settings(data_dir=Path(tmp) / uuid4().hex, artifact_url=url)
                writes, reads = anyio.run(measure, settings, size, 5 if quick else 20)
                for action, samples in (("upsert_artifact", writes), ("get_artifact", reads)):
                    benchmark = f"{action} {label} ({backend})"
                    rows.append(Row(benchmark, "throughput", len(samples) / sum(samples), "files/s"))
                    rows.append(Row(benchmark, "throughput", len(samples) * size / sum(samples) / 2**20, "MiB/s"))
                    rows += latency_rows(benchmark, samples)
    return rows
