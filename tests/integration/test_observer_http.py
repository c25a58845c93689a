"""The observer in a real `acontext-mcp serve --transport http` process, configured by env vars."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from tests.fakes import seed
from tests.fakes.openai_server import ScriptedOpenAI
from tests.support.mcp import call
from tests.support.servers import free_port, http_server

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


async def test_seed_scenario_over_http(data_dir: Path) -> None:
    """Eight messages fill the default batch of 8; the observer runs on its own, flush waits for it."""
    with ScriptedOpenAI() as fake, http_server(data_dir, OPENAI_BASE_URL=fake.base_url) as server:
        async with Client(server.mcp_url) as client:
            session_id = (await call(client, "create_session"))["id"]
            ids = [(await call(client, "send_message", session_id=session_id, message=m))["id"]
                   for m in seed.MESSAGES[:7]]
            for turn in seed.script(ids):
                fake.reply(tool_calls=turn)
            ids.append((await call(client, "send_message", session_id=session_id, message=seed.MESSAGES[7]))["id"])

            tasks = await call(client, "flush", session_id=session_id)

            assert [{k: t[k] for k in ("order", "status", "data")} for t in tasks["items"]] == seed.EXPECTED
            assert tasks["items"][0]["message_ids"] == ids[:7]
            assert await call(client, "get_tasks", session_id=session_id) == tasks
            status = await call(client, "get_observer_status")
            assert (status["enabled"], status["model"], status["tokens"]["calls"]) == (True, "gpt-4.1-mini", 3)
        assert len(fake.requests) == 3
        assert all(f"[m{k}]" in fake.requests[0]["messages"][1]["content"] for k in range(1, len(ids) + 1))


async def test_queue_survives_a_crash(data_dir: Path) -> None:
    """Messages queued when the server is killed are processed by the next server."""
    down = f"http://127.0.0.1:{free_port()}/v1"
    with http_server(data_dir, OPENAI_BASE_URL=down, ACONTEXT_OBSERVER_IDLE_S="1000") as server:
        async with Client(server.mcp_url) as client:
            session_id = (await call(client, "create_session"))["id"]
            ids = [(await call(client, "send_message", session_id=session_id,
                               message={"role": "user", "content": f"step {i} of the migration"}))["id"]
                   for i in range(3)]
            assert (await call(client, "get_observer_status"))["queue_depth"] == 3
        server.kill()

    with ScriptedOpenAI() as fake, http_server(data_dir, OPENAI_BASE_URL=fake.base_url) as server:
        fake.reply(tool_calls=[("insert_task", {"after_task_order": 0, "task_description": "Run the migration"}),
                               ("link_messages", {"task_order": 1, "message_ids": ids})])
        async with Client(server.mcp_url) as client:
            tasks = await call(client, "flush", session_id=session_id)
        assert [(t["data"]["task_description"], t["message_ids"]) for t in tasks["items"]] == [
            ("Run the migration", ids)
        ]
        assert tasks["observer"]["pending_messages"] == 0
