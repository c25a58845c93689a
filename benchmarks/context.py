"""Fit a 2,000-message session with tool calls into a 16k-token budget, and time get_messages.

    .venv/bin/python benchmarks/context.py [--messages 2000] [--budget 16000] [--runs 15] [--tokenizer auto]

Stores the session through an in-process MCP client on a temporary SQLite file, checks that the
edited session fits the budget and follows the OpenAI and Anthropic message rules, and prints
get_messages latency (p50, p90) with and without edit strategies as a Markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio
from mcp import Client

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from acontext_mcp import Settings  # noqa: E402
from acontext_mcp.server import build_server  # noqa: E402
from benchmarks.table import Row  # noqa: E402
from tests.support.mcp import call  # noqa: E402
from tests.support.rules import anthropic_problems, openai_problems  # noqa: E402
from tests.support.sessions import tool_session  # noqa: E402


def cases(budget: int) -> list[tuple[str, str, list[dict[str, Any]] | None]]:
    trim = [
        {"type": "remove_tool_result", "keep_recent_n": 3},
        {"type": "remove_tool_call_params", "keep_recent_n": 3},
    ]
    return [
        ("none", "openai", None),
        ("none", "anthropic", None),
        (f"token_limit {budget}", "openai", [{"type": "token_limit", "limit_tokens": budget}]),
        (f"remove_tool_result + remove_tool_call_params + token_limit {budget}", "openai",
         [*trim, {"type": "token_limit", "limit_tokens": budget}]),
        (f"remove_tool_result + remove_tool_call_params + token_limit {budget}", "anthropic",
         [*trim, {"type": "token_limit", "limit_tokens": budget}]),
        (f"remove_tool_result + middle_out {budget}", "anthropic",
         [trim[0], {"type": "middle_out", "limit_tokens": budget}]),
    ]


async def measure(messages: int, budget: int, runs: int, tokenizer: str) -> tuple[str, list[dict[str, Any]]]:
    """Store the session, then time get_messages for each case; return a headline and one dict per case."""
    settings = Settings(data_dir=Path(tempfile.mkdtemp(prefix="acontext-bench-")), tokenizer=tokenizer)  # type: ignore[arg-type]
    results = []
    async with Client(build_server(settings)) as client:
        session_id = (await call(client, "create_session"))["id"]
        session = tool_session(messages)
        started = time.perf_counter()
        for message in session:
            await call(client, "send_message", session_id=session_id, message=message)
        stored = time.perf_counter() - started
        counts = await call(client, "get_token_counts", session_id=session_id)
        calls = sum(len(m.get("tool_calls") or []) for m in session)
        headline = (f"session: {len(session)} messages, {calls} tool calls, {counts['total']} tokens "
                    f"({counts['tokenizer']}); stored in {stored:.1f} s "
                    f"({1000 * stored / len(session):.2f} ms/message)")
        for name, fmt, strategies in cases(budget):
            arguments: dict[str, Any] = {"session_id": session_id, "format": fmt}
            if strategies:
                arguments["edit_strategies"] = strategies
            times = []
            for _ in range(runs):
                started = time.perf_counter()
                page = await call(client, "get_messages", **arguments)
                times.append(1000 * (time.perf_counter() - started))
            valid = "-"
            if strategies:
                assert page["tokens_after"] <= budget, page["tokens_after"]
                other = await call(client, "get_messages", **(arguments | {"format": other_format(fmt)}))
                pages = {fmt: page, other_format(fmt): other}
                problems = openai_problems(pages["openai"]["items"]) + anthropic_problems(pages["anthropic"]["items"])
                assert problems == [], problems
                valid = "yes"
            results.append({"name": name, "format": fmt, "items": len(page["items"]), "tokens": page["tokens_after"],
                            "valid": valid, "p50": statistics.median(times),
                            "p90": statistics.quantiles(times, n=10)[-1]})
    return headline, results


def run(quick: bool = False) -> list[Row]:
    """Rows for `python -m benchmarks`: p50 per case on a 2,000-message session, 16k budget."""
    _, results = anyio.run(measure, 2000, 16000, 5 if quick else 15, "auto")
    return [
        Row("get_messages via MCP, 2000-message session", f"p50 {r['format']}, {r['name']}", r["p50"], "ms",
            "16k budget, valid for both APIs" if r["valid"] == "yes" else "",
            r["tokens"] <= 16000 if r["valid"] == "yes" else None)
        for r in results
    ]


def other_format(fmt: str) -> str:
    return "anthropic" if fmt == "openai" else "openai"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--budget", type=int, default=16000)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--tokenizer", choices=["auto", "tiktoken", "estimate"], default="auto")
    args = parser.parse_args()
    headline, results = anyio.run(measure, args.messages, args.budget, args.runs, args.tokenizer)
    print(f"{headline}\n")
    print("| edit_strategies | format | items | tokens after | valid for OpenAI + Anthropic | p50 ms | p90 ms |")
    print("|---|---|---:|---:|---|---:|---:|")
    for r in results:
        print(f"| {r['name']} | {r['format']} | {r['items']} | {r['tokens']} | {r['valid']} "
              f"| {r['p50']:.1f} | {r['p90']:.1f} |")


if __name__ == "__main__":
    main()
