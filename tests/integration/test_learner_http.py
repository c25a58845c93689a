"""The learner in a real `acontext-mcp serve --transport http` process: its queue survives a crash."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from tests.fakes.openai_server import ScriptedOpenAI
from tests.integration.test_space_tools import STAR
from tests.support.llm import Router
from tests.support.mcp import call, eventually
from tests.support.servers import http_server

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

ENV = {"ACONTEXT_OBSERVER_IDLE_S": "1000", "ACONTEXT_LLM_MAX_RETRIES": "0"}


async def test_learning_queue_survives_a_crash(data_dir: Path) -> None:
    router = Router()
    router.when("extract", {"status": 503, "body": {"error": {"message": "overloaded"}}})
    with ScriptedOpenAI(responder=router) as fake, http_server(
        data_dir, OPENAI_BASE_URL=fake.base_url, ACONTEXT_LEARNER_RETRY_BASE_S="600", **ENV
    ) as server:
        async with Client(server.mcp_url) as client:
            space_id = (await call(client, "create_space"))["id"]
            session_id = (await call(client, "create_session", space_id=space_id))["id"]
            await call(client, "send_message", session_id=session_id,
                       message={"role": "user", "content": "Star the acontext repo"})
            router.calls("observer", [("insert_task", {"after_task_order": 0, "task_description": "Star the repo"}),
                                      ("update_task", {"task_order": 1, "status": "success"})])
            await call(client, "flush", session_id=session_id)

            async def failed_once() -> bool:
                return len((await call(client, "get_learner_status"))["retrying"]) == 1

            await eventually(failed_once, 20, "the first learning attempt to fail")
            [retrying] = (await call(client, "get_learner_status"))["retrying"]
            assert retrying["attempts"] == 1 and "HTTP 503" in retrying["last_error"]
        server.kill()

    router.calls("extract", [("submit_sop", STAR)])
    router.calls("place", [("create_page", {"parent_path": "/", "title": "github"}),
                           ("place_sop", {"page_path": "/github"})])
    with ScriptedOpenAI(responder=router, port=fake.port) as fake, http_server(
        data_dir, OPENAI_BASE_URL=fake.base_url, **ENV
    ) as server:
        async with Client(server.mcp_url) as client:
            [item] = (await call(client, "flush_learning", space_id=space_id))["items"]
            assert (item["status"], item["attempts"]) == ("learned", 1)
            block = await call(client, "get_block", space_id=space_id, block_id=item["block_id"])
            assert (block["path"], block["data"]) == ("/github", STAR)
