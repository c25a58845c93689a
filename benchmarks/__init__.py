"""Benchmarks: `python -m benchmarks` runs them all, prints a Markdown table and writes JSON.

Each module exposes `run(quick: bool) -> list[Row]`; `--only NAME` runs one.
"""
