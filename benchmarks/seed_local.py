"""The seed scenario end to end on a real model (not run by default, never in CI).

    scripts/local-model 1.5b &        # serves http://127.0.0.1:8089/v1
    .venv/bin/python -m benchmarks.seed_local --base-url http://127.0.0.1:8089/v1 [--model local]

The demo's 8 messages (an iPhone 15 Pro Max landing page, with a screenshot and long tool output)
go through the real pipeline: messages -> observer -> tasks -> learner -> a skill -> `experience_search`
from a paraphrase. Each stage prints what it produced; the run stops at the first stage that
produced nothing and ends with `PASS` or `STOPPED at <stage>: <why>` (exit status 0 or 1).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import anyio

from acontext_mcp import Container
from acontext_mcp.demo import MESSAGES
from benchmarks.learning import add_model_arguments, model_settings, model_url

PARAPHRASE = "make a marketing page for a new phone with a plain dark hero"


def stage(name: str, started: float, detail: object) -> None:
    print(f"== {name} ({time.perf_counter() - started:.0f}s)\n{json.dumps(detail, indent=2, default=str)}",
          flush=True)


async def run(args: argparse.Namespace) -> str:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp, ExitStack() as stack:
        settings = model_settings(args, model_url(args, stack), Path(tmp))
        async with Container.open(settings) as acx:
            space = await acx.spaces.create_space("seed")
            session = await acx.sessions.create_session(space_id=space.id)
            for message in MESSAGES:
                await acx.messages.send_message(session.id, message)
            stage("messages", started, {"stored": len(MESSAGES)})
            try:
                board = await acx.observer.flush(session.id, timeout_s=args.timeout)
            except Exception as exc:  # a report, not a crash
                return f"STOPPED at tasks: observer: {exc}"
            stage("tasks", started, {
                "items": [{"order": t.order, "status": t.status, **t.data.model_dump(), "messages": len(t.message_ids)}
                          for t in board.items],
                "observer": board.observer.model_dump(exclude_none=True)})
            if not any(t.status in ("success", "failed") for t in board.items):
                return "STOPPED at tasks: no task was marked success or failed, so nothing was queued to learn"
            try:
                items = (await acx.learner.flush(space.id, None, timeout_s=args.timeout)).items
            except Exception as exc:
                return f"STOPPED at learning: {exc}"
            stage("learning", started, [i.model_dump(exclude_none=True) for i in items])
            learned = [i.block_id for i in items if i.status == "learned" and i.block_id]
            if not learned:
                return "STOPPED at learning: no skill learned (" + "; ".join(
                    f"{i.status}: {i.skip_reason or i.last_error}" for i in items) + ")"
            for block_id in learned:
                block = await acx.spaces.get_block(space.id, block_id)
                stage("skill", started, {"path": block.path, "type": block.type, "data": block.data})
            hits = await acx.search.experience_search(space.id, PARAPHRASE, limit=3)
            stage("experience_search", started, {"query": PARAPHRASE,
                                                  "top3": [(c.block_id, c.path) for c in hits.cited_blocks]})
            if not set(learned) & {c.block_id for c in hits.cited_blocks}:
                return "STOPPED at search: the learned skill is not in the top 3"
            usage = await acx.db.fetch_one("SELECT COUNT(*) AS calls, COALESCE(SUM(prompt_tokens), 0) AS prompt, "
                                           "COALESCE(SUM(completion_tokens), 0) AS completion FROM llm_calls")
            assert usage is not None
            stage("cost", started, dict(usage))
    return "PASS"


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.seed_local", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_arguments(parser)
    args = parser.parse_args()
    verdict = anyio.run(run, args)
    print(verdict)
    sys.exit(0 if verdict == "PASS" else 1)


if __name__ == "__main__":
    main()
