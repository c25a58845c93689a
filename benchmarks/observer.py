"""Observer cost: prompt tokens the task agent sends, per batch of the seed scenario and per 100 messages.

Runs the real pipeline: messages stored through the service, batches sent by the real `openai`
client to the scripted OpenAI-compatible server, whose received requests are counted with the
project's token counter (tiktoken cl100k_base when local, else the documented estimate).

    .venv/bin/python -m benchmarks --only observer
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import anyio

from acontext_mcp import Container, Settings
from acontext_mcp.tokens import open_counter
from benchmarks.messages import conversation_message
from benchmarks.table import Row
from tests.fakes import seed
from tests.fakes.openai_server import Reply, ScriptedOpenAI, assistant

BENCH = "observer (scripted LLM)"


def one_task_per_batch(request: dict[str, Any]) -> Reply:
    """Insert a task for each batch, then finish once the tool result is back."""
    if request["messages"][-1]["role"] == "tool":
        return assistant(tool_calls=[("finish", {})])
    return assistant(tool_calls=[("insert_task", {"after_task_order": 0, "task_description": "Fix the failing test"})])


async def observe(data_dir: Path, messages: list[dict[str, Any]], fake: ScriptedOpenAI) -> None:
    settings = Settings(data_dir=data_dir, openai_base_url=fake.base_url, observer_idle_s=1000)
    async with Container.open(settings) as acx:
        session = await acx.sessions.create_session()
        ids = [(await acx.messages.send_message(session.id, m)).id for m in messages]
        if messages is seed.MESSAGES:
            for turn in seed.script(ids):
                fake.reply(tool_calls=turn)
        await acx.observer.flush(session.id, timeout_s=300)


def run(quick: bool = False) -> list[Row]:
    counter = open_counter("auto")

    def tokens(request: dict[str, Any]) -> int:
        return counter.count(json.dumps(request["messages"])) + counter.count(json.dumps(request["tools"]))

    with tempfile.TemporaryDirectory() as tmp:
        with ScriptedOpenAI() as fake:
            anyio.run(observe, Path(tmp) / "seed", seed.MESSAGES, fake)
            seed_requests = list(fake.requests)
        with ScriptedOpenAI(one_task_per_batch) as fake:
            anyio.run(observe, Path(tmp) / "hundred", [conversation_message(i) for i in range(100)], fake)
            hundred = list(fake.requests)
    raw = counter.count(json.dumps(seed.MESSAGES))
    return [
        Row(BENCH, "seed batch (8 messages) as raw JSON", raw, "tokens"),
        Row(BENCH, "seed batch: first request sent to the LLM", tokens(seed_requests[0]), "tokens",
            "a few thousand", tokens(seed_requests[0]) < 4000),
        Row(BENCH, f"prompt tokens per 100 messages ({len(hundred)} calls)", sum(map(tokens, hundred)), "tokens"),
    ]
