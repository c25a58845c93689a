"""One row per measurement, and the timing helpers every benchmark uses."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, replace


@dataclass(frozen=True)
class Row:
    benchmark: str
    metric: str
    value: float
    unit: str
    goal: str = ""
    met: bool | None = None
    baseline: float | None = None  # the bare MCP server's figure from the same run

    @property
    def ratio(self) -> float | None:
        return None if not self.baseline else self.value / self.baseline

    def markdown(self) -> str:
        verdict = "" if self.met is None else ("yes" if self.met else "**no**")
        value = f"{self.value:,.0f}" if abs(self.value) >= 100 else f"{self.value:.3g}"
        versus = "" if self.ratio is None else f" ({self.ratio:.2f}x bare)"
        return f"| {self.benchmark} | {self.metric} | {value} {self.unit}{versus} | {self.goal} | {verdict} |"

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "ratio": self.ratio}


def beside_baseline(ours: list[Row], bare: list[Row], least: dict[str, float], most: dict[str, float]) -> list[Row]:
    """`ours` with the bare server's figure for the same metric as their baseline, then the bare rows. A metric in
    `least` must reach that ratio of the baseline (a rate), one in `most` stay within it (a latency)."""
    by_metric = {row.metric: row.value for row in bare}
    rows = []
    for row in ours:
        base = by_metric.get(row.metric)
        row = replace(row, baseline=base)
        if base and row.metric in least:
            row = replace(row, goal=f">= {least[row.metric]}x bare", met=row.value >= least[row.metric] * base)
        elif base and row.metric in most:
            row = replace(row, goal=f"<= {most[row.metric]}x bare", met=row.value <= most[row.metric] * base)
        rows.append(row)
    return rows + bare


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
