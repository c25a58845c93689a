"""One row per measurement, and the timing helpers every benchmark uses."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Row:
    benchmark: str
    metric: str
    value: float
    unit: str
    goal: str = ""
    met: bool | None = None

    def markdown(self) -> str:
        verdict = "" if self.met is None else ("yes" if self.met else "**no**")
        value = f"{self.value:,.0f}" if abs(self.value) >= 100 else f"{self.value:.3g}"
        return f"| {self.benchmark} | {self.metric} | {value} {self.unit} | {self.goal} | {verdict} |"

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0-100) of samples, nearest-rank."""
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
    return ordered[index]


async def timed(action: Callable[[], Awaitable[object]]) -> float:
    start = time.perf_counter()
    await action()
    return time.perf_counter() - start


def latency_rows(benchmark: str, seconds: list[float]) -> list[Row]:
    return [
        Row(benchmark, "p50 latency", statistics.median(seconds) * 1000, "ms"),
        Row(benchmark, "p99 latency", percentile(seconds, 99) * 1000, "ms"),
    ]
