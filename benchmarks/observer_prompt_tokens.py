"""Prompt tokens the task agent spends on one batch: the seed scenario's 8 messages.

Runs the real pipeline (messages stored through the service, the observer's batch sent by the
real `openai` client to the scripted server) and counts the tokens of what was sent, with the
o200k_base tokenizer when `bpe-openai` is installed (`pip install -e ".[bench]"`), else
estimated as characters / 4.

    .venv/bin/python -m benchmarks.observer_prompt_tokens
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio

from acontext_mcp import AcontextService, Settings
from tests.fakes import seed
from tests.fakes.openai_server import ScriptedOpenAI


def tokenizer() -> tuple[str, Callable[[str], int]]:
    try:
        from bpe_openai import get_encoding
    except ImportError:
        return "chars/4 estimate", lambda text: len(text) // 4
    encoding = get_encoding("o200k_base")
    return "o200k_base", lambda text: len(encoding.encode(text))


async def requests_for_seed(data_dir: Path) -> list[dict[str, Any]]:
    with ScriptedOpenAI() as fake:
        settings = Settings(data_dir=data_dir, openai_base_url=fake.base_url, observer_idle_s=1000)
        async with AcontextService.open(settings) as acx:
            session = await acx.sessions.create_session()
            ids = [(await acx.messages.send_message(session.id, m)).id for m in seed.MESSAGES]
            for turn in seed.script(ids):
                fake.reply(tool_calls=turn)
            await acx.observer.flush(session.id)
        return fake.requests


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        requests = anyio.run(requests_for_seed, Path(tmp))
    name, count = tokenizer()
    raw = sum(len(json.dumps(m)) for m in seed.MESSAGES)
    first = requests[0]
    rows = [
        ("seed messages as sent by the agent (JSON, raw)", count(json.dumps(seed.MESSAGES))),
        ("system prompt", count(first["messages"][0]["content"])),
        ("tool schemas (JSON)", count(json.dumps(first["tools"]))),
        ("task list + compact transcript (user prompt)", count(first["messages"][1]["content"])),
        ("first request, all of the above", sum(count(json.dumps(x)) for x in (first["messages"], first["tools"]))),
        (f"whole batch, {len(requests)} requests", sum(count(json.dumps(r["messages"])) + count(json.dumps(r["tools"]))
                                                       for r in requests)),
    ]
    print(f"seed scenario: {len(seed.MESSAGES)} messages, {raw:,} characters as JSON; tokens by {name}\n")
    print(f"| {'what':<48} | {'tokens':>7} |\n|{'-' * 50}|{'-' * 9}|")
    for what, tokens in rows:
        print(f"| {what:<48} | {tokens:>7,} |")


if __name__ == "__main__":
    main()
