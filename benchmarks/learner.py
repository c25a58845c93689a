"""Learner cost: prompt tokens to learn the seed's task, and how fast queued tasks become SOPs.

The real pipeline with a scripted OpenAI-compatible server (so the times are the learner's own
overhead: queue, SQLite, the search index, the `openai` client over loopback, not model latency).

    .venv/bin/python -m benchmarks --only learner
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio

from acontext_mcp import Container, Settings
from acontext_mcp.tokens import open_counter
from benchmarks.table import Row
from tests.fakes import seed
from tests.fakes.openai_server import ScriptedOpenAI
from tests.support.llm import Router

BENCH = "learner (scripted LLM)"
SOP = {"use_when": "Build a product landing page with Tailwind CSS", "preferences": "Plain black hero",
       "tool_sops": [{"tool_name": "write_file", "action": "write index.html"},
                     {"tool_name": "open_browser", "action": "check the page"}]}


def sop_for(n: int) -> dict[str, Any]:
    return {"use_when": f"Procedure {n}: deploy service {n} to region {n % 7}", "preferences": "",
            "tool_sops": [{"tool_name": f"tool_{n}", "action": f"run step {n}"}]}


async def learn(data_dir: Path, fake: ScriptedOpenAI, router: Router, tasks: int) -> float:
    """Learn the seed's task; then queue `tasks` succeeded tasks with no loops running, reopen, and time
    how long the learner takes to turn them all into SOPs."""
    settings = Settings(data_dir=data_dir, openai_base_url=fake.base_url, observer_idle_s=1000, llm_max_retries=0)
    async with Container.open(settings) as acx:
        space = await acx.spaces.create_space("bench")
        session = await acx.sessions.create_session(space_id=space.id)
        ids = [(await acx.messages.send_message(session.id, m)).id for m in seed.MESSAGES]
        router.calls("observer", *seed.script(ids))
        router.calls("extract", [("submit_sop", SOP)])
        router.calls("place", [("list_space", {"path": "/"})],
                     [("create_folder", {"parent_path": "/", "title": "web"}),
                      ("create_page", {"parent_path": "/web", "title": "landing_pages"})],
                     [("place_sop", {"page_path": "/web/landing_pages"})])
        await acx.observer.flush(session.id, timeout_s=300)
        await acx.learner.flush(space.id, None, timeout_s=300)
    async with Container.open(settings, background=False) as acx:
        for n in range(tasks):
            other = await acx.sessions.create_session(space_id=space.id)
            board = await acx.tasks.load_board(other.id)
            board.insert(0, f"Run job {n}")
            board.update(1, "success")
            async with acx.db.transaction() as tx:
                await board.save(tx)
            router.calls("extract", [("submit_sop", sop_for(n))], match=f"Run job {n}\n")
            router.calls("place", [("place_sop", {"page_path": "/web/landing_pages"})], match=f"Procedure {n}:")
    async with Container.open(settings) as acx:
        start = time.perf_counter()
        items = (await acx.learner.flush(space.id, None, timeout_s=600)).items
        elapsed = time.perf_counter() - start
    assert sum(i.status == "learned" for i in items) == tasks + 1, items
    return elapsed


def run(quick: bool = False) -> list[Row]:
    counter = open_counter("auto")
    tasks = 5 if quick else 30

    def tokens(request: dict[str, Any]) -> int:
        return counter.count(json.dumps(request["messages"])) + counter.count(json.dumps(request["tools"]))

    router = Router()
    with tempfile.TemporaryDirectory() as tmp, ScriptedOpenAI(responder=router) as fake:
        elapsed = anyio.run(learn, Path(tmp) / "learn", fake, router, tasks)
        requests = list(fake.requests)
    names = [{t["function"]["name"] for t in r["tools"]} for r in requests]
    extract = next(r for r, n in zip(requests, names, strict=True) if "submit_sop" in n)
    placing = [r for r, n in zip(requests, names, strict=True) if "place_sop" in n][:3]
    return [
        Row(BENCH, "seed task: extract prompt", tokens(extract), "tokens", "a few thousand", tokens(extract) < 4000),
        Row(BENCH, "seed task: 3 placement calls", sum(map(tokens, placing)), "tokens"),
        Row(BENCH, f"{tasks} queued tasks learned after a restart (concurrency 2)", round(elapsed, 2), "s"),
        Row(BENCH, "learning overhead per task", round(elapsed / tasks * 1000, 1), "ms"),
    ]
