"""The learner in a real `acontext-mcp serve --transport http` process: its queue survives a crash."""

from __future__ import annotations

from pathlib import Path

import pytest
from mcp import Client

from tests.fakes import seed
from tests.fakes.openai_server import ScriptedOpenAI
from tests.integration.test_learner import LANDING_SOP
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


async def test_seed_loop_over_http(data_dir: Path) -> None:
    """Messages in, the observer marks the task done, the learner files an SOP, a new session's paraphrase finds it."""
    router = Router()
    router.calls("extract", [("submit_sop", LANDING_SOP)])
    router.calls("place", [("create_folder", {"parent_path": "/", "title": "web"}),
                           ("create_page", {"parent_path": "/web", "title": "landing_pages"}),
                           ("place_sop", {"page_path": "/web/landing_pages"})])
    with ScriptedOpenAI(responder=router) as fake, http_server(data_dir, OPENAI_BASE_URL=fake.base_url) as server:
        async with Client(server.mcp_url) as client:
            space_id = (await call(client, "create_space", name="web agent"))["id"]
            session_id = (await call(client, "create_session", space_id=space_id))["id"]
            ids = [(await call(client, "send_message", session_id=session_id, message=m))["id"]
                   for m in seed.MESSAGES[:7]]
            router.calls("observer", *seed.script(ids))
            # The eighth message fills the observer's batch: from here on, everything runs on its own;
            # flush and flush_learning only wait for the observer, then the learner, to be done.
            await call(client, "send_message", session_id=session_id, message=seed.MESSAGES[7])
            await call(client, "flush", session_id=session_id)
            [item] = (await call(client, "flush_learning", space_id=space_id))["items"]

            assert (item["status"], item["task_description"]) == ("learned", seed.TASKS[0])
            later = (await call(client, "create_session", space_id=space_id))["id"]
            assert later != session_id
            found = await call(client, "experience_search", space_id=space_id,
                               query="I need a Tailwind landing page for a new smartphone")
            assert [(b["block_id"], b["path"], b["data"]) for b in found["cited_blocks"][:1]] == [
                (item["block_id"], "/web/landing_pages", LANDING_SOP)]
