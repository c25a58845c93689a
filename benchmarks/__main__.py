"""`python -m benchmarks [--quick] [--only NAME ...] [--json PATH]`: run, print a Markdown table, write JSON."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
from pathlib import Path

from benchmarks.table import Row

SUITES = (
    "cold_start", "messages", "context", "search", "observer", "disks", "learner", "replicas", "acontext_sdk",
    "capture", "security", "first_block", "search_mcp",
)


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    return (f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.machine()}, "
            f"Python {platform.python_version()}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions, for a smoke run")
    parser.add_argument("--only", nargs="+", choices=SUITES, help="run these suites only")
    parser.add_argument("--json", type=Path, default=Path("benchmarks/results.json"))
    args = parser.parse_args()
    rows: list[Row] = []
    for name in args.only or SUITES:
        rows += importlib.import_module(f"benchmarks.{name}").run(args.quick)
    print(f"Machine: {machine()}\n")
    print("| benchmark | metric | value | goal | met |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(row.markdown())
    args.json.write_text(json.dumps({"machine": machine(), "rows": [r.as_dict() for r in rows]}, indent=2) + "\n")


if __name__ == "__main__":
    main()
